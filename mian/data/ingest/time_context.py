"""The context fields derived from an impression's timestamp (UTC)."""

from __future__ import annotations

import datetime

# Meteorological seasons of the northern hemisphere, by month.
_SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
            6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn"}  # fmt: skip
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Every value each derived field can take.
DERIVED_VALUES = {
    "hour": tuple(str(h) for h in range(24)),
    "weekday": _WEEKDAYS,
    "season": ("winter", "spring", "summer", "autumn"),
}


def time_context(ts: int) -> dict[str, str]:
    """Hour of day ("0"-"23"), weekday ("mon"-"sun") and season of a Unix timestamp, in UTC."""
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)
    return {
        "hour": str(moment.hour),
        "weekday": _WEEKDAYS[moment.weekday()],
        "season": _SEASONS[moment.month],
    }
