"""StartExecution reads a state machine's ``statewright:wait-scale`` tag from a cache: a
Tag/UntagResource through the same engine shows at once, one made through another API node
of the database within ``TAGS_TTL_SECONDS``, and a new state machine of the same name never
inherits the old one's scale."""

from __future__ import annotations

import json

from statewright.config import Settings
from statewright.runtime.engine import TAGS_TTL_SECONDS, WAIT_SCALE_TAG, Engine
from statewright.store.base import Store

WAITS = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60,
                                                     "End": True}}})


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _scale(engine: Engine, machine: str) -> float | None:
    """The wait scale the next execution started through ``engine`` is fixed with."""
    arn = engine.start_execution(machine, "{}").execution_arn
    scale: float | None = json.loads(engine.describe_execution(arn).cursor).get("wait_scale")
    return scale


def test_tags_show_at_once_here_and_within_the_ttl_elsewhere(store: Store) -> None:
    clock = Clock()
    here = Engine(store, Settings(wait_scale=1.0), clock=clock)
    there = Engine(store, Settings(wait_scale=1.0), clock=clock)  # another API node
    machine = here.create_state_machine("tagged", WAITS, tags={WAIT_SCALE_TAG: "0"}).arn
    assert _scale(here, machine) == 0.0
    assert _scale(there, machine) == 0.0

    here.tag_resource(machine, {WAIT_SCALE_TAG: "0.5"})
    assert _scale(here, machine) == 0.5  # the engine that tagged sees it at once
    assert _scale(there, machine) == 0.0  # the other read it less than the TTL ago
    clock.now += TAGS_TTL_SECONDS
    assert _scale(there, machine) == 0.5

    there.untag_resource(machine, [WAIT_SCALE_TAG])
    assert _scale(there, machine) is None
    clock.now += TAGS_TTL_SECONDS
    assert _scale(here, machine) is None


def test_a_state_machine_made_again_does_not_inherit_the_cached_scale(store: Store) -> None:
    engine = Engine(store, Settings(wait_scale=1.0))
    machine = engine.create_state_machine("again", WAITS, tags={WAIT_SCALE_TAG: "0"}).arn
    assert _scale(engine, machine) == 0.0
    engine.delete_state_machine(machine)
    assert engine.create_state_machine("again", WAITS).arn == machine
    assert _scale(engine, machine) is None
