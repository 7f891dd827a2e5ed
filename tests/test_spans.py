"""Daily spans: the impressions of one day ingested alone, their histories read from the earlier days."""

import dataclasses
import os

import pytest

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest.pipeline import SPAN_SPLIT
from mian.data.ingest.span_store import SpanRecord
from mian.data.ingest.spans import parse_span, span_inputs, span_name, spans_present
from mian.data.ingest.window import choose_window
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


def test_a_daily_side_table_is_read_from_its_newest_snapshot_on_or_before_the_span(logs, tmp_path):
    _, daily = logs
    first = parse_span(GENERATED.start)
    for offset in (0, 2):  # users snapshots of the first and the third day
        folder = tmp_path / "users" / span_name(first + offset)
        folder.mkdir(parents=True)
        (folder / "users.csv").write_text(open(os.path.join(daily, "users.csv")).read())
    config = DatasetConfig.load(os.path.join(daily, "dataset.yaml"))
    impressions = config.table_path(config.impressions, str(daily))
    users = str(tmp_path / "users" / "{YYYY}-{MM}-{DD}" / "users.csv")
    items = os.path.join(daily, "items.csv")
    picked = {s: span_inputs(impressions, users, items, first + s, 29).users for s in (0, 1, 2, 4)}
    assert picked == {
        0: users.replace("{YYYY}-{MM}-{DD}", span_name(first)),
        1: users.replace("{YYYY}-{MM}-{DD}", span_name(first)),
        2: users.replace("{YYYY}-{MM}-{DD}", span_name(first + 2)),
        4: users.replace("{YYYY}-{MM}-{DD}", span_name(first + 2)),
    }
    # A window of 2 days reads the 2 days before; the first span has no earlier day.
    assert len(span_inputs(impressions, users, items, first + 4, 2).history) == 2
    assert span_inputs(impressions, users, items, first, 29).history == ()
    with pytest.raises(FileNotFoundError, match="no impressions of span 2024-01-01"):
        span_inputs(impressions, users, items, parse_span("2024-01-01"), 29)


def test_the_window_takes_each_spans_newest_version_and_says_what_it_lacks():
    records = [
        SpanRecord(f"/a/{n}", span, version, "f")
        for n, (span, version) in enumerate([(10, 0), (11, 0), (11, 1), (13, 0), (14, 0), (15, 0)])
    ]
    window = choose_window(records, newest=15, train_spans=4, eval_spans=1)
    assert window.test.span == 15 and [r.span for r in window.eval] == [14]
    assert [(r.span, r.version) for r in window.train] == [(10, 0), (11, 1), (13, 0)]
    assert window.missing == (12,)
    with pytest.raises(ValueError, match="mian run --backfill 1970-01-13 1970-01-16"):
        choose_window(records[4:], newest=15, train_spans=2, eval_spans=1)


def test_the_fresh_spans_are_those_the_warm_starts_base_has_not_trained_on():
    records = [SpanRecord(f"/a/{span}", span, 0, "f") for span in range(10, 16)]

    def fresh(**base) -> list[int]:
        window = choose_window(records, newest=15, train_spans=4, eval_spans=1, **base)
        assert set(window.splits()) == {
            "train",
            "eval",
            "test",
            *(f"fresh-{s}" for s in window.to_dict()["fresh"]),
        }
        return [r.span for r in window.fresh]

    # No base (a cold start): the newest train span, which names what the model will have trained on.
    assert fresh() == [13]
    # A base that trained through yesterday's newest train span: today's one new span; after a day
    # missed, the two the base has not seen.
    assert fresh(has_base=True, base_trained_through=12) == [13]
    assert fresh(has_base=True, base_trained_through=11) == [12, 13]
    # A base that has seen them all still trains on the newest; one of unknown history, on them all.
    assert fresh(has_base=True, base_trained_through=14) == [13]
    assert fresh(has_base=True, base_trained_through=None) == [10, 11, 12, 13]
