"""DriftGate: the step after the AnomaliesGate (daily partitions) that fails on drift between spans.

TFX 1.16's ExampleValidator never gives TFDV the previous span's statistics, and its
DistributionValidator only marks its output, so neither stops a run. This gate measures the new span's
statistics against those of the newest earlier span that passed the gate (mian.stages.drift, by the
schema's comparators) and, with `action="stop"`, fails the run naming each feature, its distance and
the threshold: Transform, the Trainer and the Pusher never run and the served model stays. With
`action="warn"` the run goes on and the report prints the same lines.

Each pass leaves a record (DRIFT_FILE in its output: the span, where its statistics are, what was
found), and the next day's gate finds the previous span's statistics among its siblings' records: no
resolver, so the same code runs under LocalDagRunner and on Kubeflow. A span the gate stopped leaves
no record, so the day after is compared with the last span that passed.
"""

# No `from __future__ import annotations`: TFX reads the function's annotations as types.
import json
import os

import tensorflow as tf
import tensorflow_data_validation as tfdv
from absl import logging
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import ExampleAnomalies, Examples, ExampleStatistics, Schema

from mian.data.ingest.pipeline import SPAN_SPLIT
from mian.data.ingest.spans import span_name
from mian.stages.drift import drift

DRIFT_FILE = "drift.json"
# ImportSchemaGen's file in its output.
SCHEMA_FILE = "schema.pbtxt"
ACTIONS = ("stop", "warn")


class DriftFound(RuntimeError):
    """The new span drifted from the previous one: the message names each feature."""


def previous_record(records_dir: str, span: int) -> dict | None:
    """The record of the newest span before `span` that passed the gate, or None."""
    records: list[dict] = []
    for name in tf.io.gfile.listdir(records_dir) if tf.io.gfile.isdir(records_dir) else []:
        path = os.path.join(records_dir, name.rstrip("/"), DRIFT_FILE)
        if tf.io.gfile.exists(path):
            with tf.io.gfile.GFile(path) as f:
                records.append(json.load(f))
    earlier = [r for r in records if r["span"] < span]
    return max(earlier, key=lambda r: r["span"]) if earlier else None


@component
def DriftGate(
    statistics: InputArtifact[ExampleStatistics],
    schema: InputArtifact[Schema],
    span_examples: InputArtifact[Examples],
    drift_record: OutputArtifact[ExampleAnomalies],
    action: Parameter[str] = "stop",
) -> None:
    """Fails the run (or, with `action="warn"`, records and goes on) when the new span's statistics
    drifted from the previous span's beyond the schema's comparators."""
    if action not in ACTIONS:
        raise ValueError(f"DriftGate: action must be one of {ACTIONS}, not {action!r}")
    span = span_examples.span
    current = stats_artifact_utils.load_statistics(statistics, SPAN_SPLIT).proto()
    previous = previous_record(os.path.dirname(drift_record.uri), span)
    lines = []
    if previous is None:
        logging.info("DriftGate: no earlier span passed the gate; %s is not compared", span_name(span))
    else:
        found = drift(
            current,
            tfdv.load_stats_binary(previous["statistics"]),
            tfdv.load_schema_text(os.path.join(schema.uri, SCHEMA_FILE)),
        )
        lines = [f"{span_name(span)} against {span_name(previous['span'])}: {d.line()}" for d in found]
    if lines and action == "stop":
        raise DriftFound(
            f"{len(lines)} features drifted; Transform and Trainer will not run:\n  " + "\n  ".join(lines)
        )
    for line in lines:
        logging.warning("DriftGate: %s", line)
    statistics_file = os.path.join(
        artifact_utils.get_split_uri([statistics], SPAN_SPLIT), stats_artifact_utils.BINARY_PB_BASENAME
    )
    with tf.io.gfile.GFile(os.path.join(drift_record.uri, DRIFT_FILE), "w") as f:
        record = {
            "span": span,
            "statistics": statistics_file,
            "compared_with": previous["span"] if previous else None,
            "drift": lines,
        }
        json.dump(record, f, indent=1)
