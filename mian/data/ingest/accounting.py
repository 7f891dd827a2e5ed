"""The ingestion's books: rows read, examples written, rows rejected per reason; the reject and split
gates."""

from __future__ import annotations

import datetime
import json
import os

from apache_beam.io.filesystems import FileSystems

from mian.config.dataset_config import SECONDS_PER_DAY, DatasetConfig
from mian.data.ingest.pipeline import (
    FIRST_TS,
    LAST_TS,
    REJECTED_FILE_PREFIX,
    SPAN_SPLIT,
    SPLITS,
    WHOLE,
    UserPart,
    output_splits,
    stats_file,
)

TABLES = ("impressions", "users", "items")


class IngestionCheckFailed(RuntimeError):
    """The ingestion's output must not be used: see the subclasses."""


class TooManyRejects(IngestionCheckFailed):
    """More rows were rejected than the dataset config allows."""


class BooksDoNotBalance(IngestionCheckFailed):
    """Impressions were lost: fewer examples and rejections than rows read."""


class SplitTooSmall(IngestionCheckFailed):
    """A split holds fewer examples than the dataset config's minimum: the time windows do not fit."""


def load_stats(rejected_uri: str, part: UserPart = WHOLE) -> dict[str, int]:
    """The counts the pipeline (or one part of it) wrote next to its rejections."""
    with FileSystems.open(os.path.join(rejected_uri, stats_file(part))) as f:
        return json.loads(f.read().decode("utf-8"))


def merge_stats(parts: list[dict[str, int]]) -> dict[str, int]:
    """The books of a run made of several passes: counts summed, the time range spanning them all."""
    merged: dict[str, int] = {}
    for stats in parts:
        for key, value in stats.items():
            if key in merged and key in (FIRST_TS, LAST_TS):
                merged[key] = (min if key == FIRST_TS else max)(merged[key], value)
            else:
                merged[key] = merged.get(key, 0) + value
    return merged


def rejected(stats: dict[str, int], table: str) -> dict[str, int]:
    """{reason: rows} rejected from one table."""
    prefix = f"{table}.rejected."
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}


def examples_by_split(stats: dict[str, int]) -> dict[str, int]:
    """{split: examples written}, in the order ingestion writes the splits."""
    written = {k.split(".", 1)[1]: v for k, v in stats.items() if k.startswith("examples.")}
    order = [s for s in (*SPLITS, SPAN_SPLIT) if s in written]
    return {s: written[s] for s in order + sorted(set(written) - set(order))}


def examples_written(stats: dict[str, int]) -> int:
    return sum(examples_by_split(stats).values())


def lost_impressions(stats: dict[str, int]) -> int:
    """Impressions read but neither written as examples nor rejected (0 when the books balance)."""
    dropped = sum(rejected(stats, "impressions").values())
    return stats.get("impressions.read", 0) - examples_written(stats) - dropped


def check_books(stats: dict[str, int], max_reject_share: float, rejected_uri: str) -> None:
    """Raise when the impressions' books do not balance or when any table rejected too much.

    Every impression read is written as an example or rejected; a table whose rejected share exceeds
    `max_reject_share` fails the run with its counts per reason and where the rejected rows are.
    """
    lost = lost_impressions(stats)
    if lost:
        read = stats.get("impressions.read", 0)
        written, dropped = examples_written(stats), sum(rejected(stats, "impressions").values())
        raise BooksDoNotBalance(
            f"impressions read {read} != examples written {written} + rows rejected {dropped}: "
            f"{lost} impressions were lost by the runner; the output is incomplete"
        )
    for table in TABLES:
        table_read = stats.get(f"{table}.read", 0)
        reasons = rejected(stats, table)
        share = sum(reasons.values()) / table_read if table_read else 0.0
        if share > max_reject_share:
            detail = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            raise TooManyRejects(
                f"{table}: {sum(reasons.values())} of {table_read} rows rejected ({share:.2%}, more "
                f"than the allowed {max_reject_share:.2%}): {detail}. Each rejected row, with its file, "
                f"line and reason, is in {os.path.join(rejected_uri, REJECTED_FILE_PREFIX)}*.jsonl"
            )


def check(stats: dict[str, int], config: DatasetConfig, rejected_uri: str) -> None:
    """Every check of an ingestion's output: the books, the reject shares and the split sizes."""
    check_books(stats, config.max_reject_share, rejected_uri)
    check_splits(stats, config)


def check_splits(stats: dict[str, int], config: DatasetConfig) -> None:
    """Raise when a split holds fewer than `config.min_split_examples` examples, naming the time range
    the impressions span and the windows the config asks for."""
    small = {s: stats.get(f"examples.{s}", 0) for s in output_splits(config)}
    small = {s: n for s, n in small.items() if n < config.min_split_examples}
    if not small:
        return
    if FIRST_TS in stats:
        span = (stats[LAST_TS] - stats[FIRST_TS]) / SECONDS_PER_DAY
        found = f"The impressions span {_utc(stats[FIRST_TS])} to {_utc(stats[LAST_TS])} ({span:.1f} days)"
    else:
        found = "No impression was kept"
    counts = ", ".join(f"{s} {n}" for s, n in small.items())
    if config.daily:
        raise SplitTooSmall(
            f"the span holds {counts} examples, fewer than min_split_examples ({config.min_split_examples})"
        )
    raise SplitTooSmall(
        f"splits with fewer than {config.min_split_examples} examples: {counts}. {found}; the config asks "
        f"for the last {config.test_days} day(s) as test and the {config.eval_days} day(s) before them as "
        f"eval, the rest as train (split.eval_days and split.test_days in dataset.yaml, whole UTC days)"
    )


def _utc(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def summary(stats: dict[str, int]) -> str:
    """One line per table and one for the splits."""
    lines = []
    for table in TABLES:
        reasons = rejected(stats, table)
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"
        lines.append(f"{table}: {stats.get(f'{table}.read', 0)} read, rejected: {detail}")
    unknown = [
        f"{stats[k]} {k.split('.', 1)[1]}" for k in sorted(stats) if k.startswith("impressions.unknown")
    ]
    if unknown:
        lines.append(f"impressions kept with empty profile fields: {', '.join(unknown)}")
    splits = ", ".join(f"{s} {n}" for s, n in examples_by_split(stats).items())
    lines.append(f"examples written: {examples_written(stats)} ({splits})")
    return "\n".join(lines)
