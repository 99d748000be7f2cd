"""What a step may read that is not in the definition: time, randomness, `$$`, variables."""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from typing import Any

from statewright.asl.events import Encode, to_json


class Ctx:
    """Everything non-deterministic a state needs, handed in by the driver.

    The core never reads a clock or a global random source; tests build a ``Ctx`` by hand.
    A driver may hand the Context Object and the random source as factories
    (``context_of``, ``random_of``): most states never read ``$$`` nor draw a random number,
    so neither is built until a state does.
    """

    __slots__ = ("_context", "_context_of", "_random", "_random_of", "encode",
                 "entered_event_id", "now", "variables")

    def __init__(
        self,
        now: float = 0.0,
        random: _random.Random | None = None,
        context: dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        entered_event_id: int = 0,
        *,
        context_of: Callable[[], dict[str, Any]] | None = None,
        random_of: Callable[[], _random.Random] | None = None,
        encode: Encode = to_json,
    ) -> None:
        self.now = now
        """Current time, epoch seconds (UTC)."""
        self._random = random
        self._random_of = random_of
        self._context = context
        self._context_of = context_of
        self.variables: dict[str, Any] = {} if variables is None else variables
        """Workflow variables visible to the state (``$name`` in JSONPath)."""
        self.entered_event_id = entered_event_id
        """Id of the current state's ``...StateEntered`` event, quoted in runtime error
        causes."""
        self.encode = encode
        """The JSON text of a value for the history (``events.to_json``; a driver hands its
        execution's ``JsonTexts``)."""

    @property
    def context(self) -> dict[str, Any]:
        """The Context Object (``$$``): Execution, StateMachine, State, Task, Map."""
        if self._context is None:
            self._context = self._context_of() if self._context_of is not None else {}
        return self._context

    @property
    def random(self) -> _random.Random:
        """Seeded random source for retry jitter, ``States.MathRandom`` without seed, UUIDs."""
        if self._random is None:
            self._random = (self._random_of() if self._random_of is not None
                            else _random.Random(0))
        return self._random

    def with_context(self, context: dict[str, Any]) -> Ctx:
        """The same Ctx with another Context Object (a Map item's ``$$.Map``)."""
        return Ctx(self.now, None, context, self.variables, self.entered_event_id,
                   random_of=lambda: self.random, encode=self.encode)

    def __repr__(self) -> str:
        return (f"Ctx(now={self.now!r}, context={self.context!r}, "
                f"variables={self.variables!r}, entered_event_id={self.entered_event_id!r})")
