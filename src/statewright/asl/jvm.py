"""Java's view of JSON values, for the intrinsic functions whose results show it.

AWS runs Step Functions on the JVM: a JSON value becomes a Java object (``Integer``, ``Long``,
``Double``, ``String``, ``List``, ``Map``) before an intrinsic function sees it, and several
results follow Java semantics rather than JSON's. ``States.Format`` and ``States.Hash`` print a
value as ``String.valueOf`` does (``{a=1, b=[]}``, ``1.0E7``), ``States.ArrayContains`` compares
those texts, ``States.ArrayUnique`` returns the iteration order of a ``java.util.HashSet`` (which
needs ``hashCode`` and ``equals``), and a seeded ``States.MathRandom`` draws from
``java.util.Random``. This module reproduces those pieces of the JDK, so that the same
definition gives the same output here as on AWS; ``intrinsics`` uses them.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import Any

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "LONG_MAX",
    "LONG_MIN",
    "JavaRandom",
    "hash_set_order",
    "java_double",
    "java_equals",
    "java_hash",
    "java_string",
]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of a Java ``int``."""
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
"""The range of a Java ``long``."""
_MASK32 = 0xFFFF_FFFF


# --- Text: String.valueOf ------------------------------------------------------------------------


def java_string(value: Any) -> str:
    """``String.valueOf`` of the Java object AWS holds for a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def java_double(value: float) -> str:
    """``Double.toString``: positional in [1e-3, 1e7), else ``d.dddE±n``; always a fraction."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python's shortest repr is positional (with ".0") in this range
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    power = len(digits) - 1 + exponent
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


# --- Identity: hashCode, equals, HashSet ---------------------------------------------------------


def _utf16_units(text: str) -> tuple[int, ...]:
    data = text.encode("utf-16-be", "surrogatepass")
    return struct.unpack(f">{len(data) // 2}H", data)


def java_hash(value: Any) -> int:
    """``hashCode()`` of the Java object for a JSON value, as an unsigned 32-bit int."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1231 if value else 1237
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return value & _MASK32  # Integer
        if LONG_MIN <= value <= LONG_MAX:
            bits = value & 0xFFFF_FFFF_FFFF_FFFF  # Long
            return (bits ^ (bits >> 32)) & _MASK32
        magnitude, words = abs(value), []  # BigInteger: 31*h + each big-endian 32-bit word
        while magnitude:
            words.append(magnitude & _MASK32)
            magnitude >>= 32
        result = 0
        for word in reversed(words):
            result = (31 * result + word) & _MASK32
        return result if value > 0 else (-result) & _MASK32
    if isinstance(value, float):
        bits = int.from_bytes(struct.pack("<d", value), "little")
        return (bits ^ (bits >> 32)) & _MASK32
    result = 0
    if isinstance(value, str):
        for unit in _utf16_units(value):
            result = (31 * result + unit) & _MASK32
    elif isinstance(value, list):
        result = 1
        for item in value:
            result = (31 * result + java_hash(item)) & _MASK32
    elif isinstance(value, dict):
        for key, item in value.items():
            result = (result + (java_hash(key) ^ java_hash(item))) & _MASK32
    return result


def java_equals(a: Any, b: Any) -> bool:
    """``equals()`` of the Java objects: 1 and 1.0 differ, maps ignore key order."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)  # Double.equals compares bits
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(java_equals(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(java_equals(a[k], b[k]) for k in a)
    return False


def hash_set_order(values: list[Any]) -> list[Any]:
    """The distinct values in the order ``new java.util.HashSet<>(values)`` iterates them (JDK 17).

    The bucket table is sized for the whole list (a power of two, at least 16), doubled past 3/4
    full or when one bucket passes 8 entries while the table is under 64; a bucket keeps
    insertion order and a resize keeps that order within each half.
    """
    capacity, size = 16, 0
    while capacity < int(len(values) / 0.75) + 1:
        capacity *= 2
    table: list[list[tuple[int, Any]]] = [[] for _ in range(capacity)]
    for value in values:
        spread = java_hash(value)
        spread ^= spread >> 16
        bucket = table[spread & (capacity - 1)]
        if any(h == spread and java_equals(v, value) for h, v in bucket):
            continue
        bucket.append((spread, value))
        size += 1
        if len(bucket) > 8 and capacity < 64:
            table, capacity = _resize(table, capacity * 2), capacity * 2
        if size > capacity * 3 // 4:
            table, capacity = _resize(table, capacity * 2), capacity * 2
    return [value for bucket in table for _, value in bucket]


def _resize(table: list[list[tuple[int, Any]]], capacity: int) -> list[list[tuple[int, Any]]]:
    resized: list[list[tuple[int, Any]]] = [[] for _ in range(capacity)]
    for bucket in table:
        for spread, value in bucket:
            resized[spread & (capacity - 1)].append((spread, value))
    return resized


# --- java.util.Random ----------------------------------------------------------------------------


class JavaRandom:
    """``java.util.Random``: a 48-bit linear congruential generator, ported bit for bit."""

    __slots__ = ("_seed",)
    _MULTIPLIER = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        value = self._seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value

    def next_double(self) -> float:
        """``nextDouble()``: uniform in ``[0, 1)`` from 53 random bits."""
        return ((self._next(26) << 27) + self._next(27)) * 2.0**-53

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in ``[0, bound)`` for ``0 < bound < 2**31``."""
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if (u - r + m) & 0x8000_0000 == 0:  # Java: an int overflow here means "reject"
                return r
            u = self._next(31)
