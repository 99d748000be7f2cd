"""API access keys: created by ``statewright keys create``, checked on every request (SigV4).

SigV4 proves that the sender knows the secret by an HMAC chain keyed by the secret itself, so
the server must be able to recover each secret: it cannot keep only a hash, as it would for a
password. Secrets are therefore sealed (AES-GCM, the key id as associated data) under a server
key kept in a file outside the database (``Settings.server_key_file``, mode 0600). A copy of
the database alone (a backup, a dump) does not let anyone sign requests; the database together
with the key file does. Every API server of one database needs the same key file.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from statewright.config import Settings
from statewright.store.base import AccessKeyRecord, Store

#: Prefix of statewright's access key ids (AWS's long-term keys start with ``AKIA``).
KEY_ID_PREFIX = "SWAK"
#: The name of the key functions get (``for_functions``).
FUNCTIONS_KEY_NAME = "statewright-functions"
_SEAL_VERSION = "v1"
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class ServerKeyError(Exception):
    """The server key file is missing, unreadable or not the one that sealed the secrets."""


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "statewright" / "server.key"


def key_file(settings: Settings) -> Path:
    return Path(settings.server_key_file) if settings.server_key_file else default_key_file()


class AccessKeys:
    """Access keys over a store; secrets sealed under the server key file."""

    def __init__(self, store: Store, settings: Settings,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.path = key_file(settings)
        self.clock = clock
        self._aead: AESGCM | None = None
        self._opened: dict[str, str] = {}  # sealed text -> secret (unsealing costs ~µs, but why)

    def create(self, name: str = "") -> tuple[str, str]:
        """A new key: ``(access key id, secret access key)``. The secret is shown once."""
        existing = self.list()
        aead = self._server_key(create=not existing)
        if existing:  # one server key per database: refuse to seal under another one
            self._open(existing[0])
        key_id = KEY_ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        secret = secrets.token_urlsafe(30)  # 40 characters, as AWS's secrets
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, secret.encode(), key_id.encode())
        text = f"{_SEAL_VERSION}:{base64.b64encode(nonce + sealed).decode()}"
        self.store.put_access_key(AccessKeyRecord(key_id, name, text, self.clock()))
        return key_id, secret

    def for_functions(self) -> tuple[str, str]:
        """The key deployed functions sign their API calls with (``FUNCTIONS_KEY_NAME``),
        created on first need and shared by every worker of the database."""
        for record in self.list():
            if record.name == FUNCTIONS_KEY_NAME:
                return record.access_key_id, self._open(record)
        return self.create(FUNCTIONS_KEY_NAME)

    def list(self) -> list[AccessKeyRecord]:
        return self.store.list_access_keys()

    def delete(self, access_key_id: str) -> bool:
        return self.store.delete_access_key(access_key_id)

    def required(self) -> bool:
        """Whether requests must be signed: the database holds at least one key."""
        return self.store.has_access_keys()

    def secret(self, access_key_id: str) -> str | None:
        """The secret of a key, None when there is no such key. Raises ServerKeyError when
        the key exists but the server key cannot open it."""
        record = self.store.get_access_key(access_key_id)
        if record is None:
            return None
        opened = self._opened.get(record.sealed_secret)
        if opened is None:
            opened = self._open(record)
            self._opened[record.sealed_secret] = opened
        return opened

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
