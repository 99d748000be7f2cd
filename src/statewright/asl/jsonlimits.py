"""How deep JSON from outside may nest, checked before it is decoded.

Python's decoder recurses once per level and raises RecursionError near 1,000 levels; below
that, a value nested hundreds deep still reaches code that walks it recursively (paths,
templates, the encoder). Every JSON text from a client (request bodies, execution input, task
output, function payloads) is checked here first, so deep nesting is bad input with AWS's error,
never a RecursionError. Step Functions' own limit is not documented; real payloads nest a few
dozen levels at most.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DEPTH", "too_deep"]

#: Deepest nesting of arrays and objects accepted.
MAX_DEPTH = 128

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENING = frozenset(b"[{")
_OTHERS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit`` (brackets inside strings
    do not count). Linear in the text; most texts take the fast path."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _STRING.sub(b"", raw).translate(None, _OTHERS):
        if bracket in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
