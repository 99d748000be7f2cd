"""Runs the AWS-recorded conformance cases (``../shared/conformance/cases``) through
``statewright run``'s machinery in this process and scores them as
``../shared/conformance/run.py`` does: outcome (status + output, or error + cause) and the
exact sequence of history event types.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statewright.asl import InvalidDefinition, parse
from statewright.cli import describe
from statewright.functions.inprocess import FunctionSpec, PythonFunctions
from statewright.runtime.sync import run_execution
from tests.shared_data import CONFORMANCE

REPO = Path(__file__).resolve().parents[2]
SHARED = CONFORMANCE
CASES = SHARED / "cases"
FUNCTIONS = SHARED / "functions"

ACCOUNT = "123456789012"
REGION = "us-east-1"
VAR = re.compile(r"\$\{([A-Z_]+)(?::([A-Za-z0-9_]+))?\}")
PARALLEL_END = {"ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted"}


@dataclass(frozen=True, slots=True)
class Score:
    """One case's result."""

    case_id: str
    """The case id."""
    outcome_ok: bool
    """Status and output/error/cause match."""
    history_ok: bool | None
    """Event types match (None: the case recorded none)."""
    reason: str
    """What differed."""


def load_cases(*, jsonata: bool = False) -> list[dict[str, Any]]:
    """The recorded cases; JSONPath-only unless ``jsonata``."""
    cases = []
    for file in sorted(CASES.glob("*.json")):
        case = json.loads(file.read_text())
        is_jsonata = "jsonata" in case.get("features", []) or "JSONata" in json.dumps(
            case["definition"]
        )
        if is_jsonata == jsonata:
            case["_file"] = file.name
            cases.append(case)
    return cases


def load_jsonata_and_variables_cases() -> list[dict[str, Any]]:
    """Issue 8's corpus: every JSONata case and every workflow-variables case (JSONPath
    ones included: ``Assign`` and ``$name`` references exist in both languages)."""
    variables = [c for c in load_cases() if "variables" in c.get("features", [])]
    return load_cases(jsonata=True) + variables


def substitute(text: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1) if match.group(2) is None else f"{match.group(1)}:{match.group(2)}"
        return match.group(0) if key == "ANY" else variables.get(key, match.group(0))

    return VAR.sub(replace, text)


