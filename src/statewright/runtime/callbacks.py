"""Task tokens: what ``$$.Task.Token`` holds and SendTaskSuccess/Failure/Heartbeat bring back.

A token names the execution, the frame, the frame's state visit and the retry attempt, so a
token from an earlier attempt, a cancelled branch or a finished task is recognised as stale
without any lookup table.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from statewright.asl.jsonlimits import too_deep


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

    def encode(self) -> str:
        raw = json.dumps([self.execution_arn, self.frame, self.visit, self.attempt],
                         separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(text: str) -> TaskToken | None:
    """The token's parts, or None when it is not a token statewright made."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if too_deep(raw, 1):
            return None
        arn, frame, visit, attempt = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        return None
    if not (isinstance(arn, str) and all(isinstance(v, int) for v in (frame, visit, attempt))):
        return None
    return TaskToken(arn, frame, visit, attempt)
