"""The training window: the newest span tests, the spans before it evaluate and train.

The newest span is the test split the Evaluator gates on, so that the gate judges the model on the day
it will serve next; the `eval_spans` before it are the eval split the Trainer stops early on; the
`train_spans` before those train. Each span's newest version is taken (mian.data.ingest.span_store);
a day missing inside the window (no partition, or never ingested) is left out and named. The window
is an Examples artifact with TFX's train, eval and test splits, its files copied from the spans'
artifacts (a copy, not an ingestion: a daily run ingests one day), so that everything downstream reads
it as it reads a whole log's examples.
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

from mian.data.ingest.pipeline import SPAN_SPLIT, split_dir
from mian.data.ingest.span_store import SpanRecord, newest_versions
from mian.data.ingest.spans import span_name

WINDOW_FILE = "window.json"


@dataclasses.dataclass(frozen=True)
class Window:
    train: tuple[SpanRecord, ...]
    eval: tuple[SpanRecord, ...]
    test: SpanRecord
    missing: tuple[int, ...]

    def splits(self) -> dict[str, tuple[SpanRecord, ...]]:
        return {"train": self.train, "eval": self.eval, "test": (self.test,)}

    def to_dict(self) -> dict:
        """Each split's spans (YYYY-MM-DD) with their versions, and the days the window lacks."""
        return {
            **{
                split: [{"span": span_name(r.span), "version": r.version, "uri": r.uri} for r in records]
                for split, records in self.splits().items()
            },
            "missing": [span_name(s) for s in self.missing],
        }


def choose_window(records: list[SpanRecord], newest: int, train_spans: int, eval_spans: int) -> Window:
    """The window that tests on span `newest`; raises when it has no eval or no train span."""
    versions = newest_versions(records)
    if newest not in versions:
        raise ValueError(f"span {span_name(newest)} has not been ingested")
    eval_range = range(newest - eval_spans, newest)
    train_range = range(newest - eval_spans - train_spans, newest - eval_spans)
    chosen = {
        name: tuple(versions[s] for s in days if s in versions)
        for name, days in (("eval", eval_range), ("train", train_range))
    }
    missing = tuple(s for s in (*train_range, *eval_range) if s not in versions)
    if not chosen["eval"] or not chosen["train"]:
        have = ", ".join(span_name(s) for s in sorted(versions)) or "none"
        raise ValueError(
            f"the window testing on {span_name(newest)} needs at least one train and one eval span among "
            f"the {train_spans + eval_spans} days before it; ingested spans: {have}. Ingest the earlier "
            f"days first: mian run --backfill {span_name(train_range[0])} {span_name(newest)}"
        )
    return Window(chosen["train"], chosen["eval"], versions[newest], missing)


def write_window(window: Window, uri: str) -> None:
    """Copy each chosen span's examples into the window's split folders, and WINDOW_FILE beside them."""
    for split, records in window.splits().items():
        target = split_dir(uri, split)
        tf.io.gfile.makedirs(target)
        for record in records:
            source = split_dir(record.uri, SPAN_SPLIT)
            for name in tf.io.gfile.listdir(source):
                tf.io.gfile.copy(
                    os.path.join(source, name),
                    os.path.join(target, f"{span_name(record.span)}-v{record.version}-{name}"),
                    overwrite=True,
                )
    with tf.io.gfile.GFile(os.path.join(uri, WINDOW_FILE), "w") as f:
        json.dump(window.to_dict(), f, indent=1)
