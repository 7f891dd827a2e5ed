"""Drift between consecutive spans, and skew between training and serving data, by TFDV's comparators.

Drift: a day whose distribution moved from the day before stops the run.

The schema says which features are compared and how (TFDV's `drift_comparator`): L-infinity distance
for categorical features, Jensen-Shannon divergence for numerical ones, since TFDV's L-infinity only
measures categorical features. Compared are the log's own columns (item, user and context fields and
the label), not what ingestion derives from the clicks (histories, their length and bucket), which
grows with the log's age and would stop every new log's first days; nor the timestamp and the user
id (also when it is a user field), new every day by construction. A pipeline config may replace the
schema's thresholds (`gates`), and TFDV's `validate_statistics` measures the new span's statistics
against the previous span's.

Skew (`mian skew`): the statistics of the requests a server scored against those of the training data,
every feature both carry but the label, the timestamp and the user id, histories included (a client
that builds them otherwise than ingestion does is exactly what skew is).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from mian.names import (
    HISTORY_BUCKET_FEATURE,
    HISTORY_LENGTH_FEATURE,
    HISTORY_PREFIX,
    TIMESTAMP_FEATURE,
    USER_ID_FEATURE,
)

# What mian init drafts and the curated schemas state; a pipeline config may override them.
INFINITY_NORM_THRESHOLD = 0.2
JENSEN_SHANNON_THRESHOLD = 0.2
# Derived from the clicks, or different every day by construction (histories: HISTORY_PREFIX).
NOT_COMPARED = (HISTORY_LENGTH_FEATURE, HISTORY_BUCKET_FEATURE, TIMESTAMP_FEATURE, USER_ID_FEATURE)


def compared(feature: str, identifiers: Collection[str] = ()) -> bool:
    """Whether `feature` gets a drift comparator; `identifiers` are the dataset's id columns that are
    features of their own (a user id among the user fields), as new every day as USER_ID_FEATURE."""
    return feature not in (*NOT_COMPARED, *identifiers) and not feature.startswith(HISTORY_PREFIX)


_MEASURES = {
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: "L-infinity distance",
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: "Jensen-Shannon divergence",
    anomalies_pb2.DriftSkewInfo.Measurement.NORMALIZED_ABSOLUTE_DIFFERENCE: "normalized absolute difference",
}


@dataclasses.dataclass(frozen=True)
class FeatureDistance:
    """One feature's distance between two datasets, over its threshold."""

    feature: str
    measure: str
    distance: float
    threshold: float

    def line(self) -> str:
        return f"feature {self.feature!r}: {self.measure} {self.distance:.3f} > threshold {self.threshold:g}"


def add_drift_comparators(
    schema: schema_pb2.Schema,
    infinity_norm: float = INFINITY_NORM_THRESHOLD,
    jensen_shannon: float = JENSEN_SHANNON_THRESHOLD,
    identifiers: Collection[str] = (),
) -> None:
    """Give every compared feature of `schema` its comparator, in place: categorical (BYTES) features
    L-infinity, numerical ones Jensen-Shannon."""
    for feature in schema.feature:
        if not compared(feature.name, identifiers):
            feature.ClearField("drift_comparator")
        elif feature.type == schema_pb2.BYTES:
            feature.drift_comparator.infinity_norm.threshold = infinity_norm
        else:
            feature.drift_comparator.jensen_shannon_divergence.threshold = jensen_shannon


def with_thresholds(
    schema: schema_pb2.Schema, infinity_norm: float | None, jensen_shannon: float | None
) -> schema_pb2.Schema:
    """A copy of `schema` whose comparators have the given thresholds (None keeps the schema's)."""
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    for feature in result.feature:
        comparator = feature.drift_comparator
        if infinity_norm is not None and comparator.HasField("infinity_norm"):
            comparator.infinity_norm.threshold = infinity_norm
        if jensen_shannon is not None and comparator.HasField("jensen_shannon_divergence"):
            comparator.jensen_shannon_divergence.threshold = jensen_shannon
    return result


def drift(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    previous: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema,
) -> list[FeatureDistance]:
    """The features whose distance from `previous` is over their schema threshold, largest first."""
    anomalies = tfdv.validate_statistics(statistics, schema, previous_statistics=previous)
    return _over_threshold(anomalies, "drift_measurements")


def add_skew_comparators(
    schema: schema_pb2.Schema, served: set[str], infinity_norm: float, jensen_shannon: float
) -> None:
    """Give the features of `schema` that the requests carry (`served`) a skew comparator, in place."""
    for feature in schema.feature:
        if feature.name not in served or feature.name in (TIMESTAMP_FEATURE, USER_ID_FEATURE):
            continue
        if feature.type == schema_pb2.BYTES:
            feature.skew_comparator.infinity_norm.threshold = infinity_norm
        else:
            feature.skew_comparator.jensen_shannon_divergence.threshold = jensen_shannon


def skew(
    training: statistics_pb2.DatasetFeatureStatisticsList,
    serving: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema,
) -> list[FeatureDistance]:
    """The features whose distance between training and serving is over their skew threshold."""
    anomalies = tfdv.validate_statistics(training, schema, serving_statistics=serving)
    return _over_threshold(anomalies, "skew_measurements")


def _over_threshold(anomalies: anomalies_pb2.Anomalies, measurements: str) -> list[FeatureDistance]:
    found = [
        FeatureDistance(".".join(info.path.step), _MEASURES[m.type], m.value, m.threshold)
        for info in anomalies.drift_skew_info
        for m in getattr(info, measurements)
        if m.value > m.threshold
    ]
    return sorted(found, key=lambda d: d.distance - d.threshold, reverse=True)
