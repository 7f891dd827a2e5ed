"""TF Transform: raw examples in, the model's inputs out (the Transform component's preprocessing_fn).

Categorical fields become ids: a vocabulary computed over the train split, with `oov_buckets` hashed
ids for values it lacks (new items at serving time; the user id as a field has `user_id_oov_buckets`),
all shifted by one so that id 0 stays the padding id of the feature spec. An item field and its
history twin share one vocabulary, computed over the candidates and the histories together, so that a
clicked item and a candidate item get the same id (they share an embedding table in the model,
section 3.1). Numerical fields are z-scored, a missing value becoming the mean. Histories are cut to
their newest T clicks and padded with 0 to T steps.

The derived time context (hour, weekday, season) is computed here from the raw `timestamp`
(mian.stages.time_features), so the served model derives it by the same ops.

Every transformed feature is named after its feature-spec field; the model's FeatureSpec comes from
the dataset config and the vocabulary sizes read back here (`model_feature_spec`).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf
import tensorflow_transform as tft

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import VocabularyConfig
from mian.names import MISSING_CATEGORY, TIMESTAMP_FEATURE
from mian.stages.time_features import derived_time_context
from mian_keras.feature_spec import CATEGORICAL, PADDING_ID, FeatureSpec

# Keys of the Transform component's custom_config.
DATASET_CONFIG_KEY = "dataset_config"
VOCABULARY_KEY = "vocabulary"


def transform_custom_config(dataset: DatasetConfig, vocabulary: VocabularyConfig) -> dict:
    """The custom_config the pipeline hands to `preprocessing_fn` (JSON-serializable)."""
    return {DATASET_CONFIG_KEY: dataset.to_json(), VOCABULARY_KEY: dataclasses.asdict(vocabulary)}


def preprocessing_fn(inputs: dict, custom_config: dict) -> dict:
    """The model's inputs and the label from raw features, in any form a schema gives them: sparse
    (variable length), dense (a `shape` in the schema) or ragged; all give the same outputs."""
    inputs = {name: _as_sparse(feature) for name, feature in inputs.items()}
    config = DatasetConfig.from_json(custom_config[DATASET_CONFIG_KEY])
    if config.derived_context:
        timestamps = _scalar(inputs[TIMESTAMP_FEATURE])
        derived = derived_time_context(timestamps, config.derived_context)
        inputs.update({name: _as_sparse(values) for name, values in derived.items()})
    vocabulary = VocabularyConfig(**custom_config[VOCABULARY_KEY])
    outputs = {}
    for column, kind in config.item_columns.items():
        history = config.history_feature(column) if column in config.history_columns else None
        sources = [inputs[column]] + ([inputs[history]] if history else [])
        if kind == CATEGORICAL:
            encode = _vocabulary_encoder(sources, column, vocabulary, config)
        else:
            encode = _z_score_encoder(sources)
        outputs[column] = encode(_scalar(inputs[column]))
        if history:
            outputs[history] = _padded_history(inputs[history], encode, config.history_length)
    for columns in (config.user_columns, config.context_fields):
        for column, kind in columns.items():
            sources = [inputs[column]]
            encode = (
                _vocabulary_encoder(sources, column, vocabulary, config)
                if kind == CATEGORICAL
                else _z_score_encoder(sources)
            )
            outputs[column] = encode(_scalar(inputs[column]))
    outputs[config.label] = tf.reshape(tf.sparse.to_dense(inputs[config.label]), [-1])
    return outputs


def _as_sparse(feature) -> tf.SparseTensor:
    """The feature as a SparseTensor [batch, values]: a dense [batch] or [batch, n] feature keeps every
    value (a 0 or '' too, unlike tf.sparse.from_dense), a ragged one its rows."""
    if isinstance(feature, tf.SparseTensor):
        return feature
    if isinstance(feature, tf.RaggedTensor):
        return feature.to_sparse()
    if feature.shape.rank == 1:
        feature = feature[:, tf.newaxis]
    return tf.RaggedTensor.from_tensor(feature).to_sparse()


def _scalar(feature: tf.SparseTensor) -> tf.Tensor:
    """A [batch] tensor from a feature with zero or one value per example (missing: '', NaN, or -1
    for an integer, which no valid timestamp is)."""
    default = {tf.string: MISSING_CATEGORY, tf.int64: -1}.get(feature.dtype, float("nan"))
    dense = tf.sparse.to_dense(feature, default_value=tf.constant(default, feature.dtype))
    # An example without a value has no column at all when the whole batch lacks it.
    dense = tf.pad(dense, [[0, 0], [0, 1]], constant_values=tf.constant(default, feature.dtype))
    return dense[:, 0]


def _vocabulary_encoder(
    sources: list[tf.SparseTensor], name: str, vocabulary: VocabularyConfig, config: DatasetConfig
):
    """Computes one vocabulary over all `sources`' values (those seen at least the field's frequency
    threshold times) and returns the function that applies it.

    Ids: 1..V for the vocabulary, V+1..V+B for other values (a missing value included), B the field's
    out-of-vocabulary ids (`oov_buckets_of`).
    """
    values = tf.concat([tf.reshape(s.values, [-1]) for s in sources], axis=0)
    values = tf.boolean_mask(values, tf.not_equal(values, MISSING_CATEGORY))
    threshold = vocabulary.frequency_threshold
    if name == config.user_id:
        threshold = max(threshold, vocabulary.user_id_frequency_threshold)
    vocab = tft.vocabulary(
        values,
        top_k=vocabulary.top_k,
        # TFT warns that a threshold of 0 or 1 is a no-op and asks for None instead.
        frequency_threshold=threshold if threshold > 1 else None,
        vocab_filename=name,
    )
    buckets = oov_buckets_of(name, config, vocabulary)

    def encode(x: tf.Tensor) -> tf.Tensor:
        return tft.apply_vocabulary(x, vocab, num_oov_buckets=buckets) + 1

    return encode


def oov_buckets_of(column: str, config: DatasetConfig, vocabulary: VocabularyConfig) -> int:
    """The field's out-of-vocabulary ids: `user_id_oov_buckets` for the user id as a user field,
    `oov_buckets` for every other field."""
    return vocabulary.user_id_oov_buckets if column == config.user_id else vocabulary.oov_buckets


def _z_score_encoder(sources: list[tf.SparseTensor]):
    """Computes mean and standard deviation over all `sources`' values; returns the z-scoring function."""
    values = tf.concat([tf.reshape(tf.cast(s.values, tf.float32), [-1]) for s in sources], axis=0)
    mean = tft.mean(values)
    std = tf.sqrt(tft.var(values))
    # A constant column has no spread: centre it and leave it at 0.
    scale = tf.where(std > 0, std, tf.ones_like(std))

    def encode(x: tf.Tensor) -> tf.Tensor:
        x = tf.cast(x, tf.float32)
        return tf.where(tf.math.is_nan(x), tf.zeros_like(x), (x - mean) / scale)

    return encode


