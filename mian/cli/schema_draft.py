"""Drafting the curated schema of a dataset (`mian init`): TFDV's inference, then mian's curation rules.

The statistics cover the whole log, not its head: a time-ordered log's first rows hold its first days,
which lack what later days bring (a weekend, a new device, a new city), and a domain closed on them
stops the first run. The tables are ingested as the pipeline would, every row, and TFDV infers a
schema from every example written. A log larger than one ingestion pass (`pass_count`: PASS_MAX_BYTES
of impressions on the DirectRunner) is sampled by user: the users hashed to one part in `pass_count`,
every row of each, so the sample spans the whole time range and keeps its users' real histories.
The curation rules then make the schema describe what ingestion writes for any day of the log:
- every scalar field holds at most one value; a user, item or impression column may be empty (an id
  missing from its table or an empty cell keeps the impression);
- histories hold 0 to T values, `hist_len` lies in [0, T];
- closed vocabularies get a domain: the user and context columns whose values TFDV enumerated (at most
  `max_string_domain_size`), tolerating 1% of values outside it (a rare value the statistics missed),
  and the history buckets with every value they can take; item-side values have none, new items
  arrive every day, nor has the user id when it is a user field: new users arrive every day;
- the label is 0/1 and absent at serving time;
- the log's own columns but the user id get drift comparators (mian.stages.drift: L-infinity for
  categorical ones, Jensen-Shannon for numerical ones), which the drift gate of a daily pipeline reads.
The derived time context is not in the examples (the Transform graph derives it from `timestamp`), so
the schema has no feature for it.
"""

from __future__ import annotations

import dataclasses
import os

import apache_beam as beam
import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest import accounting
from mian.data.ingest.passes import pass_count
from mian.data.ingest.pipeline import UserPart, ingest
from mian.data.ingest.run import examples_dir, rejected_dir
from mian.names import (
    HISTORY_BUCKET_FEATURE,
    HISTORY_BUCKET_NAMES,
    HISTORY_LENGTH_FEATURE,
    TIMESTAMP_FEATURE,
    USER_ID_FEATURE,
)
from mian.stages.drift import add_drift_comparators

# The share of a closed vocabulary's values that must lie in its domain.
MIN_DOMAIN_MASS = 0.99


@dataclasses.dataclass(frozen=True)
class Draft:
    """The curated schema and what its statistics covered."""

    schema: schema_pb2.Schema
    examples: int
    impressions_read: int
    # The statistics read the users of one part in `user_parts` (1: every row of the log).
    user_parts: int

    def coverage(self) -> str:
        """One line: how many rows the statistics cover."""
        rows = f"{self.examples} examples from {self.impressions_read} impression rows"
        if self.user_parts == 1:
            return f"{rows}: every row of the log"
        return (
            f"{rows}: every row of the users hashed to 1 part in {self.user_parts}, over the whole time range"
        )


def draft_schema(config: DatasetConfig, data_dir: str, work_dir: str) -> Draft:
    """The curated schema for `config`'s tables, from statistics of the whole log (or of a sample of its
    users when it is larger than one ingestion pass)."""
    part = UserPart(0, pass_count(config, data_dir))
    out = os.path.join(work_dir, "ingested")
    with beam.Pipeline() as pipeline:
        ingest(pipeline, config, data_dir, examples_dir(out), rejected_dir(out), part)
    stats = accounting.load_stats(rejected_dir(out), part)
    statistics = tfdv.generate_statistics_from_tfrecord(
        data_location=os.path.join(examples_dir(out), "Split-*", "*.gz")
    )
    schema = curate(tfdv.infer_schema(statistics, infer_feature_shape=False), config)
    examples = sum(v for k, v in stats.items() if k.startswith("examples."))
    return Draft(schema, examples, stats.get("impressions.read", 0), part.count)


def curate(schema: schema_pb2.Schema, config: DatasetConfig) -> schema_pb2.Schema:
    """Apply the curation rules (see the module docstring) to TFDV's inferred schema, in place."""
    schema.ClearField("default_environment")
    schema.default_environment.extend(["TRAINING", "SERVING"])
    features = {f.name: f for f in schema.feature}
    inferred_domains = {d.name: d for d in schema.string_domain}
    domains = {}
    histories = {config.history_feature(c) for c in config.history_columns}
    closed = (set(config.user_columns) | set(config.context_columns)) - {config.user_id}
    for name, feature in features.items():
        feature.ClearField("shape")
        feature.presence.min_fraction = 1.0
        feature.presence.min_count = 1
        if name in histories:
            feature.value_count.min, feature.value_count.max = 0, config.history_length
        else:
            optional = name not in _always_one(config)
            feature.value_count.min, feature.value_count.max = (0 if optional else 1), 1
        inferred = inferred_domains.get(feature.domain) if feature.HasField("domain") else None
        feature.ClearField("domain")
        feature.ClearField("distribution_constraints")
        if name == HISTORY_BUCKET_FEATURE:
            domains[name] = list(HISTORY_BUCKET_NAMES)
        elif name in closed and inferred is not None:
            domains[name] = list(inferred.value)
            feature.distribution_constraints.min_domain_mass = MIN_DOMAIN_MASS
        if name in domains:
            feature.domain = name
    features[HISTORY_LENGTH_FEATURE].int_domain.min = 0
    features[HISTORY_LENGTH_FEATURE].int_domain.max = config.history_length
    label = features[config.label]
    label.int_domain.min, label.int_domain.max = 0, 1
    label.ClearField("not_in_environment")
    label.not_in_environment.append("SERVING")
    schema.ClearField("string_domain")
    for name, values in domains.items():
        schema.string_domain.add(name=name, value=values)
    add_drift_comparators(schema, identifiers=[config.user_id])
    return schema


def _always_one(config: DatasetConfig) -> set:
    """Features ingestion writes exactly one value of in every example (the user id as a user field
    too: ingestion takes it from the impression, not from the users table)."""
    return {config.item_id, config.label, HISTORY_LENGTH_FEATURE, HISTORY_BUCKET_FEATURE,
            TIMESTAMP_FEATURE, USER_ID_FEATURE, config.user_id}  # fmt: skip


def write_schema(schema: schema_pb2.Schema, path: str, header: str) -> None:
    """The schema as text proto, after a comment header."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    with open(path, "w") as f:
        f.write(comment + text_format.MessageToString(schema))