def variables_for(case: dict[str, Any], name: str) -> dict[str, str]:
    out = {
        "SM_NAME": "statewright-local", "EXEC_NAME": name, "ACCOUNT": ACCOUNT,
        "REGION": REGION, "PARTITION": "aws",
        "ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/statewright",
    }
    for fn in case.get("lambda_functions", {}):
        out[f"LAMBDA_NAME:{fn}"] = fn
        out[f"LAMBDA_ARN:{fn}"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    return out


def match(expected: Any, actual: Any, variables: dict[str, str], where: str = "$") -> str | None:
    """None when equal (``${ANY}`` matches anything), else the first difference."""
    if isinstance(expected, str):
        exp = substitute(expected, variables)
        if exp == "${ANY}":
            return None
        if "${ANY}" in exp and isinstance(actual, str):
            pattern = ".*".join(re.escape(p) for p in exp.split("${ANY}"))
            return None if re.fullmatch(pattern, actual, re.DOTALL) else f"{where}: {actual!r}"
        return None if actual == exp else f"{where}: {actual!r} != {exp!r}"
    if isinstance(expected, bool) or isinstance(actual, bool):
        ok = type(expected) is type(actual) and expected == actual
        return None if ok else f"{where}: {actual!r} != {expected!r}"
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: {json.dumps(actual)[:100]} != {json.dumps(expected)[:100]}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            if diff := match(e, a, variables, f"{where}[{i}]"):
                return diff
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected object, got {json.dumps(actual)[:100]}"
        keyed = {substitute(k, variables): v for k, v in expected.items()}
        if set(keyed) != set(actual):
            return f"{where}: keys {sorted(actual)} != {sorted(keyed)}"
        for k, v in keyed.items():
            if diff := match(v, actual[k], variables, f"{where}.{k}"):
                return diff
        return None
    return None if expected == actual else f"{where}: {actual!r} != {expected!r}"


def _text_or_json(expected: Any, actual: str | None, variables: dict[str, str], where: str
                  ) -> str | None:
    if isinstance(expected, dict | list):
        try:
            return match(expected, json.loads(actual or ""), variables, where)
        except ValueError:
            return f"{where}: expected JSON, got {actual!r:.120}"
    return match(expected, actual, variables, where)


def sort_parallel_blocks(types: list[str]) -> list[str]:
    """Branch events of a Parallel state interleave in any order: sort each block."""
    out: list[str] = []
    i = 0
    while i < len(types):
        out.append(types[i])
        if types[i] == "ParallelStateStarted":
            depth, j = 1, i + 1
            while j < len(types):
                if types[j] == "ParallelStateStarted":
                    depth += 1
                elif types[j] in PARALLEL_END:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.extend(sorted(types[i + 1 : j]))
            i = j
            continue
        i += 1
    return out


def run_case(case: dict[str, Any], workdir: Path) -> Score:
    """Runs one case as ``statewright run --json --history`` does, its functions deployed as
    the recordings deployed them (below)."""
    name = "conformance-exec"
    variables = variables_for(case, name)
    try:
        machine = parse(substitute(json.dumps(case["definition"]), variables))
        data = json.loads(substitute(case["input"], variables))
    except (InvalidDefinition, ValueError) as exc:
        return Score(case["id"], False, False if case.get("history_types") else None,
                     f"rejected: {str(exc)[:300]}")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            result = run_execution(machine, data, _functions(case, workdir), name=name,
                                   wait_scale=0)
    except Exception as exc:
        return Score(case["id"], False, False if case.get("history_types") else None,
                     f"crash: {type(exc).__name__}: {exc}")
    described = describe(result, with_history=True)
    expected = case["expected"]
    diffs = []
    if described["status"] != expected["status"]:
        diffs.append(f"status {described['status']} != {expected['status']} "
                     f"({described.get('error')}: {str(described.get('cause'))[:200]})")
    elif expected["status"] == "SUCCEEDED":
        actual = json.loads(described["output"])
        if diff := match(expected.get("output"), actual, variables, "output"):
            diffs.append(diff)
    else:
        for key in ("error", "cause"):
            if key in expected and (
                diff := _text_or_json(expected[key], described.get(key), variables, key)
            ):
                diffs.append(diff)
    history_ok = None
    if case.get("history_types"):
        actual_types = [e["type"] for e in described["events"]]
        expected_types = list(case["history_types"])
        if case.get("history_parallel_unordered"):
            actual_types = sort_parallel_blocks(actual_types)
            expected_types = sort_parallel_blocks(expected_types)
        history_ok = actual_types == expected_types
        if not history_ok:
            diffs.append(f"history {' '.join(actual_types)[:400]}")
    return Score(case["id"], not any(not d.startswith("history") for d in diffs), history_ok,
                 "; ".join(diffs))


def _functions(case: dict[str, Any], workdir: Path) -> PythonFunctions:
    """The case's functions, each deployed as the recordings did: its file as ``handler.py``
    of a package of its own (so stack traces read ``/var/task/handler.py``, line numbers
    kept), handler ``handler.handler``."""
    specs = []
    for fn, spec in case.get("lambda_functions", {}).items():
        folder = workdir / "functions" / fn
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "handler.py").write_text((SHARED / spec["file"]).read_text())
        specs.append(FunctionSpec(fn, folder / "handler.py"))
    return PythonFunctions(specs)


def run_all(cases: list[dict[str, Any]], workdir: Path) -> Iterator[Score]:
    for case in cases:
        yield run_case(case, workdir)
