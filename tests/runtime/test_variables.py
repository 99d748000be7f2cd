"""Workflow variables across scopes, in whole executions (both query languages).

[docs] Step Functions developer guide, "Passing data between states with variables": a Parallel
branch or Map iteration reads the outer variables; what it assigns stays inside it (no leak to
the outer scope or to its siblings); the state's own Assign, after it, sees ``$states.result``;
JSONPath fields read variables as ``$name`` and ``$name.field``.
"""

from __future__ import annotations

from typing import Any

from statewright.asl import parse
from statewright.functions.inprocess import PythonFunctions
from statewright.runtime.sync import run_execution

JSONATA = {"QueryLanguage": "JSONata"}


def pass_state(**fields: Any) -> dict[str, Any]:
    return {**JSONATA, "Type": "Pass", **fields}


DEFINITION: dict[str, Any] = {"StartAt": "A", "States": {
    "A": pass_state(Assign={"x": 1, "user": {"name": "ann"}}, Next="P"),
    "P": {**JSONATA, "Type": "Parallel", "Next": "M", "Branches": [{"StartAt": "B", "States": {
        "B": pass_state(Assign={"y": "{% $x + 1 %}"}, Output="{% $x %}", Next="B2"),
        "B2": pass_state(Output="{% [$x, $y] %}", End=True)}}],
        "Assign": {"branches": "{% $states.result %}"}},
    "M": {**JSONATA, "Type": "Map", "Items": [1, 2], "Next": "J",
          "ItemProcessor": {"StartAt": "I", "States": {
              "I": pass_state(Assign={"z": "{% $states.input * 10 %}"}, Next="I2"),
              "I2": pass_state(Output="{% $z + $x %}", End=True)}},
          "Assign": {"mapped": "{% $states.result %}"}},
    "J": {"Type": "Pass", "Next": "K",
          "Parameters": {"x.$": "$x", "name.$": "$user.name", "mapped.$": "$mapped",
                         "branches.$": "$branches"}},
    "K": pass_state(Output="{% [$states.input, $exists($y), $exists($z)] %}", End=True),
}}


def test_scopes_read_outer_variables_and_keep_their_own() -> None:
    result = run_execution(parse(DEFINITION), {}, PythonFunctions(), wait_scale=0)
    assert result.status == "SUCCEEDED", result.failure
    inner, y_leaked, z_leaked = result.output
    # the branch saw $x and its own $y; each iteration its own $z and the outer $x
    assert inner == {"x": 1, "name": "ann", "mapped": [11, 21], "branches": [[1, 2]]}
    assert (y_leaked, z_leaked) == (False, False)


def test_assigned_variables_are_in_the_history() -> None:
    result = run_execution(parse(DEFINITION), {}, PythonFunctions(), wait_scale=0)
    exited = [e for e in result.events if e.type == "MapStateExited"]
    assert exited[0].details["assignedVariables"] == {"mapped": "[11,21]"}
    assert exited[0].details["assignedVariablesDetails"] == {"truncated": False}
