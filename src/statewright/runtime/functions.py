"""Deployed functions as the invokers see them: a store record turned into a ``FunctionConfig``.

The code of a function lives in the database (so every worker machine can run it); an invoker
needs it as a folder. ``FunctionRegistry.resolve`` loads the record, unpacks its zip once per
``CodeSha256`` into a content-addressed folder under the cache directory, and keeps the
resulting configuration for ``ttl`` seconds. After that a cheap read without the package
checks the revision, so an update made through any API node reaches every worker within about
a second, and a change of code alone is the only thing that reads the package again.

Folders of old code stay until ``close`` (a warm worker may still run in one); a cache
directory the registry made itself is removed then.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from statewright.functions.base import FunctionConfig
from statewright.functions.packages import unpack_zip
from statewright.store.base import FunctionRecord, Store

#: How long a resolved configuration is trusted before its revision is checked again.
DEFAULT_TTL = 1.0


@dataclass(frozen=True, slots=True)
class _Entry:
    """A resolved function."""

    config: FunctionConfig
    """What the invoker gets."""
    revision_id: str
    """The record revision it was made from."""
    checked_at: float
    """When the revision was last confirmed (the registry's clock)."""


class FunctionRegistry:
    """Resolves function names to configurations with unpacked code; safe across threads."""

    def __init__(
        self,
        store: Store,
        cache_dir: Path | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``cache_dir``: where packages are unpacked (shared safely by processes on one
        machine, since folders are named by content); None: a temporary folder, made on first
        use and removed by ``close``."""
        self.store = store
        self._cache_dir = cache_dir
        self._own_dir: Path | None = None
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._finalizer: weakref.finalize[[str], FunctionRegistry] | None = None

    def resolve(self, name: str) -> FunctionConfig | None:
        """The function's configuration with its code unpacked, None when it is not deployed.
        Raises StoreError when the database fails, PackageError for a package that cannot be
        unpacked (the API refuses those at deployment)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(name)
        if entry is not None and now - entry.checked_at < self._ttl:
            return entry.config
        record = self.store.get_function(name, with_code=False)
        if record is None:
            self.forget(name)
            return None
        if entry is not None and entry.revision_id == record.revision_id:
            # The reserved concurrency is set outside revisions: taken from every read.
            config = replace(entry.config, reserved_concurrency=record.reserved_concurrency)
        else:
            code_dir = self.code_dir(record.code_sha256)
            if not code_dir.is_dir():
                full = self.store.get_function(name)
                if full is None or full.code is None:
                    self.forget(name)
                    return None
                record = full  # it may be newer than the read above: use it whole
                code_dir = self.unpack(record.code_sha256, full.code)
            config = to_config(record, code_dir)
        with self._lock:
            self._entries[name] = _Entry(config, record.revision_id, now)
        return config

    def unpack(self, code_sha256: str, code: bytes) -> Path:
        """The folder holding ``code`` unpacked, unpacking it unless it already is. Raises
        PackageError for a zip that is unusable or unsafe."""
        code_dir = self.code_dir(code_sha256)
        if code_dir.is_dir():
            return code_dir
        return unpack_zip(code, code_dir)

    def code_dir(self, code_sha256: str) -> Path:
        """Where code of this CodeSha256 is (or would be) unpacked."""
        try:
            digest = base64.b64decode(code_sha256, validate=True).hex()
        except (binascii.Error, ValueError):
            digest = hashlib.sha256(code_sha256.encode()).hexdigest()
        return self._root() / digest

    def forget(self, name: str) -> None:
        """Drops what is cached for ``name``: the next resolve reads the store (an API node
        calls it after a change, so its own invocations see the change at once)."""
        with self._lock:
            self._entries.pop(name, None)

    def close(self) -> None:
        """Removes the temporary cache directory, if the registry made one."""
        if self._finalizer is not None:
            self._finalizer()

    def _root(self) -> Path:
        if self._cache_dir is not None:
            return self._cache_dir
        with self._lock:
            if self._own_dir is None:
                self._own_dir = Path(tempfile.mkdtemp(prefix="statewright-code-"))
                # Removed at close, or when the registry is collected or the process exits.
                self._finalizer = weakref.finalize(self, _remove, str(self._own_dir))
            return self._own_dir


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def to_config(record: FunctionRecord, code_dir: Path) -> FunctionConfig:
    """The invoker's view of a stored function whose code is unpacked in ``code_dir``."""
    environment = json.loads(record.environment or "{}")
    return FunctionConfig(
        name=record.name,
        runtime=record.runtime,
        handler=record.handler,
        code_dir=code_dir,
        timeout=float(record.timeout),
        memory_mb=record.memory_size,
        environment={str(k): str(v) for k, v in environment.items()},
        code_sha256=record.code_sha256,
        role=record.role or "",
        reserved_concurrency=record.reserved_concurrency,
    )


__all__ = ["DEFAULT_TTL", "FunctionRegistry", "to_config"]
