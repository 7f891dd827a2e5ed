"""Daily spans: click logs partitioned by day, as TFX's span patterns write them.

A table's path may hold the date placeholders `{YYYY}`, `{MM}` and `{DD}` (TFX's own, see
tfx/components/example_gen/utils.py), anywhere in it: `impressions/{YYYY}-{MM}-{DD}/*.csv`,
`date={YYYY}{MM}{DD}/part-*.jsonl.gz`. A span is a day, numbered as TFX numbers dated spans: days since
1970-01-01. The impressions of one span are the files of its date; a users or items table with
placeholders is a daily snapshot, and a span reads the newest snapshot on or before its date.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re

from apache_beam.io.filesystems import FileSystems

from mian.config.dataset_config import DATE_PLACEHOLDERS

# Each placeholder's part of a path, as a named group.
PLACEHOLDERS = dict(
    zip(DATE_PLACEHOLDERS, (r"(?P<year>\d{4})", r"(?P<month>\d{2})", r"(?P<day>\d{2})"), strict=True)
)
EPOCH = datetime.date(1970, 1, 1)


def is_daily(pattern: str) -> bool:
    """Whether a table's path is partitioned by day (holds every date placeholder)."""
    return all(p in pattern for p in DATE_PLACEHOLDERS)


def span_date(span: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=span)


def span_name(span: int) -> str:
    """The span's date, YYYY-MM-DD."""
    return span_date(span).isoformat()


def parse_span(text: str) -> int:
    """The span of a date written YYYY-MM-DD."""
    try:
        return (datetime.date.fromisoformat(text) - EPOCH).days
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def span_pattern(pattern: str, span: int) -> str:
    """The path of one span's files: the placeholders replaced by its date."""
    date = span_date(span)
    values = {"{YYYY}": f"{date.year:04d}", "{MM}": f"{date.month:02d}", "{DD}": f"{date.day:02d}"}
    for placeholder, value in values.items():
        pattern = pattern.replace(placeholder, value)
    return pattern


def any_span(pattern: str) -> str:
    """A glob matching the files of every span of a daily pattern (a plain path is its own glob)."""
    for placeholder in DATE_PLACEHOLDERS:
        pattern = pattern.replace(placeholder, "*")
    return pattern


def spans_present(pattern: str) -> dict[int, list]:
    """{span: [file metadata]} of every span that has files matching a daily pattern."""
    regex = re.compile(_regex(pattern))
    found: dict[int, list] = {}
    for metadata in FileSystems.match([any_span(pattern)])[0].metadata_list:
        match = regex.fullmatch(metadata.path)
        if match is None:
            continue
        try:
            date = datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:  # a folder named like a date that is not one (2024-02-30)
            continue
        found.setdefault((date - EPOCH).days, []).append(metadata)
    return dict(sorted(found.items()))


def _regex(pattern: str) -> str:
    """A regular expression matching the paths of a daily pattern, its glob wildcards included; each
    placeholder a named group (only its first occurrence: a date may repeat in a path)."""
    parts, seen, i = [], set(), 0
    while i < len(pattern):
        placeholder = next((p for p in PLACEHOLDERS if pattern.startswith(p, i)), None)
        if placeholder:
            parts.append(PLACEHOLDERS[placeholder] if placeholder not in seen else r"\d+")
            seen.add(placeholder)
            i += len(placeholder)
            continue
        char = pattern[i]
        parts.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
        i += 1
    return "".join(parts)


def fingerprint(files: list) -> str:
    """A digest of files' paths, sizes and modification times: a changed span is a new version."""
    digest = hashlib.sha256()
    for metadata in sorted(files, key=lambda m: m.path):
        digest.update(
            f"{metadata.path}|{metadata.size_in_bytes}|{metadata.last_updated_in_seconds}\n".encode()
        )
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class SpanInputs:
    """What one span's ingestion reads: its own impressions, the impressions of the `window_days` before
    it that exist (for the clicks of its histories only), and the users and items tables (the newest
    snapshot on or before the span, when they are daily)."""

    span: int
    impressions: str
    history: tuple[str, ...]
    users: str
    items: str
    fingerprint: str


def span_inputs(impressions: str, users: str, items: str, span: int, window_days: int) -> SpanInputs:
    """The inputs of `span` for tables at these paths (the impressions' a daily pattern)."""
    present = spans_present(impressions)
    if span not in present:
        raise FileNotFoundError(
            f"no impressions of span {span_name(span)} ({span_pattern(impressions, span)})"
        )
    history = tuple(span_pattern(impressions, s) for s in range(span - window_days, span) if s in present)
    tables, files = [], list(present[span])
    for pattern in (users, items):
        if is_daily(pattern):
            snapshots = {s: f for s, f in spans_present(pattern).items() if s <= span}
            if not snapshots:
                raise FileNotFoundError(f"no snapshot of {pattern} on or before {span_name(span)}")
            newest = max(snapshots)
            tables.append(span_pattern(pattern, newest))
            files += snapshots[newest]
        else:
            tables.append(pattern)
            files += FileSystems.match([pattern])[0].metadata_list
    # The history's files do not change the span's examples' identity unless they change: included.
    for s in range(span - window_days, span):
        files += present.get(s, [])
    own = span_pattern(impressions, span)
    return SpanInputs(span, own, history, tables[0], tables[1], fingerprint(files))
