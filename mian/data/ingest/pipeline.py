"""The Beam pipeline from raw click logs to time-split tf.Examples with behavior histories.

impressions ─ parse ─ dedupe ─ join users, items ─┬─ every impression keyed (user, block) ──────┐
                                                  └─ every click keyed (user, the blocks it reaches) ─┴─
    group by (user, block) ─ attach histories ─ split by day ─ write Split-<name>/data_tfrecord-*.gz

A block is the history window plus one day (see history.block_of). Grouping by (user, block) rather
than by user bounds what a worker holds to one user's block of impressions and the clicks of two
blocks, however long the user's whole log is, and sends each click to at most two groups. Users and
items are joined as side inputs (both tables in each worker's memory) or, for large tables, by a
CoGroupByKey per table (`join` in the dataset config). Every rejected row goes to
the dead-letter output with its table, file, line, field and reason; the counts of rows read, examples
written and rows rejected per reason go to a stats JSON (with the impressions' time range) and to Beam
counters, so that for impressions read = written + rejected holds exactly, and the counts between
stages (unique, grouped) say where a row went missing if it ever does.

One run of `ingest` may cover only a part of the users (`UserPart`, see passes.py): every row of a user
goes to the same part, so each part's dedupe, history and split are those of the whole run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zlib

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from mian.config.dataset_config import SECONDS_PER_DAY, DatasetConfig
from mian.data.ingest import records
from mian.data.ingest.examples import item_values, to_example
from mian.data.ingest.history import attach_histories, block_of, click_blocks
from mian.data.ingest.raw_rows import RawRow, read_chunk, split_file, table_columns
from mian.data.ingest.spans import SpanInputs, any_span

SPLITS = ("train", "eval", "test")
# The one split of a span's examples (daily partitions): which span trains, evaluates or tests is the
# training window's choice, made each day (mian.data.ingest.window).
SPAN_SPLIT = "span"
EXAMPLES_FILE_PREFIX = "data_tfrecord"
STATS_FILE = "ingestion_stats.json"
REJECTED_FILE_PREFIX = "rejected"
# Users and items files larger than this together are joined by a shuffle, not held by every worker.
SIDE_INPUT_MAX_BYTES = 256 * 1024 * 1024
# The stats' keys for the time range of the impressions kept (Unix seconds).
FIRST_TS = "impressions.first_ts"
LAST_TS = "impressions.last_ts"
_NAMESPACE = "mian.ingest"


@dataclasses.dataclass(frozen=True)
class UserPart:
    """The users one run of `ingest` covers: those whose id hashes to `index` of `count` parts."""

    index: int = 0
    count: int = 1

    def holds(self, row: RawRow, config: DatasetConfig) -> bool:
        user = records.user_id_of(row, config)
        # A row without a readable user id is rejected, once: by the first part.
        part = 0 if user is None else zlib.crc32(user.encode("utf-8")) % self.count
        return part == self.index

    @property
    def first(self) -> bool:
        """The users and items tables are counted and their rejections written by the first part only."""
        return self.index == 0

    @property
    def suffix(self) -> str:
        """What this part adds to its file names, so that the parts' files sit side by side."""
        return "" if self.count == 1 else f"-part{self.index:04d}of{self.count:04d}"


WHOLE = UserPart()


def stats_file(part: UserPart = WHOLE) -> str:
    name, extension = os.path.splitext(STATS_FILE)
    return f"{name}{part.suffix}{extension}"


def output_splits(config: DatasetConfig) -> tuple[str, ...]:
    """The splits ingestion writes: one per span for daily partitions, else train, eval and test."""
    return (SPAN_SPLIT,) if config.daily else SPLITS


def split_dir(examples_uri: str, split: str) -> str:
    """Where a split's files go, in the layout of TFX's Examples artifact."""
    return os.path.join(examples_uri, f"Split-{split}")


