"""The context fields derived from an impression's timestamp (UTC): the reference derivation.

The pipeline computes these fields inside the Transform graph (mian.stages.time_features), from the
raw `timestamp`, so that a served model derives them as training did; this module is the plain-Python
statement of the same rule, which the graph's derivation is tested against, and which the synthetic
generator plants its time effects with.
"""

from __future__ import annotations

import datetime

# Meteorological seasons of the northern hemisphere, by month (index 0: January).
SEASON_OF_MONTH = ("winter", "winter", "spring", "spring", "spring", "summer",
                   "summer", "summer", "autumn", "autumn", "autumn", "winter")  # fmt: skip
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Every value each derived field can take.
DERIVED_VALUES = {
    "hour": tuple(str(h) for h in range(24)),
    "weekday": WEEKDAYS,
    "season": ("winter", "spring", "summer", "autumn"),
}
# A timestamp after this (2200-01-01 UTC, in seconds) is a unit mistake, not a time of a click log.
LATEST_PLAUSIBLE_SECONDS = 7_258_118_400


def time_context(ts: int) -> dict[str, str]:
    """Hour of day ("0"-"23"), weekday ("mon"-"sun") and season of a Unix timestamp, in UTC."""
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC)
    return {
        "hour": str(moment.hour),
        "weekday": WEEKDAYS[moment.weekday()],
        "season": SEASON_OF_MONTH[moment.month - 1],
    }
