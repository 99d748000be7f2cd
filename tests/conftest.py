"""Store fixtures: a SQLite file per test, and a real PostgreSQL server per session.

PostgreSQL: ``STATEWRIGHT_TEST_POSTGRES`` (a URL whose user may CREATE DATABASE) names a
server to use; otherwise the session starts a throwaway cluster of the PostgreSQL installed
under /usr/lib/postgresql (as the ``postgres`` user when running as root, since the server
refuses root), on 127.0.0.1 and a free port, with trust auth and fsync off, and removes it at
the end. When neither works the PostgreSQL tests fail, never skip: a green run must mean both
backends passed. Every test gets a fresh schema of its own in one test database.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from statewright.store.base import Store
from statewright.store.postgres import PostgresStore
from statewright.store.sqlite import SqliteStore

POSTGRES_ENV = "STATEWRIGHT_TEST_POSTGRES"
BACKENDS = ["sqlite", "postgres", "pgbouncer"]
PGBOUNCER = "/usr/sbin/pgbouncer"


@dataclass
class PostgresServer:
    """A server the tests may create databases on."""

    admin_url: str
    """A URL of its maintenance database."""
    cluster: Path | None = None
    """The temp folder of a cluster this session started (data/, log, socket); None when
    the server came from STATEWRIGHT_TEST_POSTGRES."""
    bin_dir: Path | None = None
    """The server's programs, for a cluster this session started."""
    options: str = ""
    """The server's command-line options (port, socket folder...), for restarts."""
    database: str = ""
    """The database this session made for its tests (each test gets a schema in it)."""
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, dbname: str, schema: str | None = None) -> str:
        """A URL of ``dbname``, whose connections work in ``schema`` when given."""
        parts = urllib.parse.urlsplit(self.admin_url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "options"]
        if schema is not None:
            query.append(("options", f"-csearch_path={schema}"))
        return urllib.parse.urlunsplit(
            parts._replace(path="/" + dbname, query=urllib.parse.urlencode(query))
        )

    def create_test_database(self) -> None:
        self.database = f"statewright_test_{os.getpid()}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def drop_test_database(self) -> None:
        if self.database:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def create_schema(self) -> str:
        """A new empty schema in the test database; returns a URL that works in it. A
        schema takes a millisecond where CREATE DATABASE takes a quarter second."""
        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(self.database), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return self.url(self.database, name)

    def drop_schema(self, url: str) -> None:
        options = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["options"]
        name = options.removeprefix("-csearch_path=")
        with psycopg.connect(self.url(self.database), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    @property
    def owned(self) -> bool:
        """Whether this session started the server (and so may stop and restart it)."""
        return self.cluster is not None

    def pg_ctl(self, *args: str) -> None:
        assert self.cluster is not None and self.bin_dir is not None
        _run_as_postgres(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.cluster / "data"),
                "-l",
                str(self.cluster / "log"),
                "-w",
                "-t",
                "60",
                *args,
            ]
        )

    def start(self) -> None:
        self.pg_ctl("-o", self.options, "start")

    def stop(self) -> None:
        """Stops the server, dropping every connection; ``start`` brings it back."""
        self.pg_ctl("-m", "fast", "stop")

    def destroy(self) -> None:
        if self.cluster is None:
            return
        # "fast" lets the server reap its own processes (an "immediate" stop leaves zombies
        # behind where PID 1 does not reap them); "immediate" only if that fails.
        try:
            self.pg_ctl("-m", "fast", "stop")
        except Exception:
            with contextlib.suppress(Exception):
                self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.cluster, ignore_errors=True)


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *argv]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(_quote, argv))]


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def _run_as_postgres(argv: list[str]) -> None:
    done = subprocess.run(
        _as_postgres(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _installed_bin_dir() -> Path:
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            f"`apt-get install postgresql`, or set {POSTGRES_ENV} to a server's URL"
        )
    newest = max(found, key=lambda p: int(Path(p).parent.parent.name.split(".")[0]))
    return Path(newest).parent


def _start_cluster() -> PostgresServer:
    bin_dir = _installed_bin_dir()
    cluster = Path(tempfile.mkdtemp(prefix="statewright-pg-"))
    server = PostgresServer("", cluster, bin_dir)
    try:
        if os.geteuid() == 0:
            shutil.chown(cluster, "postgres", "postgres")
        _run_as_postgres(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(cluster / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        # A free port can be taken between our probe and the server's bind: try a few.
        for attempt in range(3):
            port = _free_port()
            server.options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {cluster} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        server.admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return server
    except BaseException as exc:
        log = cluster / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        server.destroy()
        raise RuntimeError(f"{exc}\nserver log:\n{tail}") from exc


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(POSTGRES_ENV)
    try:
        server = PostgresServer(url) if url else _start_cluster()
        server.create_test_database()
    except Exception as exc:
        pytest.fail(f"no PostgreSQL server for the store tests: {exc}", pytrace=False)
    yield server
    server.drop_test_database()
    server.destroy()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty schema of its own (see ``create_schema``)."""
    url = postgres_server.create_schema()
    yield url
    postgres_server.drop_schema(url)


@dataclass
class PgBouncer:
    """A PgBouncer in transaction mode in front of the session's server (Debian's package,
    run as ``postgres`` like the server: it refuses root). Each test connects as a role of
    its own whose ``search_path`` is its schema: a transaction pooler cannot pass libpq's
    ``options`` on, and a role's settings apply to every server session the pooler opens."""

    server: PostgresServer
    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _names: Iterator[int] = field(default_factory=itertools.count)

    def start(self) -> None:
        parts = urllib.parse.urlsplit(self.server.admin_url)
        users = self.folder / "users.txt"
        users.write_text('"postgres" ""\n')
        for attempt in range(3):
            self.port = _free_port()
            ini = self.folder / "pgbouncer.ini"
            ini.write_text(
                "[databases]\n"
                f"* = host={parts.hostname} port={parts.port or 5432}\n"
                "[pgbouncer]\n"
                f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
                f"auth_type = trust\nauth_file = {users}\nauth_user = postgres\n"
                "pool_mode = transaction\nmax_client_conn = 1000\ndefault_pool_size = 20\n"
                "server_idle_timeout = 10\n"
                f"logfile = {self.folder / 'log'}\n"
            )
            if os.geteuid() == 0:
                for path in (self.folder, users, ini):
                    shutil.chown(path, "postgres", "postgres")
            # In the foreground, our child: stopped and reaped by ``stop`` (runuser passes
            # the SIGTERM on and waits for it).
            self.process = subprocess.Popen(
                _as_postgres([PGBOUNCER, str(ini)]), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while self.process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(OSError), socket.create_connection(
                        ("127.0.0.1", self.port), timeout=1):
                    return
                time.sleep(0.05)
            self.stop()
            if attempt == 2:
                log = self.folder / "log"
                raise RuntimeError("pgbouncer did not start:\n" + (
                    log.read_text(errors="replace")[-2000:] if log.exists() else ""))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def create_url(self) -> str:
        """A role and its schema in the test database; a URL through PgBouncer (with the
        ``pooler`` and ``listen_url`` options) that works in that schema."""
        name = f"b{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.server.url(self.server.database), autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{name}" LOGIN')
            conn.execute(f'ALTER ROLE "{name}" SET search_path = "{name}"')
            conn.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"')
        listen = self.server.url(self.server.database)
        query = urllib.parse.urlencode({"pooler": "transaction", "listen_url": listen})
        return (f"postgresql://{name}@127.0.0.1:{self.port}/{self.server.database}?{query}")

    def drop(self, url: str) -> None:
        name = urllib.parse.urlsplit(url).username
        with psycopg.connect(self.server.url(self.server.database), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE usename = %s", (name,))
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def pgbouncer(postgres_server: PostgresServer) -> Iterator[PgBouncer]:
    if not os.path.exists(PGBOUNCER):
        pytest.fail(f"PgBouncer is not installed ({PGBOUNCER}): `apt-get install pgbouncer`",
                    pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="statewright-pgbouncer-"))
    bouncer = PgBouncer(postgres_server, folder)
    try:
        bouncer.start()
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"no PgBouncer for the store tests: {exc}", pytrace=False)
    yield bouncer
    bouncer.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pgbouncer_url(pgbouncer: PgBouncer) -> Iterator[str]:
    """A URL through PgBouncer in transaction mode, working in a fresh schema of its own."""
    url = pgbouncer.create_url()
    yield url
    pgbouncer.drop(url)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "statewright.db"


def open_backend(backend: str, request: pytest.FixtureRequest) -> Store:
    """A migrated store of ``backend``, closed at the end of the test. Tests that need a
    second store object on the same database call it again."""
    store: Store
    if backend == "sqlite":
        store = SqliteStore(request.getfixturevalue("sqlite_path"))
    elif backend == "pgbouncer":
        store = PostgresStore(request.getfixturevalue("pgbouncer_url"))
    else:
        store = PostgresStore(request.getfixturevalue("postgres_url"))
    request.addfinalizer(store.close)
    store.migrate()
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Store:
    """The contract tests' store: each runs once per backend."""
    return open_backend(str(request.param), request)


# ----------------------------------------------------------------------------- ../shared


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With STATEWRIGHT_REQUIRE_SHARED set (CI), a skip for missing ../shared is a failure."""
    from tests.shared_data import SKIP_REASON, required

    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (report.skipped and required()):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if SKIP_REASON in reason:
        report.outcome = "failed"
        report.longrepr = (f"{reason} -- and STATEWRIGHT_REQUIRE_SHARED is set (CI): "
                           "the recorded cases must not silently drop out")