def ingest(
    pipeline: beam.Pipeline,
    config: DatasetConfig,
    data_dir: str,
    examples_uri: str,
    rejected_uri: str,
    part: UserPart = WHOLE,
    last_day: int | None = None,
    span: SpanInputs | None = None,
) -> None:
    """Add the ingestion to `pipeline`; run the pipeline to write examples, rejections and stats.

    With a `part` of the users, `last_day` (the day of the whole log's last impression) places the
    time split; without one it is the last day of the impressions read. With a `span` (daily
    partitions), the impressions are the span's files, which alone are counted and become examples,
    all in SPAN_SPLIT; the clicks of their histories also come from the span's earlier days' files.
    """
    paths = {t: config.table_path(getattr(config, t), data_dir) for t in ("impressions", "users", "items")}
    if span is not None:
        paths = {"impressions": span.impressions, "users": span.users, "items": span.items}
    tables = {}
    for table in ("impressions", "users", "items"):
        spec = getattr(config, table)
        tables[table] = pipeline | f"Read {table}" >> ReadTable(paths[table], spec.resolved_format())
    earlier = None
    if span is not None and span.history:
        earlier = pipeline | "Read earlier impressions" >> ReadTable(
            list(span.history), config.impressions.resolved_format()
        )
    if part.count > 1:
        tables["impressions"] = tables["impressions"] | "Rows of this part" >> beam.Filter(part.holds, config)
        if earlier is not None:
            earlier = earlier | "Earlier rows of this part" >> beam.Filter(part.holds, config)

    users, user_rejects = tables["users"] | "Users" >> _KeyedTable(
        "users", config.user_id, config.user_columns
    )
    items, item_rejects = tables["items"] | "Items" >> _KeyedTable(
        "items", config.item_id, config.item_columns
    )

    parsed = tables["impressions"] | "Parse impressions" >> beam.Map(records.parse_impression, config)
    impressions = parsed | "Valid" >> beam.Filter(lambda r: not isinstance(r, records.Rejection))
    impression_rejects = parsed | "Invalid" >> beam.Filter(lambda r: isinstance(r, records.Rejection))
    unique = impressions | "Deduplicate" >> _Deduplicated()
    shuffle = join_kind(config, data_dir) == "shuffle"
    joined = unique.kept | "Join users and items" >> _Join(users, items, shuffle)
    clicks = joined | "Clicks" >> beam.Filter(lambda r: r["label"] == 1)
    if earlier is not None:
        # The earlier days' valid clicks, once each: their rows were counted in their own spans.
        earlier_clicks = (
            earlier
            | "Parse earlier" >> beam.Map(records.parse_impression, config)
            | "Earlier clicks"
            >> beam.Filter(lambda r: not isinstance(r, records.Rejection) and r["label"] == 1)
            | "Deduplicate earlier" >> _Deduplicated()
        )
        earlier_joined = earlier_clicks.kept | "Join earlier clicks" >> _Join(users, items, shuffle)
        clicks = (clicks, earlier_joined) | "Span and earlier clicks" >> beam.Flatten()

    times = joined | "Times" >> beam.Map(lambda r: r["ts"])
    first_ts = times | "Earliest" >> beam.CombineGlobally(min).without_defaults()
    last_ts = times | "Latest" >> beam.CombineGlobally(max).without_defaults()
    if last_day is None:
        split_day = last_ts | "Last day" >> beam.Map(lambda ts: ts // SECONDS_PER_DAY)
    else:
        split_day = pipeline | "Last day" >> beam.Create([last_day])
    window_days = config.history_window_days
    keyed_impressions = joined | "Key impressions" >> beam.Map(
        lambda r: ((r["user_id"], block_of(r["ts"], window_days)), ("impression", r))
    )
    keyed_clicks = clicks | "Key clicks by the blocks they reach" >> beam.FlatMap(_click_keys, config)
    user_blocks = (
        (keyed_impressions, keyed_clicks)
        | "Impressions and clicks" >> beam.Flatten()
        | "Group by user and block" >> beam.GroupByKey()
    )
    examples = user_blocks | "Attach histories" >> beam.FlatMap(
        _examples_of_block, config, beam.pvalue.AsSingleton(split_day)
    )
    splits = output_splits(config)
    by_split = examples | "Split by time" >> beam.Partition(
        lambda split_and_example, _: splits.index(split_and_example[0]), len(splits)
    )
    for split, split_examples in zip(splits, by_split, strict=True):
        _ = (
            split_examples
            | f"Drop split name {split}" >> beam.Map(lambda s: s[1])
            | f"Write {split}"
            >> beam.io.WriteToTFRecord(
                os.path.join(split_dir(examples_uri, split), EXAMPLES_FILE_PREFIX + part.suffix),
                file_name_suffix=".gz",
            )
        )

    rejections = [impression_rejects, unique.duplicate]
    counts = [tables["impressions"] | "Count impressions read" >> beam.Map(lambda _: "impressions.read")]
    if part.first:
        rejections += [user_rejects, item_rejects]
        counts += [
            tables["users"] | "Count users read" >> beam.Map(lambda _: "users.read"),
            tables["items"] | "Count items read" >> beam.Map(lambda _: "items.read"),
        ]
    rejected = rejections | "All rejections" >> beam.Flatten()
    _ = (
        rejected
        | "Rejections as JSON" >> beam.Map(lambda r: json.dumps(r.to_dict(), sort_keys=True))
        | "Write rejections"
        >> beam.io.WriteToText(
            os.path.join(rejected_uri, REJECTED_FILE_PREFIX + part.suffix), file_name_suffix=".jsonl"
        )
    )

    counts += [
        rejected | "Count rejections" >> beam.Map(lambda r: f"{r.table}.rejected.{r.reason}"),
        joined | "Count unknown ids" >> beam.FlatMap(_unknown_ids),
        joined | "Count unique impressions" >> beam.Map(lambda _: "impressions.unique"),
        user_blocks | "Count grouped impressions" >> beam.FlatMap(_grouped_impressions),
        examples | "Count examples" >> beam.Map(lambda s: f"examples.{s[0]}"),
    ]
    _ = (
        counts
        | "All counts" >> beam.Flatten()
        | "Beam counters" >> beam.ParDo(_Tally())
        | "Count" >> beam.combiners.Count.PerElement()
        | "As dict" >> beam.combiners.ToDict()
        | "Time range"
        >> beam.Map(_with_time_range, beam.pvalue.AsList(first_ts), beam.pvalue.AsList(last_ts))
        | "Stats as JSON" >> beam.Map(lambda d: json.dumps(d, sort_keys=True, indent=1))
        | "Write stats"
        >> beam.io.WriteToText(
            os.path.join(rejected_uri, stats_file(part)), num_shards=1, shard_name_template=""
        )
    )


def _with_time_range(counts: dict, first: list, last: list) -> dict:
    """The counts with the first and last impression time (Unix seconds), when there is any."""
    if first:
        counts = {**counts, FIRST_TS: first[0], LAST_TS: last[0]}
    return counts


class _Tally(beam.DoFn):
    """Mirrors every count key ("impressions.read", "examples.train", ...) in a Beam counter, so a
    runner's monitoring shows the same books as ingestion_stats.json."""

    def process(self, key):
        Metrics.counter(_NAMESPACE, key).inc()
        yield key


class ReadTable(beam.PTransform):
    """Every row of every file matching a path or glob (or any of a list of them), as RawRows with file
    and line; files are read in chunks of lines, spread over the workers."""

    def __init__(self, patterns: str | list[str], file_format: str):
        super().__init__()
        self.patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        self.file_format = file_format

    def expand(self, pbegin):
        return (
            pbegin
            | beam.Create(self.patterns)
            | fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.DISALLOW)
            | beam.FlatMap(lambda metadata, fmt: split_file(metadata.path, fmt), self.file_format)
            | beam.Reshuffle()
            | beam.FlatMap(read_chunk)
        )


