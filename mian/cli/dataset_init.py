"""Proposing a dataset config from the raw tables themselves (`mian init`).

The tables of a data directory (CSV or JSON Lines, .gz allowed, any Beam filesystem) are read up to
`SAMPLE_ROWS` rows each. From what they hold:
- the impressions table is the one with a timestamp-like column and a 0/1 column (by name when a file
  is called impressions, clicks, events, ...); the other two are the users and items tables, told apart
  by their names or their id columns' names;
- the ids are the side tables' key columns (unique values) that the impressions also carry;
- the time is the impressions column whose values are all Unix seconds, milliseconds or ISO 8601 times;
  the label the 0/1 column (a click-like name first);
- every other column is categorical, or numerical when its values are numbers that are not all
  integers or take more than `MAX_INTEGER_CATEGORIES` values; a column with one value only, or with a
  different value in (almost) every row (row ids, free text), is not used;
- the user id is the first user field, as in the paper's datasets: what a user's own clicks say beyond
  the profile (the pipeline's `vocabulary.user_id_frequency_threshold` and the model's id admission
  keep the rows of users with few impressions from memorizing them);
- history columns are the item's categorical columns; derived context is the time context the
  impressions do not carry as columns of their own (a log's own `hour` is never replaced); eval and
  test each get about a tenth of the days the impressions span (at least one).

The schema's statistics read the whole log, not this sample (mian.cli.schema_draft).

What cannot be decided is a `CannotPropose` with one line saying which table and why.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import re

from apache_beam.io.filesystems import FileSystems

from mian.config.dataset_config import (
    DERIVED_CONTEXT,
    SECONDS_PER_DAY,
    TIMESTAMP_UNITS,
)
from mian.data.ingest.raw_rows import Chunk, read_chunk, split_file
from mian.data.ingest.records import timestamp_seconds
from mian_keras.feature_spec import CATEGORICAL, NUMERICAL

SAMPLE_ROWS = 20_000
# Integer columns with at most this many values are categories (ratings, years, codes).
MAX_INTEGER_CATEGORIES = 100
# A column with distinct values in more than this share of a table's rows identifies rows: unused.
ROW_ID_SHARE = 0.95
TABLE_SUFFIXES = (".csv", ".jsonl", ".json", ".csv.gz", ".jsonl.gz", ".json.gz")
_IMPRESSION_NAMES = ("impression", "click", "event", "log", "interaction", "rating", "view", "exposure")
_USER_NAMES = ("user", "profile", "member", "customer", "account")
_ITEM_NAMES = ("item", "product", "movie", "ad", "video", "article", "doc", "good", "offer", "song")
_LABEL_NAMES = ("clicked", "click", "label", "is_click", "target", "y", "converted")
_TIME_NAMES = ("timestamp", "ts", "time", "event_time", "datetime", "date")
EARLIEST_PLAUSIBLE_SECONDS = 631_152_000  # 1990-01-01: smaller numbers are not times of a click log


class CannotPropose(ValueError):
    """The tables do not say what the config needs; the message names the table and the reason."""


@dataclasses.dataclass
class Table:
    path: str
    file_format: str
    rows: list[dict]

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def values(self, column: str) -> list[str]:
        """The column's non-empty values, as text."""
        return [str(r[column]).strip() for r in self.rows if _present(r.get(column))]


@dataclasses.dataclass
class Proposal:
    """The proposed config (as dataset.yaml's dict) and, per decision, why."""

    config: dict
    reasons: list[str]


def find_tables(data_dir: str) -> list[str]:
    """The table files directly in `data_dir` (sorted)."""
    matched = FileSystems.match([FileSystems.join(data_dir, "*")])[0].metadata_list
    return sorted(m.path for m in matched if m.path.lower().endswith(TABLE_SUFFIXES))


def read_sample(path: str, limit: int = SAMPLE_ROWS) -> Table:
    """The first `limit` parseable rows of a table."""
    file_format = "jsonl" if ".json" in os.path.basename(path).lower() else "csv"
    chunk = next(split_file(path, file_format, lines_per_chunk=limit), None)
    rows = (
        [] if chunk is None else [r.columns for r in itertools.islice(read_chunk(chunk), limit) if r.columns]
    )
    return Table(path, file_format, rows)


