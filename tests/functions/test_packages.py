"""Deployment packages: unpacking untrusted zips safely, and Lambda's CodeSha256."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from statewright.functions.packages import PackageError, code_sha256, unpack_zip


def make_zip(
    *entries: tuple[str, bytes] | zipfile.ZipInfo | tuple[zipfile.ZipInfo, bytes],
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, b"")
            else:
                archive.writestr(entry[0], entry[1])
    return buffer.getvalue()


def with_mode(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def leftovers(parent: Path) -> list[str]:
    return sorted(path.name for path in parent.iterdir()) if parent.exists() else []


def test_a_package_is_unpacked_with_its_folders_and_executable_bits(tmp_path: Path) -> None:
    data = make_zip(
        ("app.py", b"def handler(e, c):\n    return 1\n"),
        ("lib/helpers/util.py", b"X = 1\n"),
        (with_mode("bin/tool", stat.S_IFREG | 0o4755), b"#!/bin/sh\n"),
        zipfile.ZipInfo("empty/"),
    )
    dest = unpack_zip(data, tmp_path / "code")
    assert (dest / "app.py").read_bytes().startswith(b"def handler")
    assert (dest / "lib/helpers/util.py").read_text() == "X = 1\n"
    assert (dest / "empty").is_dir()
    assert stat.S_IMODE((dest / "bin/tool").stat().st_mode) == 0o755  # set-uid dropped
    assert stat.S_IMODE((dest / "app.py").stat().st_mode) == 0o644
    assert leftovers(tmp_path) == ["code"]  # no staging folder left behind


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("../escape.py", "points outside the package"),
        ("lib/../../escape.py", "points outside the package"),
        ("/etc/cron.d/evil", "absolute path"),
        ("C:/windows/evil", "absolute path"),
    ],
)
def test_names_that_leave_the_folder_are_refused(tmp_path: Path, name: str, complaint: str) -> None:
    data = make_zip(("ok.py", b"1"), (name, b"evil"))
    with pytest.raises(PackageError, match=complaint):
        unpack_zip(data, tmp_path / "pkg" / "code")
    assert leftovers(tmp_path / "pkg") == []  # refused before anything was written
    assert not (tmp_path / "escape.py").exists()


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    link = with_mode("passwd", stat.S_IFLNK | 0o777)
    data = make_zip(("ok.py", b"1"), (link, b"/etc/passwd"))
    with pytest.raises(PackageError, match="symbolic link"):
        unpack_zip(data, tmp_path / "code")
    assert leftovers(tmp_path) == []


def test_the_unzipped_size_is_limited(tmp_path: Path) -> None:
    # A small zip that expands far (a zip bomb, in miniature): 4 MiB of zeros.
    bomb = make_zip(("zeros.bin", bytes(4 << 20)))
    assert len(bomb) < 10_000
    with pytest.raises(PackageError, match="Unzipped size must be smaller than 1048576 bytes"):
        unpack_zip(bomb, tmp_path / "code", max_bytes=1 << 20)
    assert leftovers(tmp_path) == []


def test_lying_sizes_are_caught_while_writing(tmp_path: Path) -> None:
    # The declared sizes add up within the limit but are false: refused while extracting
    # (by zipfile's CRC check, or by our count of the bytes really written).
    data = bytearray(make_zip(("a.bin", bytes(3000))))
    header = data.index(b"PK\x01\x02")  # central directory entry: declared size at +24
    data[header + 24 : header + 28] = (100).to_bytes(4, "little")
    with pytest.raises(PackageError):
        unpack_zip(bytes(data), tmp_path / "code", max_bytes=1000)
    assert leftovers(tmp_path) == []


def test_the_file_count_is_limited(tmp_path: Path) -> None:
    data = make_zip(*[(f"f{i}.txt", b"") for i in range(11)])
    with pytest.raises(PackageError, match="11 entries; at most 10"):
        unpack_zip(data, tmp_path / "code", max_files=10)


def test_not_a_zip_is_refused_in_lambdas_words(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="Could not unzip uploaded file"):
        unpack_zip(b"definitely not a zip", tmp_path / "code")


def test_a_file_where_a_folder_must_be_is_refused(tmp_path: Path) -> None:
    data = make_zip(("lib", b"a file"), ("lib/app.py", b"1"))
    with pytest.raises(PackageError, match="Could not unzip"):
        unpack_zip(data, tmp_path / "code")
    assert leftovers(tmp_path) == []


def test_concurrent_unpacks_of_the_same_code_both_succeed(tmp_path: Path) -> None:
    data = make_zip(*[(f"m{i}.py", b"x = 1\n" * 1000) for i in range(50)])
    dest = tmp_path / code_sha256(data).replace("/", "_")
    errors: list[BaseException] = []

    def unpack() -> None:
        try:
            unpack_zip(data, dest)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=unpack) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(dest.iterdir())) == 50
    assert leftovers(tmp_path) == [dest.name]


def test_code_sha256_is_lambdas_base64_digest() -> None:
    data = make_zip(("app.py", b"1"))
    assert code_sha256(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert len(code_sha256(data)) == 44
