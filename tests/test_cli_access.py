"""``statewright keys`` and ``serve``'s refusal to expose an unprotected server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import REPO, free_port, start_server, stop_and_check


def _cli(*args: str, env: dict[str, str], timeout: float = 60
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "statewright.cli", *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "STATEWRIGHT_SERVER_KEY_FILE": str(tmp_path / "key" / "server.key")}


def test_serve_refuses_a_non_loopback_address_without_a_key(
        tmp_path: Path, env: dict[str, str]) -> None:
    host = "0.0.0.0"
    done = _cli("serve", "--host", host, "--port", str(free_port()), "--db",
                f"sqlite:///{tmp_path / 'db.sqlite'}", env=env)
    assert done.returncode == 2
    assert f"refusing to serve on {host} without access keys" in done.stderr
    assert "statewright keys create" in done.stderr and "--insecure-no-auth" in done.stderr


def test_insecure_no_auth_serves_anyway_with_a_warning(tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    process, running = start_server(tmp_path, None, env=env,
                                    args=["--host", "0.0.0.0", "--insecure-no-auth"])
    stop_and_check(process, running)
    assert "warning: serving on 0.0.0.0 with no access key" in running.log.read_text()


def test_keys_create_list_delete(tmp_path: Path, env: dict[str, str]) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    created = _cli("keys", "create", "--name", "laptop", "--db", db, env=env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["AccessKeyId"].startswith("SWAK") and len(key["SecretAccessKey"]) == 40
    key_file = Path(env["STATEWRIGHT_SERVER_KEY_FILE"])
    assert key_file.stat().st_mode & 0o777 == 0o600
    # The database holds the secret sealed, not in the clear.
    assert key["SecretAccessKey"].encode() not in (tmp_path / "db.sqlite").read_bytes()
    listed = _cli("keys", "list", "--db", db, env=env)
    assert json.loads(listed.stdout)["AccessKeyId"] == key["AccessKeyId"]
    assert json.loads(listed.stdout)["Name"] == "laptop"
    assert key["SecretAccessKey"] not in listed.stdout
    assert _cli("keys", "delete", "SWAKNONE", "--db", db, env=env).returncode == 2
    assert _cli("keys", "delete", key["AccessKeyId"], "--db", db, env=env).returncode == 0
    assert _cli("keys", "list", "--db", db, env=env).stdout == ""


def test_serve_refuses_to_start_without_the_key_file_that_sealed_the_keys(
        tmp_path: Path, env: dict[str, str]) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert _cli("keys", "create", "--db", db, env=env).returncode == 0
    other = {**env, "STATEWRIGHT_SERVER_KEY_FILE": str(tmp_path / "elsewhere.key")}
    done = _cli("serve", "--port", str(free_port()), "--db", db, env=other)
    assert done.returncode == 2
    assert "server key file" in done.stderr and "is missing" in done.stderr
    # keys create will not seal a second key under another server key.
    done = _cli("keys", "create", "--db", db, env=other)
    assert done.returncode == 2 and "is missing" in done.stderr
    Path(other["STATEWRIGHT_SERVER_KEY_FILE"]).write_text("AAAA\n")
    done = _cli("serve", "--port", str(free_port()), "--db", db, env=other)
    assert done.returncode == 2 and "does not hold a 256-bit key" in done.stderr
    Path(other["STATEWRIGHT_SERVER_KEY_FILE"]).write_text(base64.b64encode(bytes(32)).decode())
    done = _cli("keys", "create", "--db", db, env=other)
    assert done.returncode == 2 and "did not seal access key" in done.stderr


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.0.2.10", False),
    ("example.internal", False),
])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    from statewright.cli import _is_loopback

    assert _is_loopback(host) is loopback