def propose(data_dir: str, name: str | None = None) -> Proposal:
    """A dataset config for the tables in `data_dir`; raises CannotPropose with the reason."""
    paths = find_tables(data_dir)
    if len(paths) != 3:
        raise CannotPropose(
            f"{data_dir}: expected 3 tables (impressions, users, items as .csv or .jsonl), found "
            f"{len(paths)}: {', '.join(os.path.basename(p) for p in paths) or 'none'}"
        )
    tables = [read_sample(p) for p in paths]
    for table in tables:
        if not table.rows:
            raise CannotPropose(f"{table.path}: no rows")
    reasons: list[str] = []
    impressions = _impressions_table(tables)
    timestamp, unit = _timestamp_column(impressions)
    label = _label_column(impressions, exclude={timestamp})
    unit_name = _unit_name(impressions.values(timestamp), unit)
    reasons.append(
        f"impressions: {impressions.name} (time column {timestamp!r} in {unit_name}, label {label!r})"
    )
    users, items, user_id, item_id = _side_tables([t for t in tables if t is not impressions], impressions)
    reasons.append(f"users: {users.name} keyed by {user_id!r}; items: {items.name} keyed by {item_id!r}")

    used = {user_id, item_id, timestamp, label}
    item_columns = _kinds(items, exclude=used, reasons=reasons)
    user_columns = _kinds(users, exclude=used, reasons=reasons)
    context_columns = _kinds(impressions, exclude=used, reasons=reasons)
    clashes = (set(item_columns) | set(user_columns)) & set(context_columns) | set(item_columns) & set(
        user_columns
    )
    if clashes:
        raise CannotPropose(f"columns {sorted(clashes)} appear in more than one table: rename them")
    user_columns = {user_id: CATEGORICAL, **user_columns}
    reasons.append(
        f"user fields: the user id {user_id!r} first (users with fewer train impressions than "
        "vocabulary.user_id_frequency_threshold share its out-of-vocabulary ids)"
    )
    # A field the impressions carry as a column (used or not) is theirs: never derived over it.
    derived = [d for d in DERIVED_CONTEXT if d not in impressions.columns]
    if len(derived) < len(DERIVED_CONTEXT):
        reasons.append(f"derived context: {derived} (the impressions carry the others as columns)")
    history = [item_id] + [c for c, kind in item_columns.items() if kind == CATEGORICAL]
    days = _days_spanned(impressions, timestamp, unit)
    window = max(1, round(days / 10))
    reasons.append(
        f"split: the impressions span {days:.1f} days (sampled: the first {SAMPLE_ROWS} rows and the "
        f"end of each file); eval and test get {window} day(s) each"
    )
    config = {
        "name": name or os.path.basename(os.path.normpath(data_dir)),
        "impressions": impressions.name,
        "users": users.name,
        "items": items.name,
        "user_id": user_id,
        "item_id": item_id,
        "timestamp": timestamp,
        "timestamp_unit": unit,
        "label": label,
        "item_columns": item_columns,
        "history_columns": history,
        "user_columns": user_columns,
        "context_columns": context_columns,
        "derived_context": derived,
        "history": {"length": 30, "window_days": 29},
        "split": {"eval_days": window, "test_days": window},
        "max_reject_share": 0.01,
        "embedding_dim": 16,
    }
    return Proposal(config, reasons)


def _present(value) -> bool:
    return value is not None and str(value).strip() != ""


def _named(name: str, hints) -> bool:
    words = re.split(r"[^a-z]+", name.lower())
    return any(h in words or any(w.startswith(h) for w in words if w) for h in hints)


def _impressions_table(tables: list[Table]) -> Table:
    by_name = [t for t in tables if _named(t.name.split(".")[0], _IMPRESSION_NAMES)]
    if len(by_name) == 1:
        return by_name[0]
    with_time = [t for t in tables if any(_time_unit(t.values(c)) for c in t.columns)]
    if not with_time:
        names = ", ".join(t.name for t in tables)
        raise CannotPropose(
            f"no table has a timestamp-like column (Unix seconds or milliseconds, or ISO 8601 times) "
            f"among {names}: the impressions need one"
        )
    return max(with_time, key=lambda t: len(t.rows))


def _time_unit(values: list[str]) -> str | None:
    """The `timestamp_unit` ("s" or "ms") in which ingestion reads every value as a time of a click log
    (ISO 8601 times carry their own: "s"), else None."""
    for unit in TIMESTAMP_UNITS:
        seconds = [timestamp_seconds(v, unit) for v in values]
        if values and all(s is not None and s >= EARLIEST_PLAUSIBLE_SECONDS for s in seconds):
            return unit
    return None


def _unit_name(values: list[str], unit: str) -> str:
    """How the time column is written, for the report."""
    if _numbers(values) is None:
        return "ISO 8601"
    return {"s": "seconds", "ms": "milliseconds"}[unit]


def _timestamp_column(impressions: Table) -> tuple[str, str]:
    candidates = [(c, u) for c in impressions.columns if (u := _time_unit(impressions.values(c)))]
    if not candidates:
        raise CannotPropose(
            f"{impressions.path}: no timestamp-like column (Unix seconds or milliseconds, or ISO 8601 "
            f"times) among its columns {impressions.columns}"
        )
    named = [(c, u) for c, u in candidates if c.lower() in _TIME_NAMES]
    return (named or candidates)[0]


def _binary(values: list[str]) -> bool:
    return bool(values) and set(values) <= {"0", "1", "0.0", "1.0", "true", "false", "True", "False"}


