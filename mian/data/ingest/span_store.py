"""The spans a pipeline has ingested: each span's Examples artifact keeps a record of what it holds.

Every run of ClickLogExampleGen on daily partitions writes one span's examples as an Examples artifact
of its own, under the component's output folder (<pipeline root>/ClickLogExampleGen/examples/<n>/), and,
last, `SPAN_RECORD` in it: the span, its version and the fingerprint of the files it was made from. A
folder without the record did not finish. From the records alone, without a metadata store or a
resolver (which open-source Kubeflow Pipelines cannot run), a run finds a span's version (a changed
span is a new version, an unchanged one keeps its own) and the training window finds each span's
newest examples. The record also counts the span's examples (absent from records written before it
did).
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

SPAN_RECORD = "span.json"


@dataclasses.dataclass(frozen=True)
class SpanRecord:
    uri: str
    span: int
    version: int
    fingerprint: str
    examples: int | None = None


def write_span_record(uri: str, span: int, version: int, fingerprint: str, examples: int) -> None:
    with tf.io.gfile.GFile(os.path.join(uri, SPAN_RECORD), "w") as f:
        json.dump({"span": span, "version": version, "fingerprint": fingerprint, "examples": examples}, f)


def span_records(artifacts_dir: str) -> list[SpanRecord]:
    """The records of every finished span artifact in a component's output folder."""
    if not tf.io.gfile.isdir(artifacts_dir):
        return []
    records = []
    for name in tf.io.gfile.listdir(artifacts_dir):
        uri = os.path.join(artifacts_dir, name.rstrip("/"))
        path = os.path.join(uri, SPAN_RECORD)
        if tf.io.gfile.exists(path):
            with tf.io.gfile.GFile(path) as f:
                record = json.load(f)
            records.append(
                SpanRecord(
                    uri, record["span"], record["version"], record["fingerprint"], record.get("examples")
                )
            )
    return sorted(records, key=lambda r: (r.span, r.version, r.uri))


def version_for(records: list[SpanRecord], span: int, fingerprint: str) -> int:
    """The version of `span` made from files of `fingerprint`: an earlier one's when it was made from the
    same files (an unchanged span is not ingested again), else one more than the newest."""
    same = [r for r in records if r.span == span]
    for record in same:
        if record.fingerprint == fingerprint:
            return record.version
    return max((r.version for r in same), default=-1) + 1


def newest_versions(records: list[SpanRecord]) -> dict[int, SpanRecord]:
    """{span: the record of its newest version}."""
    newest: dict[int, SpanRecord] = {}
    for record in records:  # sorted by span, then version
        newest[record.span] = record
    return newest
