"""Settings, from command-line flags and ``STATEWRIGHT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, not {raw!r}") from exc


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, resolved once at start."""

    db: str = field(default_factory=lambda: os.environ.get("STATEWRIGHT_DB", ""))
    """Database URL: ``sqlite:///PATH`` or ``postgresql://...``; empty: the default file."""
    wait_scale: float = field(
        default_factory=lambda: _float_env("STATEWRIGHT_WAIT_SCALE", 1.0)
    )
    """Multiplies Wait, Retry back-off and timeouts (0: no waiting). For tests and demos."""
    region: str = field(default_factory=lambda: os.environ.get("STATEWRIGHT_REGION",
                                                               "us-east-1"))
    """AWS region in ARNs."""
    account: str = field(default_factory=lambda: os.environ.get("STATEWRIGHT_ACCOUNT",
                                                                "123456789012"))
    """Account id in ARNs."""
    worker_threads: int = 8
    """Steps (other than function invocations) a worker carries out at once."""
    function_concurrency: int = field(
        default_factory=lambda: _int_env("STATEWRIGHT_FUNCTION_CONCURRENCY", 100, 1))
    """Function invocations that run at once in this process, all functions together (Lambda's
    account concurrency); one past it is throttled (TooManyRequestsException). A worker runs
    up to this many Tasks' invocations at once."""
    function_idle_seconds: float = field(
        default_factory=lambda: _float_env("STATEWRIGHT_FUNCTION_IDLE_SECONDS", 300.0))
    """How long an idle function environment is kept warm before it is retired."""
    lease_seconds: float = 30.0
    """How long a claimed work item stays leased without a heartbeat."""
    activity_poll_seconds: float = field(
        default_factory=lambda: _float_env("STATEWRIGHT_ACTIVITY_POLL_SECONDS", 60.0)
    )
    """How long GetActivityTask holds a poll open when no task is queued (AWS: 60 s)."""
    server_key_file: str = field(
        default_factory=lambda: os.environ.get("STATEWRIGHT_SERVER_KEY_FILE", ""))
    """The file holding the key that seals access keys' secrets in the database (created by
    ``statewright keys create``); empty: ``$XDG_CONFIG_HOME/statewright/server.key``
    (``~/.config/...``). Every server of one database needs the same file."""
    iam_strict: bool = False
    """``serve --iam strict``: a state machine's role must exist in statewright's IAM and
    trust ``states.amazonaws.com``."""
    step_budget: int = field(default_factory=lambda: _int_env("STATEWRIGHT_STEP_BUDGET", 100, 1))
    """States one branch of an execution (its root, a Parallel branch, a Map iteration) may
    enter in one step (StartExecution's request, a worker's step) before it continues in a
    work item of its own: a run of Pass/Choice states ends in the request that started it,
    a long loop goes on on a worker, in steps of this many states."""