def _padded_history(history: tf.SparseTensor, encode, length: int) -> tf.Tensor:
    """[batch, T]: the newest T encoded clicks (ingestion lists them newest first), then padding."""
    ragged = tf.RaggedTensor.from_sparse(history)
    encoded = ragged.with_flat_values(encode(ragged.flat_values))
    padding = PADDING_ID if encoded.dtype.is_integer else 0.0
    return encoded.to_tensor(default_value=tf.constant(padding, encoded.dtype), shape=[None, length])


def vocabulary_sizes(
    tft_output: tft.TFTransformOutput, config: DatasetConfig, vocabulary: VocabularyConfig
) -> dict:
    """Each categorical field's number of ids, padding id 0 and OOV buckets included."""
    sizes = {}
    for columns in (config.item_columns, config.user_columns, config.context_fields):
        for column, kind in columns.items():
            if kind == CATEGORICAL:
                vocab = tft_output.vocabulary_size_by_name(column)
                sizes[column] = 1 + vocab + oov_buckets_of(column, config, vocabulary)
    return sizes


def model_feature_spec(tft_output: tft.TFTransformOutput, custom_config: dict) -> FeatureSpec:
    """The model's feature spec for the data this Transform output was made from."""
    config = DatasetConfig.from_json(custom_config[DATASET_CONFIG_KEY])
    vocabulary = VocabularyConfig(**custom_config[VOCABULARY_KEY])
    return config.feature_spec(vocabulary_sizes(tft_output, config, vocabulary))