class _KeyedTable(beam.PTransform):
    """A users or items table as (id, {column: value}), first occurrence of each id kept."""

    def __init__(self, table: str, key_column: str, columns: dict):
        super().__init__()
        self.table, self.key_column, self.columns = table, key_column, columns

    def expand(self, rows):
        table, key_column = self.table, self.key_column
        parsed = rows | beam.Map(records.parse_table_row, table, key_column, self.columns)
        valid = parsed | "Valid" >> beam.Filter(lambda r: not isinstance(r, records.Rejection))
        invalid = parsed | "Invalid" >> beam.Filter(lambda r: isinstance(r, records.Rejection))

        def keep_first(key_and_rows):
            key, occurrences = key_and_rows
            first, duplicates = _first_occurrence(
                occurrences, location=lambda o: (o[2], o[3]), text=lambda o: o[4], table=table,
                field=key_column,
            )  # fmt: skip
            yield key, first[1]
            for rejection in duplicates:
                yield beam.pvalue.TaggedOutput("duplicate", rejection)

        deduped = (
            valid
            | "By id" >> beam.GroupBy(lambda r: r[0])
            | "First of each id" >> beam.FlatMap(keep_first).with_outputs("duplicate", main="kept")
        )
        rejected = (invalid, deduped.duplicate) | "Rejections" >> beam.Flatten()
        return deduped.kept, rejected


class _Deduplicated(beam.PTransform):
    """Impressions with the same user, item and second once, the first kept (`kept`), the others as
    duplicate rejections (`duplicate`)."""

    def expand(self, impressions):
        return (
            impressions
            | "Key by user, item, time" >> beam.Map(lambda r: ((r["user_id"], r["item_id"], r["ts"]), r))
            | "Group duplicates" >> beam.GroupByKey()
            | "Keep first" >> beam.ParDo(_KeepFirstImpression()).with_outputs("duplicate", main="kept")
        )


class _KeepFirstImpression(beam.DoFn):
    """Of impressions with the same user, item and second, keep the first (by file and line)."""

    def process(self, key_and_impressions):
        first, duplicates = _first_occurrence(
            key_and_impressions[1],
            location=lambda r: (r["file"], r["line"]),
            text=lambda r: r["text"],
            table="impressions",
            field="user_id, item_id, timestamp",
        )
        # The raw text is kept only to quote in a duplicate's rejection.
        yield {k: v for k, v in first.items() if k != "text"}
        for rejection in duplicates:
            yield beam.pvalue.TaggedOutput("duplicate", rejection)


