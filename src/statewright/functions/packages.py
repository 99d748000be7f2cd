"""Deployment packages: a function's zip, unpacked safely into the folder its workers run in.

A zip comes from whoever may call the Lambda API, so it is untrusted input: entries may try to
escape the destination (absolute names, ``..``, symlinks) or expand without bound. Unpacking
checks every name before writing anything, counts the bytes it really writes (a zip's declared
sizes can lie), and builds the tree in a temporary sibling that is renamed into place, so a
worker never sees half a package and two threads unpacking the same code cannot collide.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

#: Lambda's quota on a function's unzipped code: 250 MB (262,144,000 bytes).
MAX_UNZIPPED_BYTES = 262_144_000
#: Ours, not Lambda's (it publishes none): a bound on inodes and on the time spent unpacking.
MAX_FILES = 20_000

_CHUNK = 1 << 20
#: What a corrupt, encrypted or self-contradictory zip raises while it is extracted.
_UNUSABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    RuntimeError,  # encrypted entries
    NotImplementedError,  # compression methods zipfile lacks
    NotADirectoryError,  # "a" as a file, then "a/b"
    FileExistsError,  # the same, found while making "a/"
    IsADirectoryError,  # "a/" as a folder, then "a" as a file
)


class PackageError(ValueError):
    """The deployment package cannot be used; the message says why, in Lambda's words."""


def code_sha256(data: bytes) -> str:
    """Lambda's ``CodeSha256`` of a package: the base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def unpack_zip(
    data: bytes,
    dest: Path,
    *,
    max_bytes: int = MAX_UNZIPPED_BYTES,
    max_files: int = MAX_FILES,
) -> Path:
    """Unpacks a zip into ``dest`` (which must not exist yet) and returns ``dest``.

    If another thread or process created ``dest`` meanwhile (the same code, unpacked into a
    content-addressed folder), its tree is kept and ours is dropped. Raises ``PackageError``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PackageError(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from exc
    with archive:
        members = _checked_members(archive, max_bytes, max_files)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            try:
                _extract(archive, members, staging, max_bytes)
            except _UNUSABLE as exc:
                raise PackageError(f"Could not unzip uploaded file: {exc}") from exc
            try:
                os.rename(staging, dest)
            except OSError:
                if not dest.is_dir():
                    raise
                shutil.rmtree(staging, ignore_errors=True)  # someone else won the race
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return dest


def _checked_members(
    archive: zipfile.ZipFile, max_bytes: int, max_files: int
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Every entry with its safe relative path; raises before anything is written."""
    infos = archive.infolist()
    if len(infos) > max_files:
        raise PackageError(f"The package has {len(infos)} entries; at most {max_files} allowed.")
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise PackageError(f"Unzipped size must be smaller than {max_bytes} bytes")
    members = []
    for info in infos:
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise PackageError(f"The package entry {info.filename!r} is a symbolic link.")
        relative = _relative_path(info.filename)
        if not relative.parts:  # "" or "./": the root itself
            if info.is_dir():
                continue
            raise PackageError("The package has a file entry without a name.")
        members.append((info, relative))
    return members


def _relative_path(name: str) -> PurePosixPath:
    # Zip names use "/" whatever the platform that made them; a backslash is an ordinary
    # character on Linux, so it cannot climb out of the destination.
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise PackageError(f"The package entry {name!r} has an absolute path.")
    if any(part == ".." for part in path.parts):
        raise PackageError(f"The package entry {name!r} points outside the package.")
    if "\0" in name:
        raise PackageError(f"The package entry {name!r} has a NUL character.")
    return path


def _extract(
    archive: zipfile.ZipFile,
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]],
    root: Path,
    max_bytes: int,
) -> None:
    written = 0
    resolved_root = root.resolve()
    for info, relative in members:
        target = root.joinpath(*relative.parts)
        # Defence in depth: the name checks above should make this impossible.
        if not target.resolve().is_relative_to(resolved_root):
            raise PackageError(f"The package entry {info.filename!r} points outside the package.")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise PackageError(f"Unzipped size must be smaller than {max_bytes} bytes")
                sink.write(chunk)
        # Keep the executable bits (bootstrap scripts, bundled binaries), never set-id bits.
        executable = (info.external_attr >> 16) & 0o111
        target.chmod(0o755 if executable else 0o644)
