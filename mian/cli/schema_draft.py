"""Drafting the curated schema of a dataset (`mian init`): TFDV's inference, then mian's curation rules.

The tables are cut to their first `SAMPLE_ROWS` lines, ingested as the pipeline would, and TFDV
infers a schema from the statistics of every example written. The curation rules then make it describe
what ingestion writes for any day of the log, not only the sample:
- every scalar field holds at most one value; a user, item or impression column may be empty (an id
  missing from its table or an empty cell keeps the impression), the derived time context never is;
- histories hold 0 to T values, `hist_len` lies in [0, T];
- closed vocabularies get a domain: the user and context columns whose values TFDV enumerated (at most
  `max_string_domain_size`), tolerating 1% of values outside it (a rare value the sample missed), and
  the time context and history buckets with every value they can take; item-side values have none,
  new items arrive every day;
- the label is 0/1 and absent at serving time.
"""

from __future__ import annotations

import dataclasses
import os

import tensorflow_data_validation as tfdv
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest.run import examples_dir, run_to_directory
from mian.data.ingest.time_context import DERIVED_VALUES
from mian.names import (
    HISTORY_BUCKET_FEATURE,
    HISTORY_BUCKET_NAMES,
    HISTORY_LENGTH_FEATURE,
    TIMESTAMP_FEATURE,
    USER_ID_FEATURE,
)

SAMPLE_ROWS = 20_000
TABLES = ("impressions", "users", "items")
# The share of a closed vocabulary's values that must lie in its domain.
MIN_DOMAIN_MASS = 0.99


def draft_schema(config: DatasetConfig, data_dir: str, work_dir: str) -> tuple[schema_pb2.Schema, int]:
    """The curated schema for `config`'s tables, and the number of sampled examples it was drafted on."""
    sample_dir = os.path.join(work_dir, "sample")
    os.makedirs(sample_dir, exist_ok=True)
    sampled = {}
    for name in TABLES:
        table = getattr(config, name)
        # The first file of a glob is sample enough.
        first = FileSystems.match([config.table_path(table, data_dir)])[0].metadata_list[0].path
        plain = os.path.basename(first).removesuffix(".gz")
        _copy_head(first, os.path.join(sample_dir, plain), SAMPLE_ROWS)
        sampled[name] = dataclasses.replace(table, path=plain)
    sampled = dataclasses.replace(config, **sampled)
    stats = run_to_directory(sampled, sample_dir, os.path.join(work_dir, "ingested"))
    examples = sum(v for k, v in stats.items() if k.startswith("examples."))
    statistics = tfdv.generate_statistics_from_tfrecord(
        data_location=os.path.join(examples_dir(os.path.join(work_dir, "ingested")), "Split-*", "*.gz")
    )
    return curate(tfdv.infer_schema(statistics, infer_feature_shape=False), config), examples


def _copy_head(source: str, target: str, rows: int) -> None:
    """The first `rows` lines after a header line (which a JSON Lines file does not have, so one more)."""
    with (
        FileSystems.open(source, compression_type=CompressionTypes.AUTO) as handle,
        open(target, "wb") as out,
    ):
        for _ in range(rows + 1):
            line = handle.readline()
            if not line:
                break
            out.write(line)


def curate(schema: schema_pb2.Schema, config: DatasetConfig) -> schema_pb2.Schema:
    """Apply the curation rules (see the module docstring) to TFDV's inferred schema, in place."""
    schema.ClearField("default_environment")
    schema.default_environment.extend(["TRAINING", "SERVING"])
    features = {f.name: f for f in schema.feature}
    inferred_domains = {d.name: d for d in schema.string_domain}
    domains = {}
    histories = {config.history_feature(c) for c in config.history_columns}
    derived = set(config.derived_context)
    closed = set(config.user_columns) | set(config.context_columns)
    for name, feature in features.items():
        feature.ClearField("shape")
        feature.presence.min_fraction = 1.0
        feature.presence.min_count = 1
        if name in histories:
            feature.value_count.min, feature.value_count.max = 0, config.history_length
        else:
            optional = name not in derived and name not in _always_one(config)
            feature.value_count.min, feature.value_count.max = (0 if optional else 1), 1
        inferred = inferred_domains.get(feature.domain) if feature.HasField("domain") else None
        feature.ClearField("domain")
        feature.ClearField("distribution_constraints")
        if name in derived or name == HISTORY_BUCKET_FEATURE:
            domains[name] = _every_value(name)
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
    return schema


def _always_one(config: DatasetConfig) -> set:
    """Features ingestion writes exactly one value of in every example."""
    return {config.item_id, config.label, HISTORY_LENGTH_FEATURE, HISTORY_BUCKET_FEATURE,
            TIMESTAMP_FEATURE, USER_ID_FEATURE}  # fmt: skip


def _every_value(name: str) -> list[str]:
    """Every value a derived context field or the history bucket can take."""
    if name == HISTORY_BUCKET_FEATURE:
        return list(HISTORY_BUCKET_NAMES)
    return list(DERIVED_VALUES[name])


def write_schema(schema: schema_pb2.Schema, path: str, header: str) -> None:
    """The schema as text proto, after a comment header."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    with open(path, "w") as f:
        f.write(comment + text_format.MessageToString(schema))
