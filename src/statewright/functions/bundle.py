"""Deployment packages made from local files, for ``statewright functions deploy`` and
``--functions DIR``: a handler file, a folder or a ready zip, with the runtime and handler
guessed from file names the way Lambda's console names them.

A package is built deterministically (sorted entries, fixed timestamps), so the same files
always give the same CodeSha256 and deploying them again changes nothing.

What a folder deploy packages: every function of ``--functions DIR`` gets the whole folder
(hidden files, ``__pycache__`` and ``*.pyc`` left out), so handlers can import the modules and
``node_modules`` beside them, as they would from a Lambda package built from that folder.
The functions share one package, which is unpacked once.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: The runtime a handler file's suffix implies (the newest long-supported of each language).
RUNTIME_BY_SUFFIX = {
    ".py": "python3.12",
    ".mjs": "nodejs20.x",
    ".js": "nodejs20.x",
    ".cjs": "nodejs20.x",
}
#: Conventional entry points of a package without a file named after the function.
_CONVENTIONS = (("index", "handler"), ("lambda_function", "lambda_handler"))
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = {"__pycache__"}


class BundleError(ValueError):
    """The files cannot make a package; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """A function ready to deploy."""

    name: str
    """The function name."""
    runtime: str
    """Lambda's runtime identifier."""
    handler: str
    """``file.function``."""
    code: bytes
    """The zip."""


def bundle(name: str, path: Path, runtime: str | None = None, handler: str | None = None
           ) -> Bundle:
    """The package for function ``name`` from a handler file, a folder or a zip."""
    if not path.exists():
        raise BundleError(f"{path}: no such file or folder")
    if path.is_dir():
        code = zip_folder(path)
        names = {p.name for p in path.iterdir() if p.is_file()}
    elif path.suffix == ".zip":
        try:
            code = path.read_bytes()
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                names = {n for n in archive.namelist() if "/" not in n.rstrip("/")}
        except (OSError, zipfile.BadZipFile) as exc:
            raise BundleError(f"{path}: not a readable zip ({exc})") from exc
    elif path.suffix in RUNTIME_BY_SUFFIX:
        code = zip_entries([(path.name, path)])
        names = {path.name}
        handler = handler or f"{path.stem}.handler"
    else:
        raise BundleError(f"{path}: expected a .py, .mjs, .js or .cjs file, a folder or a .zip")
    handler = handler or _entry_point(name, names)
    if handler is None:
        raise BundleError(
            f"{path}: no {name}.py, {name}.mjs, index.mjs or lambda_function.py found; "
            "give --handler FILE.FUNCTION")
    runtime = runtime or _runtime_of(handler, names)
    if runtime is None:
        raise BundleError(f"{path}: cannot tell the runtime of handler {handler!r}; "
                          "give --runtime (python3.12, nodejs20.x...)")
    return Bundle(name, runtime, handler, code)


def handler_files(folder: Path) -> list[Path]:
    """The handler files of ``folder``, by name; files starting with ``_`` or ``.`` are
    helpers, not functions. Raises BundleError when two files define the same function."""
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix in RUNTIME_BY_SUFFIX
                   and not p.name.startswith(("_", ".")))
    seen: dict[str, Path] = {}
    for file in files:
        if file.stem in seen:
            raise BundleError(f"{seen[file.stem].name} and {file.name} both define the "
                              f"function {file.stem}; keep one")
        seen[file.stem] = file
    return files


def folder_functions(folder: Path) -> list[Bundle]:
    """Every handler file of ``folder`` (``NAME.py`` -> python3.12 ``NAME.handler``,
    ``NAME.mjs``/``.js``/``.cjs`` -> nodejs20.x), each packaged with the whole folder.
    Files starting with ``_`` or ``.`` are helpers, not functions."""
    files = handler_files(folder)
    if not files:
        return []
    code = zip_folder(folder)
    return [Bundle(f.stem, RUNTIME_BY_SUFFIX[f.suffix], f"{f.stem}.handler", code)
            for f in files]


def zip_folder(folder: Path) -> bytes:
    """The folder as a zip, its contents at the root."""
    entries: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for file in sorted(files):
            if file.startswith(".") or file.endswith(".pyc"):
                continue
            path = Path(root) / file
            if path.is_file():
                entries.append((path.relative_to(folder).as_posix(), path))
    return zip_entries(entries)


def zip_entries(entries: list[tuple[str, Path]]) -> bytes:
    """A zip of ``(name in the zip, file)`` pairs; the same files always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _entry_point(name: str, names: set[str]) -> str | None:
    """The handler a package's root files suggest."""
    for stem, function in ((name, "handler"), *_CONVENTIONS):
        if any(f"{stem}{suffix}" in names for suffix in RUNTIME_BY_SUFFIX):
            return f"{stem}.{function}"
    return None


def _runtime_of(handler: str, names: set[str]) -> str | None:
    """The runtime of the file a handler names (``dir/mod.fn`` is ``dir/mod.py``...)."""
    module = PurePosixPath(handler.rpartition(".")[0]).name
    for suffix, runtime in RUNTIME_BY_SUFFIX.items():
        if f"{module}{suffix}" in names:
            return runtime
    return None
