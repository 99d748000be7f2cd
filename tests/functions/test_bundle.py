"""Packages made from local files: handler files, folders and zips, with guessed runtimes."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from statewright.functions.bundle import BundleError, bundle, folder_functions, zip_folder


def names_in(code: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        return archive.namelist()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "functions"
    (root / "lib").mkdir(parents=True)
    (root / "__pycache__").mkdir()
    (root / "orders.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "notify.mjs").write_text("export const handler = async () => 1;\n")
    (root / "_shared.py").write_text("X = 1\n")
    (root / "lib" / "tax.py").write_text("RATE = 0.2\n")
    (root / "lib" / "tax.pyc").write_bytes(b"\0")
    (root / "__pycache__" / "orders.cpython-312.pyc").write_bytes(b"\0")
    (root / ".env").write_text("SECRET=1\n")
    (root / "README.txt").write_text("notes\n")
    return root


def test_a_folder_deploys_each_handler_with_the_whole_folder(folder: Path) -> None:
    found = folder_functions(folder)
    assert [(b.name, b.runtime, b.handler) for b in found] == [
        ("notify", "nodejs20.x", "notify.handler"), ("orders", "python3.12", "orders.handler")]
    assert found[0].code == found[1].code
    assert names_in(found[0].code) == ["README.txt", "_shared.py", "lib/tax.py", "notify.mjs",
                                       "orders.py"]


def test_packages_are_deterministic(folder: Path) -> None:
    first = zip_folder(folder)
    os.utime(folder / "orders.py", (1, 1))
    assert zip_folder(folder) == first


def test_executable_bits_survive(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o755)
    with zipfile.ZipFile(io.BytesIO(zip_folder(tmp_path))) as archive:
        assert archive.getinfo("run.sh").external_attr >> 16 & 0o777 == 0o755


def test_two_files_for_one_name_are_refused(folder: Path) -> None:
    (folder / "orders.js").write_text("exports.handler = async () => 1;\n")
    with pytest.raises(BundleError, match=r"orders\.js and orders\.py|orders\.py and orders\.js"):
        folder_functions(folder)


def test_a_single_file(folder: Path) -> None:
    found = bundle("shipping", folder / "notify.mjs")
    assert (found.name, found.runtime, found.handler) == ("shipping", "nodejs20.x",
                                                          "notify.handler")
    assert names_in(found.code) == ["notify.mjs"]
    assert bundle("x", folder / "orders.py", runtime="python3.11").runtime == "python3.11"


def test_a_folder_and_its_entry_point(folder: Path, tmp_path: Path) -> None:
    assert bundle("orders", folder).handler == "orders.handler"
    other = tmp_path / "node"
    other.mkdir()
    (other / "index.mjs").write_text("export const handler = async () => 1;\n")
    assert (bundle("any", other).handler, bundle("any", other).runtime) == (
        "index.handler", "nodejs20.x")
    with pytest.raises(BundleError, match="give --handler"):
        bundle("missing", folder)
    custom = bundle("missing", folder, handler="lib/tax.rate", runtime="python3.12")
    assert custom.handler == "lib/tax.rate"
    with pytest.raises(BundleError, match="give --runtime"):
        bundle("missing", folder, handler="lib/tax.rate")


def test_a_ready_zip_is_taken_as_is(folder: Path, tmp_path: Path) -> None:
    archive = tmp_path / "package.zip"
    archive.write_bytes(zip_folder(folder))
    found = bundle("orders", archive)
    assert (found.code, found.handler, found.runtime) == (
        archive.read_bytes(), "orders.handler", "python3.12")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"nope")
    with pytest.raises(BundleError, match="not a readable zip"):
        bundle("orders", broken)


def test_other_paths_are_refused(folder: Path) -> None:
    with pytest.raises(BundleError, match="no such file"):
        bundle("x", folder / "absent.py")
    with pytest.raises(BundleError, match=r"expected a \.py"):
        bundle("x", folder / "README.txt")
