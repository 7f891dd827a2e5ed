"""Reading raw table files row by row, keeping each row's file and line for error reports.

Files are read through Beam's FileSystems, so local paths and gs://, s3://, hdfs:// URLs all work, and
.gz files are decompressed. A CSV file starts with a header line; a JSON Lines file has one object per
line. Blank lines are not rows. A CSV field may not span lines (each line is one row). A line that
is not valid UTF-8 is a row with an error (rejected as bad_encoding), never silently repaired.

A large file is cut into chunks of whole lines (`split_file`), each of which knows the number of its
first line, so that many workers read one file in parallel and no single element fans out into
millions of rows. A compressed file cannot be entered in the middle and is one chunk.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

LINES_PER_CHUNK = 50_000
# The start of a RawRow's error when its bytes are not UTF-8 (the row is rejected as bad_encoding).
NOT_UTF8 = "not UTF-8"


@dataclasses.dataclass(frozen=True)
class RawRow:
    """One line of a raw table: its parsed columns, or the reason it could not be parsed."""

    file: str
    line: int
    text: str
    columns: dict | None = None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Lines [first_line, ...] of a file, from byte `start` to byte `end` (None: to the end)."""

    path: str
    file_format: str
    first_line: int
    start: int
    end: int | None
    header: tuple | None = None  # a CSV file's column names


def split_file(path: str, file_format: str, lines_per_chunk: int = LINES_PER_CHUNK) -> Iterator[Chunk]:
    """Cut a file into chunks of about `lines_per_chunk` lines (one scan for line ends, no parsing)."""
    if file_format not in ("csv", "jsonl"):
        raise ValueError(f"{path}: unknown format {file_format!r} (csv or jsonl)")
    compressed = CompressionTypes.detect_compression_type(path) != CompressionTypes.UNCOMPRESSED
    with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as handle:
        header, first_line, offset = None, 1, 0
        if file_format == "csv":
            for raw in _lines(handle):
                offset += len(raw)
                first_line += 1
                if raw.strip():
                    # A byte-order mark (as some spreadsheet exports write) is not part of the name.
                    text = _decode(raw).lstrip("\ufeff")
                    header = tuple(name.strip() for name in next(csv.reader([text])))
                    break
        if compressed:
            yield Chunk(path, file_format, first_line, offset, None, header)
            return
        start, start_line, lines = offset, first_line, 0
        for raw in _lines(handle):
            offset += len(raw)
            lines += 1
            if lines == lines_per_chunk:
                yield Chunk(path, file_format, start_line, start, offset, header)
                start, start_line, lines = offset, start_line + lines, 0
        if lines:
            yield Chunk(path, file_format, start_line, start, offset, header)


def table_columns(pattern: str, file_format: str) -> list[str]:
    """A table's column names, from its first file: the CSV header, or the keys of the first JSON line."""
    (match,) = FileSystems.match([pattern])
    if not match.metadata_list:
        raise FileNotFoundError(f"no file matches {pattern}")
    first = min(m.path for m in match.metadata_list)
    with FileSystems.open(first, compression_type=CompressionTypes.AUTO) as handle:
        for raw in _lines(handle):
            text = _decode(raw).lstrip("\ufeff").strip()
            if not text:
                continue
            if file_format == "csv":
                return [name.strip() for name in next(csv.reader([text]))]
            try:
                columns = json.loads(text)
            except ValueError as error:
                raise ValueError(f"{first}, line 1: unparseable JSON: {error}") from None
            return list(columns) if isinstance(columns, dict) else []
    return []


def read_chunk(chunk: Chunk) -> Iterator[RawRow]:
    """Every non-blank line of a chunk as a RawRow (never raises on a bad line)."""
    with FileSystems.open(chunk.path, compression_type=CompressionTypes.AUTO) as handle:
        position = 0
        if chunk.end is not None:
            handle.seek(chunk.start)
            position = chunk.start
        else:  # a compressed file: skip the header by reading past it
            while position < chunk.start:
                position += len(handle.readline())
        for number, raw in enumerate(_lines(handle), start=chunk.first_line):
            if chunk.end is not None and position >= chunk.end:
                return
            position += len(raw)
            try:
                text, error = raw.decode("utf-8").rstrip("\r\n"), None
            except UnicodeDecodeError as bad:
                # Rejected, not repaired: a replaced byte would make a new id or category silently.
                text = _decode(raw).rstrip("\r\n")
                error = f"{NOT_UTF8}: byte {raw[bad.start]:#04x} at offset {bad.start} of the line"
            if not text.strip():
                continue
            if error is None:
                yield _parse(chunk, number, text)
            else:
                yield RawRow(chunk.path, number, text, error=error)


def _lines(handle) -> Iterator[bytes]:
    """The lines of a file object, ends included (Beam's compressed files are not iterable)."""
    while raw := handle.readline():
        yield raw


def _decode(raw: bytes) -> str:
    """The line as text, any byte that is not UTF-8 replaced (U+FFFD): what a rejection quotes."""
    return raw.decode("utf-8", errors="replace")


def _parse(chunk: Chunk, number: int, text: str) -> RawRow:
    if chunk.file_format == "csv":
        header = chunk.header or ()  # a CSV chunk always carries its file's header
        try:
            (values,) = list(csv.reader([text]))
        except (csv.Error, ValueError) as error:
            return RawRow(chunk.path, number, text, error=f"unparseable CSV: {error}")
        if len(values) != len(header):
            return RawRow(
                chunk.path, number, text, error=f"expected {len(header)} CSV columns, got {len(values)}"
            )
        return RawRow(chunk.path, number, text, columns=dict(zip(header, values, strict=True)))
    try:
        columns = json.loads(text)
    except ValueError as error:
        return RawRow(chunk.path, number, text, error=f"unparseable JSON: {error}")
    if not isinstance(columns, dict):
        return RawRow(chunk.path, number, text, error="a JSON line must be an object")
    return RawRow(chunk.path, number, text, columns=columns)
