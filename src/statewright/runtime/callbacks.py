"""Task tokens: what ``$$.Task.Token`` holds and SendTaskSuccess/Failure/Heartbeat bring back.

A token names the execution, the frame, the frame's state visit and the retry attempt, so a
token from an earlier attempt, a cancelled branch or a finished task is recognised as stale
without any lookup table. It ends in an HMAC-SHA256 tag over those parts, keyed by a random
secret that every process of one database shares (``Store.server_secret``): a token cannot be
forged or altered to point at another execution, state visit or attempt, however guessable
the parts are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from statewright.asl.jsonlimits import too_deep

#: ``Store.server_secret`` name of the token key.
TOKEN_KEY_NAME = "task-token-hmac"
#: Bytes of the HMAC tag kept in a token (128 bits).
_TAG_BYTES = 16


def new_token_key() -> str:
    """A candidate key for ``Store.server_secret`` (the stored one wins)."""
    return secrets.token_hex(32)


@dataclass(frozen=True, slots=True)
class TaskToken:
    """The parts of a task token."""

    execution_arn: str
    """The execution waiting for the callback."""
    frame: int
    """The frame (root, branch or iteration) whose Task waits."""
    visit: int
    """The frame's state-visit counter when the token was made."""
    attempt: int
    """The retry attempt (total retries so far) when the token was made."""

    def encode(self, key: bytes) -> str:
        raw = json.dumps([self.execution_arn, self.frame, self.visit, self.attempt],
                         separators=(",", ":")).encode()
        body = _b64(raw)
        return f"{body}.{_b64(_tag(key, body))}"


def decode_token(text: str, key: bytes) -> TaskToken | None:
    """The token's parts, or None when it is not a token statewright made with ``key``
    (malformed, altered or forged)."""
    body, dot, tag = text.rpartition(".")
    if not dot or not hmac.compare_digest(tag.encode(), _b64(_tag(key, body)).encode()):
        return None
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if too_deep(raw, 1):
            return None
        arn, frame, visit, attempt = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        return None
    if not (isinstance(arn, str) and all(isinstance(v, int) for v in (frame, visit, attempt))):
        return None
    return TaskToken(arn, frame, visit, attempt)


def _tag(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()[:_TAG_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
