"""``fast_init``: the cheaper constructor of the frozen dataclasses the engine makes per step
builds the same instances as the dataclass's own ``__init__`` would, and they stay frozen."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest

from statewright.asl.events import Event
from statewright.asl.frozen import fast_init
from statewright.asl.step import Invoke, Transition
from statewright.runtime.frames import HistoryEvent


@fast_init
@dataclass(frozen=True, slots=True)
class _Sample:
    name: str
    """A required field."""
    count: int = 3
    """A default."""
    tags: list[str] = field(default_factory=list)
    """A default factory: a fresh list per instance."""
    hidden: int = field(default=7, init=False)
    """Not a parameter."""
    flag: bool = field(default=False, kw_only=True)
    """Keyword only."""


@dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    """As ``_Sample``, with the dataclass's own ``__init__``."""
    count: int = 3
    """A default."""
    tags: list[str] = field(default_factory=list)
    """A default factory."""
    hidden: int = field(default=7, init=False)
    """Not a parameter."""
    flag: bool = field(default=False, kw_only=True)
    """Keyword only."""


def test_it_builds_what_the_dataclass_init_builds() -> None:
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("a",), {}), (("a", 5), {}), (("a", 5, ["x"]), {"flag": True}),
        ((), {"name": "b", "tags": ["y"]})]
    for args, kwargs in cases:
        fast, plain = _Sample(*args, **kwargs), _Plain(*args, **kwargs)
        assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    first, second = _Sample("a"), _Sample("a")
    assert first.tags == [] and first.tags is not second.tags
    assert first == second and hash(Event("A")) == hash(Event("A"))
    with pytest.raises(TypeError):
        _Sample("a", 1, [], True)  # type: ignore[call-arg]  # flag is keyword only
    with pytest.raises(TypeError):
        _Sample()  # type: ignore[call-arg]


def test_instances_stay_frozen() -> None:
    instances: list[object] = [_Sample("a"), Event("PassStateEntered", {}),
                               HistoryEvent(1, 0, 0.0, "ExecutionStarted", None),
                               Transition("Next", {}, ())]
    for instance in instances:
        first = dataclasses.fields(instance)[0].name  # type: ignore[arg-type]
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(instance, first, "changed")
    invoke = Invoke.__init__
    assert invoke.__qualname__ == "Invoke.__init__"


def test_only_frozen_slotted_dataclasses_are_accepted() -> None:
    @dataclass(slots=True)
    class Mutable:
        value: int
        """Not frozen."""

    with pytest.raises(TypeError):
        fast_init(Mutable)
