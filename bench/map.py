"""A durable Map over N items: the time and bytes written per item stay flat as N grows.

Run from the repository root::

    .venv/bin/python bench/map.py [--sizes 100,1000,3000] [--postgres [URL]]
                                  [--peer-src /work/main/src] [--peer-sizes 100,300]

Each run starts one STANDARD execution of an inline Map over N items whose iteration is a
Task calling the function ``echo`` (a Python handler returning its event, run in-process by
``PythonFunctions``), then a ``Worker`` (8 threads, the ``statewright worker`` default) drains
it in this process; the time runs from StartExecution to the last commit. Measured per run:

- wall seconds, and the process's CPU seconds;
- bytes written: on SQLite the bytes the process handed to write(2) (``wchar`` in
  /proc/self/io: WAL pages and checkpoints), on PostgreSQL the WAL the server generated
  (``pg_current_wal_lsn`` before and after).

Every size runs in a fresh subprocess and a fresh database. ``--peer-src`` runs the same
script against another statewright source tree (``PYTHONPATH``) in the same run: the release
before frame rows (one cursor holding every frame, rewritten by every step) is the peer, and
only for ``--peer-sizes`` (it is quadratic: 1,000 items took 89 s). bench/README.md records
the figures with the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"


def definition() -> str:
    return json.dumps({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map", "ItemsPath": "$.items", "End": True,
            "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {
                "Type": "Task", "Resource": FUNCTION_ARN, "End": True}}},
        }},
    })


def _wchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def _wal_lsn(admin_url: str | None) -> int:
    if admin_url is None:
        return 0
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    return int(row[0]) if row else 0


def run_one(size: int, db: str, admin_url: str | None) -> dict[str, Any]:
    """One measurement in this process (the ``--run-one`` mode)."""
    from statewright.config import Settings
    from statewright.functions.inprocess import PythonFunctions
    from statewright.runtime.engine import Engine
    from statewright.runtime.worker import Worker
    from statewright.store import open_store

    store = open_store(db)
    store.migrate()
    engine = Engine(store, Settings(wait_scale=0.0))
    functions = PythonFunctions()
    functions.register("echo", lambda event, context: event)
    machine = engine.create_state_machine("map", definition())
    worker = Worker(engine, functions, threads=8, poll_seconds=0.05)
    data = json.dumps({"items": [{"n": i} for i in range(size)]})
    written, wal = _wchar(), _wal_lsn(admin_url)
    cpu, began = time.process_time(), time.monotonic()
    arn = engine.start_execution(machine.arn, data, "run").execution_arn
    try:
        worker.drain(time.monotonic() + 3600)
    finally:
        worker.stop()
    seconds, cpu = time.monotonic() - began, time.process_time() - cpu
    written = _wchar() - written if admin_url is None else _wal_lsn(admin_url) - wal
    record = engine.describe_execution(arn)
    output = json.loads(record.output or "null")
    events = engine.get_history(arn, 1000, None, reverse=True).items[0].id
    store.close()
    return {
        "size": size, "status": record.status, "seconds": seconds, "cpu": cpu,
        "bytes": written, "events": events,
        "output_ok": output == [{"n": i} for i in range(size)],
    }


def _subprocess(src: Path, size: int, db: str, admin_url: str | None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--run-one", str(size), "--db", db]
    if admin_url:
        argv += ["--admin-url", admin_url]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{src} N={size} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextlib.contextmanager
def _postgres(url: str | None) -> Any:
    sys.path.insert(0, str(REPO / "bench"))
    from durable import postgres_server

    with postgres_server(url) as server:
        yield server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--postgres", nargs="?", const="", default=None, metavar="URL",
                        help="also on PostgreSQL (no URL: a throwaway cluster)")
    parser.add_argument("--peer-src", type=Path, default=None,
                        help="another statewright source tree to run beside this one")
    parser.add_argument("--peer-sizes", default="100,300")
    parser.add_argument("--run-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--admin-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one is not None:
        print(json.dumps(run_one(args.run_one, args.db, args.admin_url)))
        return 0

    sizes = [int(n) for n in args.sizes.split(",")]
    peer_sizes = [int(n) for n in args.peer_sizes.split(",")] if args.peer_src else []
    runs: list[tuple[str, str, Path, list[int]]] = [("statewright (this tree)", "SQLite",
                                                     REPO / "src", sizes)]
    if args.peer_src:
        runs.append(("peer: " + str(args.peer_src), "SQLite", args.peer_src, peer_sizes))
    print(f"load average before: {_loadavg()}; {os.cpu_count()} CPUs")
    print("| tree | backend | N | status | events | wall s | CPU s | ms/item | "
          "bytes/item | vs N=1,000 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="map-bench-") as work:
        for k, (name, backend, src, ns) in enumerate(runs):
            _table(name, backend, src, ns,
                   lambda n, w=work, k=k: (f"sqlite:///{w}/map-{k}-{n}.db", None))
        if args.postgres is not None:
            with _postgres(args.postgres or None) as server:
                def pg(n: int) -> tuple[str, str | None]:
                    server.drop_test_database()
                    server.create_test_database()
                    return server.url(server.database), server.admin_url
                _table("statewright (this tree)", "PostgreSQL", REPO / "src", sizes, pg)
    print(f"load average after: {_loadavg()}")
    return 0


def _table(name: str, backend: str, src: Path, sizes: list[int], db: Any) -> None:
    per_1000: float | None = None
    for n in sizes:
        url, admin = db(n)
        r = _subprocess(src, n, url, admin)
        if n == 1000:
            per_1000 = r["seconds"]
        ratio = f"{r['seconds'] / per_1000:.2f}x" if per_1000 and n > 1000 else ""
        ok = r["status"] + ("" if r["output_ok"] else " (wrong output)")
        print(f"| {name} | {backend} | {n:,} | {ok} | {r['events']:,} | {r['seconds']:.2f} | "
              f"{r['cpu']:.2f} | {1000 * r['seconds'] / n:.2f} | {r['bytes'] / n:,.0f} | "
              f"{ratio} |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
