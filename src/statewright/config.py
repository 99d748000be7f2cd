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


def _budget_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


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
    """Task invocations a worker runs at once."""
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
    step_budget: int = field(default_factory=lambda: _budget_env("STATEWRIGHT_STEP_BUDGET", 100))
    """States one branch of an execution (its root, a Parallel branch, a Map iteration) may
    enter in one step (StartExecution's request, a worker's step) before it continues in a
    work item of its own: a run of Pass/Choice states ends in the request that started it,
    a long loop goes on on a worker, in steps of this many states."""
