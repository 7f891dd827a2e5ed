"""The training window: the newest span tests, the spans before it evaluate and train.

The newest span is the test split the Evaluator gates on, so that the gate judges the model on the day
it will serve next; the `eval_spans` before it are the eval split the Trainer stops early on; the
`train_spans` before those train. Each span's newest version is taken (mian.data.ingest.span_store);
a day missing inside the window (no partition, or never ingested) is left out and named. The window
is an Examples artifact with TFX's train, eval and test splits, its files copied from the spans'
artifacts (a copy, not an ingestion: a daily run ingests one day), so that everything downstream reads
it as it reads a whole log's examples.

Besides, each train span that the warm start's base model (the newest pushed) has not trained on is
a split of its own, `fresh-YYYY-MM-DD`: a warm Trainer trains on those alone, because a second pass
over days the base has already learned overfits it (bench/results/daily.md). On a daily cadence that
is the one span that entered the window today. With no base model they are the newest train span
(unused by a cold start, but it names the newest span the model trains on); with a base model of
unknown history, every train span.
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

from mian.data.ingest.pipeline import SPAN_SPLIT, split_dir
from mian.data.ingest.span_store import SpanRecord, newest_versions
from mian.data.ingest.spans import span_name
from mian.names import FRESH_SPLIT_PREFIX

WINDOW_FILE = "window.json"


@dataclasses.dataclass(frozen=True)
class Window:
    train: tuple[SpanRecord, ...]
    eval: tuple[SpanRecord, ...]
    test: SpanRecord
    missing: tuple[int, ...]
    # The train spans a warm start trains on (the module's docstring says which).
    fresh: tuple[SpanRecord, ...] = ()
    # Whether a warm start has a base model: then the Trainer is expected to train on `fresh` alone.
    has_base: bool = False

    def splits(self) -> dict[str, tuple[SpanRecord, ...]]:
        """Each split's spans: train, eval, test and one fresh split a fresh span."""
        return {
            "train": self.train,
            "eval": self.eval,
            "test": (self.test,),
            **{FRESH_SPLIT_PREFIX + span_name(r.span): (r,) for r in self.fresh},
        }

    def split_examples(self) -> dict[str, int] | None:
        """Each split's examples, from the spans' records; None when a record does not count them."""
        counts = {split: [r.examples for r in records] for split, records in self.splits().items()}
        if any(n is None for numbers in counts.values() for n in numbers):
            return None
        return {split: sum(numbers) for split, numbers in counts.items()}  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        """Each split's spans (YYYY-MM-DD) with their versions, and the days the window lacks."""
        return {
            **{
                split: [{"span": span_name(r.span), "version": r.version, "uri": r.uri} for r in records]
                for split, records in (("train", self.train), ("eval", self.eval), ("test", (self.test,)))
            },
            "fresh": [span_name(r.span) for r in self.fresh],
            "missing": [span_name(s) for s in self.missing],
            "warm_start_base": self.has_base,
        }


def fresh_spans(
    train: tuple[SpanRecord, ...], base_trained_through: int | None, has_base: bool
) -> tuple[SpanRecord, ...]:
    """The train spans newer than the newest span the base model trained on; never none (a base that
    has seen them all gets the newest again), and all of them when the base's history is unknown."""
    if not has_base:
        return train[-1:]
    if base_trained_through is None:
        return train
    return tuple(r for r in train if r.span > base_trained_through) or train[-1:]


def choose_window(
    records: list[SpanRecord],
    newest: int,
    train_spans: int,
    eval_spans: int,
    has_base: bool = False,
    base_trained_through: int | None = None,
) -> Window:
    """The window that tests on span `newest`; raises when it has no eval or no train span. `has_base`
    says whether a warm start has a base model, `base_trained_through` the newest span it trained on
    (None: unknown), which decide the fresh spans."""
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
    fresh = fresh_spans(chosen["train"], base_trained_through, has_base)
    return Window(chosen["train"], chosen["eval"], versions[newest], missing, fresh, has_base)


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


def written_window(uri: str) -> dict | None:
    """The WINDOW_FILE of the Examples artifact at `uri` (Window.to_dict), or None: not a window."""
    path = os.path.join(uri, WINDOW_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)
