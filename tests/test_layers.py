"""Imports point down only (DESIGN.md, "Layers"): read every module's imports and check them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "statewright"

#: What each part of the package may import from statewright (besides itself).
ALLOWED = {
    "asl": set(),
    "store": {"store"},
    "functions": {"functions"},
    "runtime": {"asl", "store.base", "functions.base", "functions", "errors", "arns", "config"},
    "api": {"runtime", "errors", "arns", "config", "asl", "console"},
    "console": {"runtime", "errors", "config"},
    "errors": set(),
    "arns": {"errors"},
    "config": set(),
    "testing": {"asl", "runtime", "functions"},
    "cli": {"asl", "runtime", "functions", "errors", "arns", "config", "store", "api", "console",
            "demo"},
    "demo": {"runtime", "functions", "errors", "config", "store", "api"},
    "__init__": {"asl"},
}
#: Concrete backends the runtime must never name.
FORBIDDEN_IN_RUNTIME = ("store.sqlite", "store.postgres")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
            "statewright."
        ):
            found.add(node.module.removeprefix("statewright."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("statewright."):
                    found.add(alias.name.removeprefix("statewright."))
    return found


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_imports_point_down_only() -> None:
    faults = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(path)
        allowed = ALLOWED.get(part)
        assert allowed is not None, f"{path}: no layer rule for '{part}'"
        for module in _imports(path):
            top = module.split(".")[0]
            if top == part:
                continue
            if module in allowed or top in allowed:
                if part == "runtime" and module.startswith(FORBIDDEN_IN_RUNTIME):
                    faults.append(f"{path.relative_to(PACKAGE)} imports {module}")
                continue
            faults.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert faults == []


def test_the_runtime_sees_only_the_store_contract() -> None:
    for path in (PACKAGE / "runtime").rglob("*.py"):
        stores = {m for m in _imports(path) if m.startswith("store")}
        assert stores <= {"store.base"}, path
        functions = {m for m in _imports(path) if m.startswith("functions")}
        # packages.py is a stdlib-only leaf: the runtime unpacks stored zips with the same
        # safety checks the process runners were built around, never a second copy of them.
        assert functions <= {"functions.base", "functions.packages"}, path
