"""The time context the Transform graph derives from `timestamp` equals ingestion's Python rule."""

import datetime
import os

import numpy as np
import pytest
import tensorflow as tf

from mian.data.ingest import records
from mian.data.ingest.time_context import LATEST_PLAUSIBLE_SECONDS, time_context
from mian.data.synthetic import GeneratorConfig, generate
from mian.stages.time_features import derived_time_context
from tests.model_helpers import synthetic_config

NAMES = ("hour", "weekday", "season")


def graph_values(seconds: list[int]) -> dict[str, list[str]]:
    derived = derived_time_context(tf.constant(seconds, tf.int64), NAMES)
    return {name: [v.decode() for v in values.numpy()] for name, values in derived.items()}


def assert_graph_equals_python(seconds: list[int]) -> None:
    graph = graph_values(seconds)
    for name in NAMES:
        expected = [time_context(s)[name] for s in seconds]
        mismatched = [(s, g, e) for s, g, e in zip(seconds, graph[name], expected, strict=True) if g != e]
        assert not mismatched, f"{name}: (timestamp, graph, python) {mismatched[:5]}"


def test_every_impression_of_a_generated_log_derives_alike(tmp_path):
    generate(str(tmp_path), GeneratorConfig(users=60, items=40, days=400, seed=3))
    config = synthetic_config()
    with open(os.path.join(tmp_path, "impressions.csv")) as f:
        next(f)
        column = config.timestamp
        seconds = [records.parse_timestamp(line.split(",")[2], column) for line in f if line.strip()]
    assert len(seconds) > 1000 and len({time_context(s)["season"] for s in seconds}) == 4
    assert_graph_equals_python(seconds)


def _utc(*moment) -> int:
    return int(datetime.datetime(*moment, tzinfo=datetime.UTC).timestamp())


def test_year_ends_leap_days_and_the_range_ingestion_accepts():
    seconds = [0, 59, 3599, 3600, 86_399, 86_400, LATEST_PLAUSIBLE_SECONDS]
    for year in (1970, 1999, 2000, 2023, 2024, 2100, 2199):
        for month, day in ((1, 1), (2, 28), (3, 1), (12, 31)):
            start = _utc(year, month, day)
            seconds += [start - 1, start, start + 86_399]
        if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            seconds += [_utc(year, 2, 29), _utc(year, 2, 29, 23, 59, 59)]
    seconds = [s for s in seconds if 0 <= s <= LATEST_PLAUSIBLE_SECONDS]
    assert_graph_equals_python(seconds)
    # 2100 is no leap year: its 1 March follows 28 February (winter to spring).
    assert graph_values([_utc(2100, 3, 1) - 1, _utc(2100, 3, 1)])["season"] == ["winter", "spring"]


@pytest.mark.parametrize(
    "written, utc",
    [
        ("2024-12-31T23:30:00-02:00", (2025, 1, 1, 1, 30)),  # a zone behind UTC: already next year
        ("2025-01-01T00:30:00+01:00", (2024, 12, 31, 23, 30)),  # a zone ahead: still the old year
        ("2024-02-29T23:00:00+05:30", (2024, 2, 29, 17, 30)),
        ("2024-03-01T01:00:00+03:00", (2024, 2, 29, 22, 0)),  # local March, UTC leap day
        ("2024-06-15 12:00:00", (2024, 6, 15, 12, 0)),  # no zone: UTC
    ],
)
def test_times_written_in_any_zone_derive_their_utc_context(written, utc):
    seconds = records.parse_timestamp(written, "timestamp")
    assert seconds == _utc(*utc)
    assert_graph_equals_python([seconds])


def test_times_ingestion_rejects_derive_the_missing_value():
    for value in ("-1", str(LATEST_PLAUSIBLE_SECONDS + 1), "1969-12-31T23:59:59Z"):
        assert records.timestamp_seconds(value) is None
    invalid = [-1, -86_400 * 366, LATEST_PLAUSIBLE_SECONDS + 1, np.iinfo(np.int64).max]
    graph = graph_values(invalid)
    assert graph == {name: [""] * len(invalid) for name in NAMES}
    # An absent timestamp reaches the graph as -1 (Transform's missing integer): missing too.
    assert graph_values([-1, 1_704_067_200]) == {
        "hour": ["", "0"],
        "weekday": ["", "mon"],
        "season": ["", "winter"],
    }
