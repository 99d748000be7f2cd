"""RFC 3339 timestamps as Step Functions accepts them (Wait ``Timestamp``, Choice operators)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

# Date, 'T' (upper or lower case), time, optional fraction of any length, then 'Z' or an offset:
# AWS rejects a missing 'T', a missing offset and out-of-range fields (recorded cases
# test_wait_timestamp_path[NO_T|NO_Z|INVALID_TIME|INVALID_DATE]) and accepts nanoseconds.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp, or None when the text is not one."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        tz = UTC
        if not zulu:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            tz = timezone(-offset if sign == "-" else offset)
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          tzinfo=tz)
    except ValueError:
        return None
    seconds = moment.timestamp()
    if fraction:
        seconds += int(fraction) / 10 ** len(fraction)
    return seconds