def _first_occurrence(occurrences, location, text, table: str, field: str):
    """The occurrence that comes first by (file, line), and a duplicate rejection for each other."""
    first, *others = sorted(occurrences, key=location)
    kept = location(first)
    rejected = []
    for other in others:
        file, line = location(other)
        rejected.append(records.duplicate(table, file, line, text(other), field, kept))
    return first, rejected


def derived_context_clash(config: DatasetConfig, data_dir: str) -> str | None:
    """One line refusing the derived time-context fields that the impressions carry as columns of their
    own, or None. The log's own column is never overwritten: the config must say which it means."""
    path = any_span(config.table_path(config.impressions, data_dir))
    columns = table_columns(path, config.impressions.resolved_format())
    clashes = [name for name in config.derived_context if name in columns]
    if not clashes:
        return None
    return (
        f"dataset config {config.name!r}: derived_context {clashes} are also columns of the impressions "
        f"({path}): drop them from derived_context to use the log's own (as context_columns), or rename "
        "the columns"
    )


def join_kind(config: DatasetConfig, data_dir: str) -> str:
    """ "side_input" or "shuffle": the config's choice, or by the users and items files' total size."""
    if config.join != "auto":
        return config.join
    patterns = [config.table_path(t, data_dir) for t in (config.users, config.items)]
    size = sum(m.size_in_bytes for r in FileSystems.match(patterns) for m in r.metadata_list)
    return "shuffle" if size > SIDE_INPUT_MAX_BYTES else "side_input"


class _Join(beam.PTransform):
    """Impressions with their user and item rows: both tables as side inputs (in every worker's
    memory), or with `shuffle` a CoGroupByKey per table, so that neither table needs to fit in a
    worker; the same records either way."""

    def __init__(self, users, items, shuffle: bool):
        super().__init__()
        self.users, self.items, self.shuffle = users, items, shuffle

    def expand(self, impressions):
        if not self.shuffle:
            return impressions | beam.Map(
                _join, beam.pvalue.AsDict(self.users), beam.pvalue.AsDict(self.items)
            )
        joined = impressions
        for field, table in (("user", self.users), ("item", self.items)):
            joined = (
                {
                    "impressions": joined
                    | f"By {field}" >> beam.Map(lambda r, key=f"{field}_id": (r[key], r)),
                    "rows": table,
                }
                | f"Group with {field}" >> beam.CoGroupByKey()
                | f"Attach {field}" >> beam.FlatMap(_attach, field)
            )
        return joined


def _attach(key_and_groups, field: str):
    """Each impression of a key with the table's row of that key (None when the table lacks it)."""
    _, groups = key_and_groups
    row = next(iter(groups["rows"]), None)  # the tables are deduplicated: one row at most
    for impression in groups["impressions"]:
        yield {**impression, field: row}


def _join(impression: dict, users: dict, items: dict) -> dict:
    return {**impression, "user": users.get(impression["user_id"]), "item": items.get(impression["item_id"])}


def _grouped_impressions(key_and_values):
    for kind, _ in key_and_values[1]:
        if kind == "impression":
            yield "impressions.grouped"


def _unknown_ids(impression: dict):
    if impression["user"] is None:
        yield "impressions.unknown_user"
    if impression["item"] is None:
        yield "impressions.unknown_item"


def _click_keys(impression: dict, config: DatasetConfig):
    """A click keyed by every (user, block) whose impressions may hold it in their history."""
    values = item_values(impression, config)
    click = {
        "ts": impression["ts"],
        "order": (impression["file"], impression["line"]),
        "values": {c: values.get(c) for c in config.history_columns},
    }
    for block in click_blocks(impression["ts"], config.history_window_days):
        yield (impression["user_id"], block), ("click", click)


def _examples_of_block(key_and_values, config: DatasetConfig, last_day: int):
    impressions: list = []
    clicks: list = []
    for kind, value in key_and_values[1]:
        (impressions if kind == "impression" else clicks).append(value)
    impressions.sort(key=lambda r: (r["ts"], r["file"], r["line"]))
    for impression, history in attach_histories(
        impressions, clicks, config.history_length, config.history_window_days
    ):
        split = (
            SPAN_SPLIT
            if config.daily
            else split_of_day(impression["ts"] // SECONDS_PER_DAY, last_day, config)
        )
        yield split, to_example(impression, history, config).SerializeToString()


def split_of_day(day: int, last_day: int, config: DatasetConfig) -> str:
    """The last `test_days` days are test, the `eval_days` before them eval, all earlier days train."""
    test_start = last_day - config.test_days + 1
    if day >= test_start:
        return "test"
    if day >= test_start - config.eval_days:
        return "eval"
    return "train"
