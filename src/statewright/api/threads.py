"""The synchronous Engine's calls, run off the event loop on a thread pool of our own.

Starlette's ``run_in_threadpool`` (``anyio.to_thread.run_sync``) does a good deal of
bookkeeping per call in Python (a capacity limiter, run variables, a cancel scope); for the
requests that matter most, StartExecution and DescribeExecution, it was a tenth of the
server's CPU (bench/README.md, "The HTTP path"). ``loop.run_in_executor`` hands the call to a
``ThreadPoolExecutor`` and back with a future and one wake-up of the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")

#: Engine calls running at once (the default of Starlette's pool, which this replaces).
MAX_THREADS = 40

_POOL = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="statewright-api")


async def run(fn: Callable[..., R], *args: object) -> R:
    """``fn(*args)`` on the pool; its exception, if any, raised here."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, fn, *args)
