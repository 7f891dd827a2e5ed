"""Reading raw table files row by row, keeping each row's file and line for error reports.

Files are read through Beam's FileSystems, so local paths and gs://, s3://, hdfs:// URLs all work, and
.gz files are decompressed. A CSV file starts with a header line; a JSON Lines file has one object per
line. Blank lines are not rows. A CSV field may not span lines (each line is one row).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems


@dataclasses.dataclass(frozen=True)
class RawRow:
    """One line of a raw table: its parsed columns, or the reason it could not be parsed."""

    file: str
    line: int
    text: str
    columns: dict | None = None
    error: str | None = None


def read_rows(path: str, file_format: str) -> Iterator[RawRow]:
    """Every non-blank data line of one file, in order, as a RawRow (never raises on a bad line)."""
    with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as handle:
        lines = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
        if file_format == "csv":
            yield from _csv_rows(path, lines)
        elif file_format == "jsonl":
            yield from _jsonl_rows(path, lines)
        else:
            raise ValueError(f"{path}: unknown format {file_format!r} (csv or jsonl)")


def _csv_rows(path: str, lines) -> Iterator[RawRow]:
    header = None
    for number, text in enumerate(lines, start=1):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            (values,) = list(csv.reader([text]))
        except (csv.Error, ValueError) as error:
            yield RawRow(path, number, text, error=f"unparseable CSV: {error}")
            continue
        if header is None:
            header = [name.strip() for name in values]
            continue
        if len(values) != len(header):
            yield RawRow(path, number, text, error=f"expected {len(header)} CSV columns, got {len(values)}")
            continue
        yield RawRow(path, number, text, columns=dict(zip(header, values, strict=True)))


def _jsonl_rows(path: str, lines) -> Iterator[RawRow]:
    for number, text in enumerate(lines, start=1):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            columns = json.loads(text)
        except ValueError as error:
            yield RawRow(path, number, text, error=f"unparseable JSON: {error}")
            continue
        if not isinstance(columns, dict):
            yield RawRow(path, number, text, error="a JSON line must be an object")
            continue
        yield RawRow(path, number, text, columns=columns)
