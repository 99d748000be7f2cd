"""History payload text: compact JSON as AWS renders it, and one text per value per execution."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statewright.asl.events import JsonTexts, to_json

VALUES: list[Any] = [
    1, -0.0, 1.5, 10**30, "é\"\n\u2028", None, True, False, [], {}, {"a": [1, {"b": None}]},
    {1: 2}, (1, 2), float("nan"), float("inf"), {"nested": [[["deep"]]], "x": 1e-7},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_to_json_writes_what_json_dumps_compact_writes(value: Any) -> None:
    # AWS's payload text: no spaces, non-ASCII kept (``ensure_ascii=False``).
    assert to_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_to_json_refuses_what_json_cannot_encode() -> None:
    with pytest.raises(TypeError):
        to_json({"x": object()})


def test_json_texts_encodes_a_value_once_and_tells_equal_values_apart() -> None:
    texts = JsonTexts()
    value = {"orderId": "1", "items": [1, 2]}
    first = texts(value)
    assert texts(value) is first  # the same object: the text remembered
    twin = {"orderId": "1", "items": [1, 2]}
    assert texts(twin) == first and texts(twin) is not first  # an equal value: encoded anew
    for number in range(3 * JsonTexts.SIZE):  # older entries drop out; texts stay right
        assert texts([number]) == f"[{number}]"
    assert texts(value) == first
