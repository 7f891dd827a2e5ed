"""The time context derived from the raw timestamp by TF ops, inside the Transform graph.

Ingestion writes an impression's time as `timestamp` (Unix seconds) and no derived field: the Transform
graph computes `hour`, `weekday` and `season` from it (`derived_time_context`), so that training and
every served signature derive them by the same ops, and a client sends the impression's time, never
its own reading of it. The rule is mian.data.ingest.time_context's (UTC), which the ops are tested
against. A time that ingestion would reject (before 1970, after LATEST_PLAUSIBLE_SECONDS, or absent)
derives the missing value, which Transform maps to an out-of-vocabulary id.
"""

from __future__ import annotations

import tensorflow as tf

from mian.config.dataset_config import SECONDS_PER_DAY
from mian.data.ingest.time_context import (
    DERIVED_VALUES,
    LATEST_PLAUSIBLE_SECONDS,
    SEASON_OF_MONTH,
    WEEKDAYS,
)
from mian.names import MISSING_CATEGORY

# 1970-01-01 was a Thursday (WEEKDAYS[3]).
EPOCH_WEEKDAY = 3


def derived_time_context(timestamps: tf.Tensor, names) -> dict[str, tf.Tensor]:
    """{name: [batch] string tensor} of the derived fields `names` for int64 Unix seconds [batch]."""
    seconds = tf.cast(timestamps, tf.int64)
    valid = tf.logical_and(seconds >= 0, seconds <= LATEST_PLAUSIBLE_SECONDS)
    seconds = tf.where(valid, seconds, tf.zeros_like(seconds))
    days = seconds // SECONDS_PER_DAY
    indices = {
        "hour": (seconds % SECONDS_PER_DAY) // 3600,
        "weekday": (days + EPOCH_WEEKDAY) % 7,
        "season": _month_index(days),
    }
    tables = {
        "hour": list(DERIVED_VALUES["hour"]),
        "weekday": list(WEEKDAYS),
        "season": list(SEASON_OF_MONTH),
    }
    missing = tf.fill(tf.shape(seconds), MISSING_CATEGORY)
    return {
        name: tf.where(valid, tf.gather(tf.constant(tables[name]), indices[name]), missing) for name in names
    }


def _month_index(days: tf.Tensor) -> tf.Tensor:
    """The month (0: January) of days since 1970-01-01, by the proleptic Gregorian calendar.

    Days are counted from 0000-03-01 so that the leap day ends a year: a year of that count is 400-year
    eras of 146,097 days, each of 36,524-day centuries and 1,461-day four-year cycles; the day of the
    year then gives the month by the 153-days-per-5-months rule, March first.
    """
    shifted = days + 719_468  # days from 0000-03-01 to 1970-01-01
    day_of_era = shifted % 146_097
    year_of_era = (day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    return (month_from_march + 2) % 12
