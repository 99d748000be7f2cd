"""RFC 3339 timestamps as Step Functions parses them (Wait ``Timestamp``, Choice operators).

AWS's errors name Java's ``ISO_OFFSET_DATE_TIME`` format ("ISO-8601 extended offset date-time"),
so this follows that parser: 'T' required, an offset required, strict calendar fields, up to
nine fraction digits. Recorded AWS cases (test_wait_timestamp_path[NO_T|NO_Z|INVALID_TIME|
INVALID_DATE|NANOSECONDS]) pin the edges.
"""

from __future__ import annotations

import re

# Java's DateTimeFormatter.ISO_OFFSET_DATE_TIME: case-insensitive, seconds and fraction
# optional, 0-9 fraction digits, offset Z or +HH[:MM[:SS]] (lenient offset parsing).
# Only 4-digit years: the signed extended years Java also reads never occur in practice.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{0,9}))?)?"
    r"(?:[Zz]|([+-])(\d{2})(?::(\d{2})(?::(\d{2}))?)?)",
    re.ASCII,
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_timestamp(text: str) -> int | None:
    """Nanoseconds since the epoch for an RFC 3339 timestamp, or None when it is not one."""
    found = _TIMESTAMP.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute = (int(found[i]) for i in range(1, 6))
    second = int(found[6] or 0)
    nanos = int((found[7] or "").ljust(9, "0"))
    # Java resolves strictly: no month 13, no Feb 29 outside leap years, no hour 24.
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + leap:
        return None
    offset = 0
    if found[8] is not None:
        off_h, off_m, off_s = int(found[9]), int(found[10] or 0), int(found[11] or 0)
        if off_m > 59 or off_s > 59:
            return None
        offset = off_h * 3600 + off_m * 60 + off_s
        if offset > 18 * 3600:
            return None
        if found[8] == "-":
            offset = -offset
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return (seconds - offset) * 1_000_000_000 + nanos


def _days_from_civil(year: int, month: int, day: int) -> int:
    # Proleptic Gregorian day number (1970-01-01 = 0), valid for year 0000 too, which
    # Python's datetime cannot represent but Java's ISO chronology accepts.
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def parse_timestamp_seconds(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp, or None when it is not one."""
    nanos = parse_timestamp(text)
    return None if nanos is None else nanos / 1_000_000_000
