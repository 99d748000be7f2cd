"""What a step may read that is not in the definition: time, randomness, `$$`, variables."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Ctx:
    """Everything non-deterministic a state needs, handed in by the driver.

    The core never reads a clock or a global random source; tests build a ``Ctx`` by hand.
    """

    now: float = 0.0
    """Current time, epoch seconds (UTC)."""
    random: random.Random = field(default_factory=lambda: random.Random(0))
    """Seeded random source for retry jitter, ``States.MathRandom`` without seed, UUIDs."""
    context: dict[str, Any] = field(default_factory=dict)
    """The Context Object (``$$``): Execution, StateMachine, State, Task, Map."""
    variables: dict[str, Any] = field(default_factory=dict)
    """Workflow variables visible to the state (``$name`` in JSONPath)."""
    entered_event_id: int = 0
    """Id of the current state's ``...StateEntered`` event, quoted in runtime error causes."""
