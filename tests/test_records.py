"""Parsing one impression row: the timestamp's unit and the plausibility bound."""

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest import records
from mian.data.ingest.raw_rows import RawRow

T0 = 1_700_000_000


def _impression(timestamp, unit="s"):
    config = DatasetConfig.from_dict(
        dict(name="t", impressions="i.csv", users="u.csv", items="it.csv", timestamp_unit=unit)
    )
    columns = {"user_id": "u1", "item_id": "i1", "timestamp": timestamp, "clicked": "1"}
    return records.parse_impression(RawRow("i.csv", 7, "text", columns=columns), config)


def test_a_millisecond_timestamp_in_a_column_of_seconds_is_rejected_with_a_hint():
    rejection = _impression(str(T0 * 1000))
    assert isinstance(rejection, records.Rejection)
    assert (rejection.reason, rejection.field, rejection.line) == ("bad_timestamp", "timestamp", 7)
    assert "timestamp_unit: ms" in rejection.detail


def test_a_column_in_milliseconds_is_converted_when_the_config_says_so():
    assert _impression(str(T0 * 1000 + 999), unit="ms")["ts"] == T0
    assert _impression(T0 * 1000, unit="ms")["ts"] == T0  # a JSON number
    assert _impression("2023-11-14T22:13:20Z", unit="ms")["ts"] == T0  # ISO 8601 carries its own unit


def test_an_unknown_timestamp_unit_is_a_config_error():
    import pytest

    with pytest.raises(ValueError, match="timestamp_unit must be one of"):
        _impression(str(T0), unit="minutes")
