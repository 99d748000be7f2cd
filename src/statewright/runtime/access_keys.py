"""API access keys: created by ``statewright keys create``, checked on every request (SigV4).

SigV4 proves that the sender knows the secret by an HMAC chain keyed by the secret itself, so
the server must be able to recover each secret: it cannot keep only a hash, as it would for a
password. Secrets are therefore sealed (AES-GCM, the key id as associated data) under a server
key kept in a file outside the database (``Settings.server_key_file``, mode 0600). A copy of
the database alone (a backup, a dump) does not let anyone sign requests; the database together
with the key file does. Every API server of one database needs the same key file.

A key may be bound to an IAM role (``create(role_arn=...)``): the API then authorises every
request signed with it against that role's policies, as AWS does for a role's session. Each
deployed function gets its own key (``for_function``), bound to its execution role and made
by the server: temporary-style credentials (``SWAS`` ids, used with a session token, as
Lambda hands its functions ``AWS_SESSION_TOKEN``), replaced when the function's role changes
and deleted with the function. The session token is derived from the key's secret (an HMAC):
it proves nothing the secret does not, but requests with such a key must carry it, as AWS's
temporary credentials must.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from statewright.config import Settings
from statewright.store.base import AccessKeyRecord, Store

#: Prefix of statewright's access key ids (AWS's long-term keys start with ``AKIA``).
KEY_ID_PREFIX = "SWAK"
#: Prefix of the keys made for functions (AWS's temporary credentials start with ``ASIA``).
FUNCTION_KEY_PREFIX = "SWAS"
_SEAL_VERSION = "v1"
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class ServerKeyError(Exception):
    """The server key file is missing, unreadable or not the one that sealed the secrets."""


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "statewright" / "server.key"


def key_file(settings: Settings) -> Path:
    return Path(settings.server_key_file) if settings.server_key_file else default_key_file()


@dataclass(frozen=True, slots=True)
class Grant:
    """What a request signed with a key may do: the key's secret and its binding."""

    access_key_id: str
    secret: str
    role_arn: str | None
    """None: an administrator's key (every operation)."""
    function_name: str | None
    """Set for a function's key: requests must carry ``session_token``."""
    name: str

    @property
    def session_token(self) -> str | None:
        return session_token(self.access_key_id, self.secret) if self.function_name else None


def session_token(access_key_id: str, secret: str) -> str:
    """The session token of a function's key (derived from its secret)."""
    digest = hmac.new(secret.encode(), f"session-token:{access_key_id}".encode(),
                      hashlib.sha256).digest()
    return "SWST" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


class AccessKeys:
    """Access keys over a store; secrets sealed under the server key file."""

    def __init__(self, store: Store, settings: Settings,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.path = key_file(settings)
        self.clock = clock
        self._aead: AESGCM | None = None
        self._opened: dict[str, str] = {}  # sealed text -> secret (unsealing costs ~µs, but why)

    def create(self, name: str = "", role_arn: str | None = None,
               function_name: str | None = None) -> tuple[str, str]:
        """A new key: ``(access key id, secret access key)``. The secret is shown once.
        ``role_arn``: requests signed with it are authorised against that role."""
        existing = self.list()
        aead = self._server_key(create=not existing)
        if existing:  # one server key per database: refuse to seal under another one
            self._open(existing[0])
        prefix = FUNCTION_KEY_PREFIX if function_name is not None else KEY_ID_PREFIX
        key_id = prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        secret = secrets.token_urlsafe(30)  # 40 characters, as AWS's secrets
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, secret.encode(), key_id.encode())
        text = f"{_SEAL_VERSION}:{base64.b64encode(nonce + sealed).decode()}"
        self.store.put_access_key(AccessKeyRecord(key_id, name, text, self.clock(), role_arn,
                                                  function_name))
        return key_id, secret

    def for_function(self, function_name: str, role_arn: str) -> tuple[str, str, str]:
        """The credentials a function's workers get: ``(key id, secret, session token)``,
        bound to its execution role. Made on first need; when the function's role changed,
        a key bound to the new one replaces those bound to the old one."""
        for record in reversed(self.store.function_access_keys(function_name)):
            if record.role_arn == role_arn:
                secret = self._open(record)
                return record.access_key_id, secret, session_token(record.access_key_id,
                                                                   secret)
        key_id, secret = self.create(f"function:{function_name}", role_arn, function_name)
        # Keys bound to its former role go; another server's key for this role stays (both
        # may have made one at once, and its workers use theirs).
        self.store.delete_function_access_keys(function_name, keep_role=role_arn)
        return key_id, secret, session_token(key_id, secret)

    def forget_function(self, function_name: str) -> int:
        """Deletes a deleted function's keys: its workers' calls are refused from now."""
        return self.store.delete_function_access_keys(function_name)

    def list(self) -> list[AccessKeyRecord]:
        """Every key, the functions' keys included."""
        return self.store.list_access_keys()

    def delete(self, access_key_id: str) -> bool:
        return self.store.delete_access_key(access_key_id)

    def required(self) -> bool:
        """Whether requests must be signed: the database holds at least one key."""
        return self.store.has_access_keys()

    def secret(self, access_key_id: str) -> str | None:
        """The secret of a key, None when there is no such key. Raises ServerKeyError when
        the key exists but the server key cannot open it."""
        grant = self.grant(access_key_id)
        return None if grant is None else grant.secret

    def grant(self, access_key_id: str) -> Grant | None:
        """The key's secret and binding, None when there is no such key. Raises
        ServerKeyError when the key exists but the server key cannot open it."""
        record = self.store.get_access_key(access_key_id)
        if record is None:
            return None
        opened = self._opened.get(record.sealed_secret)
        if opened is None:
            opened = self._open(record)
            self._opened[record.sealed_secret] = opened
        return Grant(record.access_key_id, opened, record.role_arn, record.function_name,
                     record.name)

    def check_server_key(self) -> None:
        """Raises ServerKeyError unless every stored key opens with the server key."""
        for record in self.list():
            self._open(record)

    def _open(self, record: AccessKeyRecord) -> str:
        version, _, payload = record.sealed_secret.partition(":")
        if version != _SEAL_VERSION:
            raise ServerKeyError(f"access key {record.access_key_id}: unknown sealing {version}")
        raw = base64.b64decode(payload)
        try:
            plain = self._server_key(create=False).decrypt(
                raw[:12], raw[12:], record.access_key_id.encode())
        except InvalidTag:
            raise ServerKeyError(
                f"the server key file {self.path} did not seal access key "
                f"{record.access_key_id}: use the key file of the server that created it"
            ) from None
        return plain.decode()

    def _server_key(self, *, create: bool) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(_load_or_create(self.path, create))
        return self._aead


def _load_or_create(path: Path, create: bool) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise ServerKeyError(
                f"the server key file {path} is missing; the database holds access keys "
                "sealed under it (set STATEWRIGHT_SERVER_KEY_FILE to its path)") from None
        return _create(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ServerKeyError(f"cannot read the server key file {path}: {exc}") from exc
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ServerKeyError(f"the server key file {path} does not hold a 256-bit key")
    return key


def _create(path: Path) -> bytes:
    key = AESGCM.generate_key(bit_length=256)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _load_or_create(path, create=False)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(key).decode() + "\n")
    return key
