"""Encoding a joined impression and its history as a tf.Example."""

from __future__ import annotations

import tensorflow as tf

from mian.config.dataset_config import DatasetConfig
from mian.names import (
    HISTORY_BUCKET_FEATURE,
    HISTORY_BUCKETS,
    HISTORY_LENGTH_FEATURE,
    LONGEST_HISTORY_BUCKET,
    MISSING_CATEGORY,
    TIMESTAMP_FEATURE,
    USER_ID_FEATURE,
)
from mian_keras.feature_spec import NUMERICAL


def history_bucket(length: int) -> str:
    """The bucket name of a history of `length` clicks: 0, 1-5, 6-20 or >20."""
    for upper, name in HISTORY_BUCKETS:
        if length <= upper:
            return name
    return LONGEST_HISTORY_BUCKET


def item_values(impression: dict, config: DatasetConfig) -> dict:
    """The impressed item's columns, its id included (only the id when the item table lacks it)."""
    return {config.item_id: impression["item_id"], **(impression["item"] or {})}


def to_example(impression: dict, history: list[dict], config: DatasetConfig) -> tf.train.Example:
    """The example of one impression.

    Candidate item fields, `hist_<column>` lists (newest first, variable length, no padding), the
    history length and its bucket, user fields, the impression's own context columns, the 0/1 label, and
    the user id and timestamp. The derived time context is not written: the Transform graph derives it
    from the timestamp (mian.stages.time_features), as the served model does. A value that is missing
    (an unknown user, an empty column) is written as an empty feature; inside a history, as
    MISSING_CATEGORY.
    """
    features = {}
    user = impression["user"] or {}
    item = item_values(impression, config)
    for name, kind in config.item_columns.items():
        features[name] = _feature(kind, [item.get(name)])
    for column in config.history_columns:
        kind = config.item_columns[column]
        # Every hist_ list keeps one entry per click, so the lists stay aligned step by step.
        # A clicked item that the items table lacks: MISSING_CATEGORY, or 0.0 for a numerical column.
        blank = 0.0 if kind == NUMERICAL else MISSING_CATEGORY
        values = [click["values"].get(column) for click in history]
        features[config.history_feature(column)] = _feature(kind, [blank if v is None else v for v in values])
    features[HISTORY_LENGTH_FEATURE] = _int64([len(history)])
    features[HISTORY_BUCKET_FEATURE] = _bytes([history_bucket(len(history))])
    for name, kind in config.user_columns.items():
        # The user id as a field is the impression's own: a user the users table lacks still has it.
        value = impression["user_id"] if name == config.user_id else user.get(name)
        features[name] = _feature(kind, [value])
    for name, kind in config.context_columns.items():
        features[name] = _feature(kind, [impression["context"].get(name)])
    features[config.label] = _int64([impression["label"]])
    features[USER_ID_FEATURE] = _bytes([impression["user_id"]])
    features[TIMESTAMP_FEATURE] = _int64([impression["ts"]])
    return tf.train.Example(features=tf.train.Features(feature=features))


def feature_values(feature: tf.train.Feature, dtype: tf.DType) -> list:
    """The values of a tf.Example's feature of `dtype` (string, float32 or int64), as Python values."""
    if dtype == tf.float32:
        return list(feature.float_list.value)
    if dtype == tf.int64:
        return list(feature.int64_list.value)
    return [v.decode("utf-8") for v in feature.bytes_list.value]


def _feature(kind: str, values: list) -> tf.train.Feature:
    present = [v for v in values if v is not None]
    if kind == NUMERICAL:
        return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in present]))
    return _bytes([str(v) for v in present])


def _bytes(values: list[str]) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode("utf-8") for v in values]))


def _int64(values: list[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