def _label_column(impressions: Table, exclude: set) -> str:
    columns = [c for c in impressions.columns if c not in exclude]
    named = [c for c in columns if c.lower() in _LABEL_NAMES]
    for column in named:
        values = impressions.values(column)
        if not _binary(values):
            others = sorted({v for v in values if not _binary([v])})[:5]
            raise CannotPropose(
                f"{impressions.path}: the label column {column!r} must hold 0/1, and holds {others}"
            )
        return column
    binary = [c for c in columns if _binary(impressions.values(c))]
    if not binary:
        raise CannotPropose(f"{impressions.path}: no 0/1 click label among its columns {columns}")
    return binary[0]


def _key_columns(table: Table) -> list[str]:
    """Columns whose sampled values are all present and distinct."""
    return [c for c in table.columns if len(set(table.values(c))) == len(table.rows)]


def _side_tables(tables: list[Table], impressions: Table):
    """(users, items, user id column, item id column)."""
    keys = {}
    for table in tables:
        overlap = []
        for key in _key_columns(table):
            if key in impressions.columns:
                shared = set(table.values(key)) & set(impressions.values(key))
                overlap.append((len(shared), key))
        if not overlap or max(overlap)[0] == 0:
            raise CannotPropose(
                f"{table.path}: no column with one distinct value per row that the impressions also carry "
                f"(its id); columns {table.columns}, impressions' columns {impressions.columns}"
            )
        keys[table.path] = max(overlap)[1]
    first, second = tables

    def user_score(table: Table) -> int:
        stem, key = table.name.split(".")[0], keys[table.path]
        return (_named(stem, _USER_NAMES) - _named(stem, _ITEM_NAMES)) * 2 + (
            _named(key, _USER_NAMES + ("u", "uid")) - _named(key, _ITEM_NAMES + ("i", "iid"))
        )

    if user_score(first) == user_score(second):
        raise CannotPropose(
            f"cannot tell which of {first.name} and {second.name} is the users table: name the files "
            f"users.* and items.*"
        )
    users, items = (first, second) if user_score(first) > user_score(second) else (second, first)
    return users, items, keys[users.path], keys[items.path]


def _kinds(table: Table, exclude: set, reasons: list[str]) -> dict:
    """{column: categorical | numerical} of the table's feature columns; the unused ones in `reasons`."""
    kinds = {}
    for column in table.columns:
        if column in exclude:
            continue
        values = table.values(column)
        distinct = len(set(values))
        if any(isinstance(r.get(column), (list, dict)) for r in table.rows):
            reasons.append(f"{table.name}: {column!r} not used (nested values)")
        elif distinct <= 1:
            reasons.append(f"{table.name}: {column!r} not used (one value only)")
        elif len(table.rows) >= 100 and distinct > ROW_ID_SHARE * len(table.rows) and _identifies(values):
            reasons.append(
                f"{table.name}: {column!r} not used (a different value in almost every row: an id or "
                f"free text; {distinct} distinct in {len(table.rows)} rows)"
            )
        else:
            kinds[column] = _kind(values)
    return kinds


def _identifies(values: list[str]) -> bool:
    """Text or integers (ids, free text), not measurements such as prices, which may all differ."""
    numbers = _numbers(values)
    return numbers is None or all(n == int(n) for n in numbers)


def _numbers(values: list[str]) -> list[float] | None:
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return None
    return numbers if all(math.isfinite(n) for n in numbers) else None


def _kind(values: list[str]) -> str:
    numbers = _numbers(values)
    if numbers is None:
        return CATEGORICAL
    integers = all(n == int(n) for n in numbers)
    if integers and len(set(numbers)) <= MAX_INTEGER_CATEGORIES:
        return CATEGORICAL
    return NUMERICAL


def _days_spanned(impressions: Table, timestamp: str, unit: str) -> float:
    """Days between the earliest and the latest time in the sample and each file's last lines."""
    values = impressions.values(timestamp) + _tail_values(impressions, timestamp)
    seconds = [s for s in (timestamp_seconds(v, unit) for v in values) if s is not None]
    return (max(seconds) - min(seconds)) / SECONDS_PER_DAY


def _tail_values(table: Table, column: str, tail_bytes: int = 1 << 20) -> list[str]:
    """The column's values in the whole lines of the last `tail_bytes` of an uncompressed file."""
    if table.path.endswith(".gz"):
        return []
    size = FileSystems.match([table.path])[0].metadata_list[0].size_in_bytes
    start = max(0, size - tail_bytes)
    with FileSystems.open(table.path) as handle:
        handle.seek(start)
        start += len(handle.readline())  # a partial line (or the header, or a row the sample has)
    header = tuple(table.columns) if table.file_format == "csv" else None
    rows = read_chunk(Chunk(table.path, table.file_format, 0, start, size, header))
    return [str(r.columns[column]).strip() for r in rows if r.columns and _present(r.columns.get(column))]
