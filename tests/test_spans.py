"""Daily spans: the impressions of one day ingested alone, their histories read from the earlier days."""

import dataclasses
import os

import pytest

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest.pipeline import SPAN_SPLIT
from mian.data.ingest.spans import parse_span, span_inputs, span_name, spans_present
from mian.data.synthetic import GeneratorConfig, generate
from tests.ingest_helpers import run_ingestion

pytestmark = pytest.mark.e2e

GENERATED = GeneratorConfig(users=120, items=60, days=6, seed=4)


def _key(example) -> tuple:
    return example["user_id"][0], example["item_id"][0], example["timestamp"][0]


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """The same generated log twice: as one file, and as daily partitions."""
    whole, daily = tmp_path_factory.mktemp("whole"), tmp_path_factory.mktemp("daily")
    generate(str(whole), GENERATED)
    generate(str(daily), dataclasses.replace(GENERATED, partition_by_day=True))
    return whole, daily


def test_the_days_of_a_partitioned_log_are_its_spans(logs):
    _, daily = logs
    config = DatasetConfig.load(os.path.join(daily, "dataset.yaml"))
    assert config.daily
    spans = spans_present(config.table_path(config.impressions, str(daily)))
    first = parse_span("2024-02-15")
    assert list(spans) == list(range(first, first + GENERATED.days))
    assert span_name(first + 14) == "2024-02-29"  # a leap day
    with pytest.raises(ValueError, match="not a date"):
        parse_span("2024-02-30")


def test_a_span_writes_the_examples_the_whole_log_writes_for_its_day(logs, tmp_path):
    whole, daily = logs
    whole_config = DatasetConfig.load(os.path.join(whole, "dataset.yaml"))
    examples, _, _ = run_ingestion(whole, tmp_path / "whole", dataclasses.replace(whole_config, test_days=1))
    config = DatasetConfig.load(os.path.join(daily, "dataset.yaml"))
    last = max(spans_present(config.table_path(config.impressions, str(daily))))
    span = span_inputs(
        *(config.table_path(getattr(config, t), str(daily)) for t in ("impressions", "users", "items")),
        last,
        config.history_window_days,
    )
    assert len(span.history) == GENERATED.days - 1  # every earlier day is inside the 29-day window
    written, rejections, stats = run_ingestion(daily, tmp_path / "span", config, span=span)

    assert rejections == [] and set(written) == {SPAN_SPLIT}
    # Only the span's own impressions are read, counted and written; the earlier days give clicks.
    assert stats["impressions.read"] == len(written[SPAN_SPLIT]) == len(examples["test"])
    by_key = {_key(e): e for e in examples["test"]}
    histories = 0
    for example in written[SPAN_SPLIT]:
        assert example == by_key[_key(example)]
        histories += bool(example["hist_item_id"])
    assert histories > len(written[SPAN_SPLIT]) / 2  # histories reach into the earlier days' files
