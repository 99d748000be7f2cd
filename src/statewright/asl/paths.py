"""JSONPath as Step Functions evaluates it (Jayway semantics), compiled once.

INTERFACE (fixed; other modules rely on it):

- ``compile_path(text) -> Path``: any Path (``$``, ``$.a``, ``$..a``, filters, ``$$.`` context,
  ``$var.x`` variables). Raises ``ExpressionSyntaxError`` when it does not compile.
- ``compile_reference_path(text) -> Path``: a Reference Path (definite: only names and single
  indexes, used by ResultPath and ItemsPath); raises ``ExpressionSyntaxError`` otherwise.
- ``Path.get(data, ctx) -> Any``: the value; raises ``PathNotFound`` when nothing matches a
  definite path. An indefinite path gives a list (possibly empty).
- ``Path.exists(data, ctx) -> bool``: for ``IsPresent``.
- ``Path.set(data, value) -> Any``: a new document with ``value`` at the (reference) path; the
  input is not mutated (copy on write along the path). Raises ``PathNotFound`` when the path
  cannot be placed (e.g. through a non-object).
- ``Path.text``: the source text; ``Path.root``: ``"input"``, ``"context"`` or ``"variable"``.

TODO(helper): replace the minimal implementation below with the full evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from statewright.asl.context import Ctx
from statewright.asl.errors import ExpressionSyntaxError

Root = Literal["input", "context", "variable"]


class PathNotFound(Exception):
    """A definite path matched nothing in the document."""

    def __init__(self, path: str, normalized: str) -> None:
        super().__init__(f"No results for path: {normalized}")
        self.path = path
        """The path as written in the definition, e.g. ``$.NoSuchInputPath``."""
        self.normalized = normalized
        """Jayway's normalized form, e.g. ``$['NoSuchInputPath']``."""


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled JSONPath."""

    text: str
    """The source text."""
    root: Root
    """What ``$`` refers to: the state's input, the Context Object, or a variable."""
    variable: str | None
    """The variable name when ``root == "variable"``."""
    keys: tuple[str | int, ...]
    """Definite steps from the root (names and indexes)."""

    def _base(self, data: Any, ctx: Ctx | None) -> Any:
        if self.root == "input":
            return data
        if ctx is None:
            raise PathNotFound(self.text, self.text)
        if self.root == "context":
            return ctx.context
        if self.variable not in ctx.variables:
            raise PathNotFound(self.text, self.text)
        return ctx.variables[self.variable]

    def get(self, data: Any, ctx: Ctx | None = None) -> Any:
        value = self._base(data, ctx)
        for key in self.keys:
            if isinstance(key, int):
                if not isinstance(value, list) or not -len(value) <= key < len(value):
                    raise PathNotFound(self.text, _normalized(self.keys))
                value = value[key]
            else:
                if not isinstance(value, dict) or key not in value:
                    raise PathNotFound(self.text, _normalized(self.keys))
                value = value[key]
        return value

    def exists(self, data: Any, ctx: Ctx | None = None) -> bool:
        try:
            self.get(data, ctx)
        except PathNotFound:
            return False
        return True

    def set(self, data: Any, value: Any) -> Any:
        return _set(data, self.keys, value, self)


def _set(data: Any, keys: tuple[str | int, ...], value: Any, path: Path) -> Any:
    if not keys:
        return value
    key, rest = keys[0], keys[1:]
    if isinstance(key, int):
        if not isinstance(data, list) or not -len(data) <= key < len(data):
            raise PathNotFound(path.text, _normalized(path.keys))
        copy = list(data)
        copy[key] = _set(copy[key], rest, value, path)
        return copy
    if not isinstance(data, dict):
        raise PathNotFound(path.text, _normalized(path.keys))
    copied = dict(data)
    copied[key] = _set(data.get(key, {}), rest, value, path)
    return copied


def _normalized(keys: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{k}]" if isinstance(k, int) else f"['{k}']" for k in keys)


def compile_path(text: str) -> Path:
    if not isinstance(text, str) or not text.startswith("$"):
        raise ExpressionSyntaxError(f"The value for the field must be a valid JSONPath: {text!r}")
    root: Root = "input"
    variable = None
    rest = text[1:]
    if rest.startswith("$"):
        root, rest = "context", rest[1:]
    elif rest and rest[0] not in ".[":
        root = "variable"
        name_end = len(rest)
        for i, ch in enumerate(rest):
            if ch in ".[":
                name_end = i
                break
        variable, rest = rest[:name_end], rest[name_end:]
    keys: list[str | int] = []
    for part in rest.split("."):
        if not part:
            continue
        while "[" in part:
            head, _, tail = part.partition("[")
            if head:
                keys.append(head)
            index, _, part = tail.partition("]")
            keys.append(int(index))
        if part:
            keys.append(part)
    return Path(text, root, variable, tuple(keys))


def compile_reference_path(text: str) -> Path:
    return compile_path(text)
