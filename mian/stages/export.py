"""The serving SavedModel: the Transform graph and the trained model behind three signatures.

- `serving_default`: serialized raw tf.Examples (`examples`) -> `probability` [batch, 1]. Clients send
  raw ids and strings; the TF Transform graph inside maps them to the model's ids.
- `serving_raw`: named raw feature tensors, for gRPC Predict clients that do not build tf.Examples:
  every scalar field as a [batch] tensor (string, or float32 for numbers), every history field as a
  [batch, steps] tensor padded with anything, `hist_len` [batch] (int64) saying how many of the
  steps are real, and `timestamp` [batch] (int64 Unix seconds) when the dataset derives a time
  context. -> `probability`.
- `time_context` (when the dataset derives one): serialized raw tf.Examples -> the derived fields
  (`hour`, `weekday`, `season` as strings), as the Transform graph computes them from `timestamp`;
  the Evaluator slices by them (TFMA's preprocessing functions).

A client sends the impression's time, never the fields derived from it: the graph derives them.
- `attention` (MIAN only): serialized raw tf.Examples -> `probability` and MIAN's attention weights
  (`gim_weights`, `ibim_weights`, `iuim_weights`, `icim_weights`; see mian_keras.attention_model).
  The names of GIM's representations are written to ATTENTION_NAMES_FILE.

The SavedModel is a plain tf.Module: TF Serving, TFMA and `tf.saved_model.load` need no project code.
It holds the signatures' functions and the variables, not Keras' own traces of every layer (which only
`keras.models.load_model` reads, and nothing loads it so): those were 387 functions for a small MIAN,
and took a SavedModel 4 times longer to write and to load (mian.stages.warm_start reads the variables
by object, as before).
Its `assets.extra/tf_serving_warmup_requests` holds a few requests per signature, which TF Serving and
`mian serve` replay before serving a version (mian.stages.warmup).
"""

from __future__ import annotations

import json
import os

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

# tf-keras 2.16's switch behind `Model.save(save_traces=False)`, for a SavedModel Keras does not write.
from tf_keras.src.saving.legacy.saved_model.utils import keras_option_scope

from mian.config.dataset_config import DatasetConfig
from mian.names import (
    ATTENTION_NAMES_FILE,
    ATTENTION_SIGNATURE,
    DEFAULT_SIGNATURE,
    EXAMPLES_INPUT,
    HISTORY_LENGTH_FEATURE,
    PROBABILITY,
    RAW_SIGNATURE,
    TIME_CONTEXT_SIGNATURE,
    TIMESTAMP_FEATURE,
)
from mian.stages.time_features import derived_time_context
from mian.stages.warmup import warmup_requests, write_warmup_requests
from mian_keras import attention_model
from mian_keras.feature_spec import NUMERICAL
from mian_keras.models.mian import gim_representation_names


def raw_input_fields(config: DatasetConfig) -> dict[str, tf.DType]:
    """{raw feature: dtype} of every raw feature the model reads: the dataset's columns (float32 for
    numerical ones, else string), the histories, and the timestamp (int64) that the time context is
    derived from. Labels and audit fields are excluded."""

    def dtype(kind: str) -> tf.DType:
        return tf.float32 if kind == NUMERICAL else tf.string

    fields = {name: dtype(kind) for name, kind in config.item_columns.items()}
    fields.update({config.history_feature(c): dtype(config.item_columns[c]) for c in config.history_columns})
    for columns in (config.user_columns, config.context_columns):
        fields.update({name: dtype(kind) for name, kind in columns.items()})
    if config.derived_context:
        fields[TIMESTAMP_FEATURE] = tf.int64
    return fields


def export_serving_model(
    model: keras.Model, tft_output: tft.TFTransformOutput, config: DatasetConfig, export_dir: str
) -> None:
    module = tf.Module()
    module.model = model
    module.tft_layer = tft_output.transform_features_layer()
    fields = raw_input_fields(config)
    parse_spec = {k: v for k, v in tft_output.raw_feature_spec().items() if k in fields}
    model_inputs = list(model.input)
    histories = {config.history_feature(c) for c in config.history_columns}

    def transformed(raw: dict) -> dict:
        features = module.tft_layer(raw)
        return {name: features[name] for name in model_inputs}

    examples_spec = tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)

    @tf.function(input_signature=[examples_spec])
    def serve_examples(examples):
        features = transformed(tf.io.parse_example(examples, parse_spec))
        return {PROBABILITY: tf.sigmoid(module.model(features, training=False))}

    raw_spec = {
        name: tf.TensorSpec([None, None] if name in histories else [None], dtype, name=name)
        for name, dtype in fields.items()
    }
    raw_spec[HISTORY_LENGTH_FEATURE] = tf.TensorSpec([None], tf.int64, name=HISTORY_LENGTH_FEATURE)

    @tf.function(input_signature=[raw_spec])
    def serve_raw(features):
        lengths = features[HISTORY_LENGTH_FEATURE]
        ones = tf.ones_like(lengths)
        # The same sparse layout parse_example gives: one value per scalar, hist_len values per history.
        raw = {
            name: tf.RaggedTensor.from_tensor(
                value if name in histories else value[:, tf.newaxis],
                lengths=lengths if name in histories else ones,
            ).to_sparse()
            for name, value in features.items()
            if name != HISTORY_LENGTH_FEATURE
        }
        return {PROBABILITY: tf.sigmoid(module.model(transformed(raw), training=False))}

    signatures = {
        DEFAULT_SIGNATURE: serve_examples.get_concrete_function(),
        RAW_SIGNATURE: serve_raw.get_concrete_function(),
    }
    if config.derived_context:

        @tf.function(input_signature=[examples_spec])
        def serve_time_context(examples):
            spec = {TIMESTAMP_FEATURE: tf.io.FixedLenFeature([], tf.int64, default_value=-1)}
            timestamps = tf.io.parse_example(examples, spec)[TIMESTAMP_FEATURE]
            return derived_time_context(timestamps, config.derived_context)

        signatures[TIME_CONTEXT_SIGNATURE] = serve_time_context.get_concrete_function()
    explained = attention_model(model)
    if len(explained.outputs) > 1:  # MIAN: the probability and at least one module's weights
        module.attention_model = explained

        @tf.function(input_signature=[examples_spec])
        def serve_attention(examples):
            features = transformed(tf.io.parse_example(examples, parse_spec))
            return module.attention_model(features, training=False)

        signatures[ATTENTION_SIGNATURE] = serve_attention.get_concrete_function()
    with keras_option_scope(save_traces=False):
        tf.saved_model.save(module, export_dir, signatures=signatures)
    example_signatures = {name: EXAMPLES_INPUT for name in signatures if name != RAW_SIGNATURE}
    requests = warmup_requests(tft_output, config, example_signatures, {RAW_SIGNATURE: fields})
    write_warmup_requests(export_dir, requests)
    if ATTENTION_SIGNATURE in signatures and "gim_weights" in explained.output_names:
        names_path = os.path.join(export_dir, ATTENTION_NAMES_FILE)
        tf.io.gfile.makedirs(os.path.dirname(names_path))
        with tf.io.gfile.GFile(names_path, "w") as f:
            history = (
                config.history_feature(config.item_id) if config.item_id in config.history_columns else None
            )
            json.dump(
                {
                    "gim_representations": gim_representation_names(model),
                    "item_feature": config.item_id,
                    "history_feature": history,
                },
                f,
            )
