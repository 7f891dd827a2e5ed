"""TF Serving's warm-up requests: a few PredictRequests per signature, written beside the SavedModel.

TF Serving replays `assets.extra/tf_serving_warmup_requests` (a TFRecord of PredictionLog) against a
version before it serves it, so that its first clients do not pay for tracing and allocation; `mian
serve` replays the same file (serving.model_versions). The examples are made by ingestion's own
`to_example` from the Transform vocabularies' most frequent values, so they take the path of real
requests through the Transform graph, ids found in the vocabularies included.
"""

from __future__ import annotations

import os

import tensorflow as tf
import tensorflow_transform as tft
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest.examples import feature_values, to_example
from mian.names import HISTORY_LENGTH_FEATURE, MISSING_CATEGORY, WARMUP_FILE
from mian_keras.feature_spec import CATEGORICAL

# One request per batch size and signature: a single client, a small and a full server-side batch.
BATCH_SIZES = (1, 8, 32)
# When the examples claim to be from (any time will do: the time context is derived from it).
WARMUP_TIMESTAMP = 1_700_000_000


def warmup_examples(tft_output: tft.TFTransformOutput, config: DatasetConfig, count: int) -> list:
    """`count` tf.Examples as ingestion writes them, of vocabulary values: example k takes each field's
    k-th most frequent value (cycling), and a history of the k most frequent items (up to the history
    length). The first n of them are the examples of `count` n."""
    vocabularies = {
        column: tft_output.vocabulary_by_name(column)
        for columns in (config.item_columns, config.user_columns, config.context_columns)
        for column, kind in columns.items()
        if kind == CATEGORICAL
    }

    def values(columns: dict, k: int) -> dict:
        row: dict[str, str | float] = {}
        for column, kind in columns.items():
            if kind == CATEGORICAL:
                vocabulary = vocabularies[column]
                row[column] = vocabulary[k % len(vocabulary)].decode() if vocabulary else ""
            else:
                row[column] = 1.0
        return row

    examples = []
    for k in range(count):
        item = values(config.item_columns, k)
        impression = {
            "item_id": item[config.item_id],
            "item": item,
            "user": values(config.user_columns, k),
            "context": values(config.context_columns, k),
            "ts": WARMUP_TIMESTAMP + 3600 * k,
            "label": 0,
            "user_id": f"warmup{k}",
        }
        history = [
            {"values": values(config.item_columns, step)} for step in range(min(k, config.history_length))
        ]
        examples.append(to_example(impression, history, config))
    return examples


def _raw_tensors(examples: list, config: DatasetConfig, raw_fields: dict[str, tf.DType]) -> dict:
    """The `serving_raw` inputs of `examples`: [batch] scalars, [batch, steps] histories, their lengths."""
    parsed = [e.features.feature for e in examples]
    histories = {config.history_feature(c) for c in config.history_columns}
    tensors = {}
    for name, dtype in raw_fields.items():
        lists = [feature_values(f[name], dtype) for f in parsed]
        if name in histories:
            width = max(1, max(len(v) for v in lists))
            blank = MISSING_CATEGORY if dtype == tf.string else 0.0
            lists = [v + [blank] * (width - len(v)) for v in lists]
        else:
            lists = [v[0] for v in lists]
        tensors[name] = tf.make_tensor_proto(lists, dtype=dtype)
    lengths = [f[HISTORY_LENGTH_FEATURE].int64_list.value[0] for f in parsed]
    tensors[HISTORY_LENGTH_FEATURE] = tf.make_tensor_proto(lengths, dtype=tf.int64)
    return tensors


def warmup_requests(
    tft_output: tft.TFTransformOutput,
    config: DatasetConfig,
    example_signatures: dict[str, str],
    raw_signatures: dict[str, dict[str, tf.DType]],
) -> list[predict_pb2.PredictRequest]:
    """One request per batch size for each signature: `example_signatures` {signature: input} take
    serialized tf.Examples, `raw_signatures` {signature: {raw feature: dtype}} named raw tensors."""
    all_examples = warmup_examples(tft_output, config, max(BATCH_SIZES))
    requests = []
    for size in BATCH_SIZES:
        examples = all_examples[:size]
        serialized = [e.SerializeToString() for e in examples]
        for signature, input_name in example_signatures.items():
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = signature
            request.inputs[input_name].CopyFrom(tf.make_tensor_proto(serialized, dtype=tf.string))
            requests.append(request)
        for signature, raw_fields in raw_signatures.items():
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = signature
            for name, proto in _raw_tensors(examples, config, raw_fields).items():
                request.inputs[name].CopyFrom(proto)
            requests.append(request)
    return requests


def write_warmup_requests(export_dir: str, requests: list[predict_pb2.PredictRequest]) -> str:
    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
