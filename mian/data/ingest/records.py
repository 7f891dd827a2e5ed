"""Turning raw rows into validated records, or into rejections that name file, line, field and reason."""

from __future__ import annotations

import dataclasses
import datetime
import math

from mian.config.dataset_config import TIMESTAMP_UNITS, DatasetConfig
from mian.data.ingest.raw_rows import NOT_UTF8, RawRow
from mian.data.ingest.time_context import LATEST_PLAUSIBLE_SECONDS
from mian_keras.feature_spec import NUMERICAL

# Why a row was rejected: the reasons counted and written to the dead-letter output.
UNPARSEABLE = "unparseable"
MISSING_FIELD = "missing_field"
BAD_TIMESTAMP = "bad_timestamp"
BAD_LABEL = "bad_label"
BAD_NUMBER = "bad_number"
BAD_ENCODING = "bad_encoding"
DUPLICATE = "duplicate"


@dataclasses.dataclass(frozen=True)
class Rejection:
    """A row that cannot become an example, and why."""

    table: str
    file: str
    line: int
    reason: str
    field: str
    detail: str
    row: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Invalid(Exception):
    def __init__(self, reason: str, field: str, detail: str):
        super().__init__(detail)
        self.reason, self.field, self.detail = reason, field, detail


def parse_impression(row: RawRow, config: DatasetConfig) -> dict | Rejection:
    """An impression record {user_id, item_id, ts, label, context, file, line, text}, or a Rejection."""
    try:
        columns = _columns(row)
        record = {
            "user_id": _required(columns, config.user_id),
            "item_id": _required(columns, config.item_id),
            "ts": parse_timestamp(
                _required(columns, config.timestamp), config.timestamp, config.timestamp_unit
            ),
            "label": _label(_required(columns, config.label), config.label),
            "context": _values(columns, config.context_columns),
            "file": row.file,
            "line": row.line,
            "text": row.text,
        }
    except _Invalid as invalid:
        return _reject("impressions", row, invalid)
    return record


def user_id_of(row: RawRow, config: DatasetConfig) -> str | None:
    """The impression's user id as `parse_impression` reads it, or None when it has none."""
    try:
        return _required(_columns(row), config.user_id)
    except _Invalid:
        return None


def parse_table_row(row: RawRow, table: str, key_column: str, columns_spec: dict) -> tuple | Rejection:
    """A (key, {column: value}, file, line, text) tuple for a user or item table row, or a Rejection."""
    try:
        columns = _columns(row)
        key = _required(columns, key_column)
        values = _values(columns, {c: k for c, k in columns_spec.items() if c != key_column})
    except _Invalid as invalid:
        return _reject(table, row, invalid)
    return key, values, row.file, row.line, row.text


def duplicate(table: str, file: str, line: int, text: str, key: str, kept: tuple) -> Rejection:
    """The rejection of a repeated row; `kept` is the (file, line) of the occurrence that was kept."""
    return Rejection(
        table, file, line, DUPLICATE, key, f"same {key} as {kept[0]}:{kept[1]}, which was kept", text
    )


def parse_timestamp(value, field: str, unit: str = "s") -> int:
    """Unix seconds from a number in `unit` or an ISO 8601 string (a time without zone is UTC).

    A number beyond 2200 in the stated unit is rejected, not converted: one stray millisecond value in
    a column of seconds is a defect of that row, while a whole column in milliseconds is the config's
    `timestamp_unit: ms`, which the rejection's detail names.
    """
    if isinstance(value, bool):
        raise _Invalid(BAD_TIMESTAMP, field, f"{field} {value!r} is not a time")
    if isinstance(value, (int, float)):
        seconds = float(value) * TIMESTAMP_UNITS[unit]
    else:
        text = str(value).strip()
        try:
            seconds = float(text) * TIMESTAMP_UNITS[unit]
        except ValueError:
            try:
                moment = datetime.datetime.fromisoformat(text)
            except ValueError:
                raise _Invalid(
                    BAD_TIMESTAMP, field, f"{field} {text!r} is neither Unix seconds nor ISO 8601"
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
            seconds = moment.timestamp()
    if not math.isfinite(seconds) or seconds < 0:
        raise _Invalid(BAD_TIMESTAMP, field, f"{field} {value!r} is not a time after 1970")
    if seconds > LATEST_PLAUSIBLE_SECONDS:
        hint = " (milliseconds? a column in milliseconds needs timestamp_unit: ms)" if unit == "s" else ""
        detail = f"{field} {value!r} is after the year 2200 in unit {unit!r}{hint}"
        raise _Invalid(BAD_TIMESTAMP, field, detail)
    return int(seconds)


def timestamp_seconds(value, unit: str = "s") -> int | None:
    """Unix seconds as `parse_timestamp` reads them, or None where it rejects the value."""
    try:
        return parse_timestamp(value, "", unit)
    except _Invalid:
        return None


def _label(value, field: str) -> int:
    text = str(value).strip()
    if text in ("0", "1", "0.0", "1.0", "False", "True", "false", "true"):
        return int(text in ("1", "1.0", "True", "true"))
    raise _Invalid(BAD_LABEL, field, f"{field} must be 0 or 1, got {text!r}")


def _columns(row: RawRow) -> dict:
    if row.error is not None:
        raise _Invalid(BAD_ENCODING if row.error.startswith(NOT_UTF8) else UNPARSEABLE, "", row.error)
    return row.columns or {}


def _required(columns: dict, name: str) -> str:
    value = columns.get(name)
    if value is None or str(value).strip() == "":
        raise _Invalid(MISSING_FIELD, name, f"{name} is missing")
    return str(value).strip()


def _values(columns: dict, spec: dict) -> dict:
    """{column: value} for the configured columns; a missing or empty value is None."""
    values: dict[str, str | float | None] = {}
    for name, kind in spec.items():
        raw = columns.get(name)
        text = None if raw is None else str(raw).strip()
        if not text:
            values[name] = None
        elif kind == NUMERICAL:
            values[name] = _number(text, name)
        else:
            values[name] = text
    return values


def _number(text: str, name: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise _Invalid(BAD_NUMBER, name, f"{name} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise _Invalid(BAD_NUMBER, name, f"{name} {text!r} is not a finite number")
    return number


def _reject(table: str, row: RawRow, invalid: _Invalid) -> Rejection:
    return Rejection(table, row.file, row.line, invalid.reason, invalid.field, invalid.detail, row.text)
