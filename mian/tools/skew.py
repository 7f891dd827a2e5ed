"""`mian skew`: what production sends against what the model trained on.

Reads the requests `mian serve --log-requests` logged (TF Serving's PredictionLog TFRecords: Predict
calls on tf.Examples or on named raw tensors, and Classify calls), computes their statistics with
TFDV, and validates them against the statistics of the pipeline's newest training data (its newest
StatisticsGen output: the newest span on daily partitions, else the train split) with skew comparators
(mian.stages.drift): one line per feature whose distance is over its threshold.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_serving.apis import prediction_log_pb2

from mian.names import EXAMPLES_INPUT
from mian.numbered_dirs import newest_numbered
from mian.stages.drift import FeatureDistance, add_skew_comparators, skew

# StatisticsGen's file of one split, and the splits that hold training data, preferred first.
STATISTICS_FILE = "FeatureStats.pb"
TRAINING_SPLITS = ("Split-span", "Split-train")


def logged_examples(directory: str) -> list[tf.train.Example]:
    """Every example of every logged request under `directory`."""
    files = sorted(tf.io.gfile.glob(os.path.join(directory, "*.tfrecord")))
    if not files:
        raise FileNotFoundError(f"no request logs (*.tfrecord) in {directory}: serve with --log-requests")
    examples = []
    for record in tf.data.TFRecordDataset(files).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        if log.HasField("classify_log"):
            examples.extend(log.classify_log.request.input.example_list.examples)
        elif log.HasField("predict_log"):
            inputs = log.predict_log.request.inputs
            if set(inputs) == {EXAMPLES_INPUT}:
                serialized = tf.make_ndarray(inputs[EXAMPLES_INPUT]).reshape(-1)
                examples.extend(tf.train.Example.FromString(s) for s in serialized)
            else:
                examples.extend(_raw_rows({name: tf.make_ndarray(t) for name, t in inputs.items()}))
    return examples


def _raw_rows(tensors: dict[str, np.ndarray]) -> list[tf.train.Example]:
    """The rows of a raw signature's named tensors (batch first) as tf.Examples."""
    rows = len(next(iter(tensors.values())))
    examples = []
    for i in range(rows):
        example = tf.train.Example()
        for name, values in tensors.items():
            row = np.asarray(values[i]).reshape(-1)
            feature = example.features.feature[name]
            if row.dtype.kind in "SOU":
                feature.bytes_list.value.extend(v if isinstance(v, bytes) else str(v).encode() for v in row)
            elif row.dtype.kind in "iub":
                feature.int64_list.value.extend(int(v) for v in row)
            else:
                feature.float_list.value.extend(float(v) for v in row)
        examples.append(example)
    return examples


def training_statistics(pipeline_root: str) -> str:
    """The statistics file of the pipeline's newest StatisticsGen output."""
    newest = newest_numbered(os.path.join(pipeline_root, "StatisticsGen", "statistics"))
    for split in TRAINING_SPLITS:
        path = os.path.join(newest, split, STATISTICS_FILE) if newest else ""
        if path and tf.io.gfile.exists(path):
            return path
    raise FileNotFoundError(f"no training statistics under {pipeline_root}: has the pipeline run?")


def find_skew(
    requests_dir: str, pipeline_root: str, infinity_norm: float, jensen_shannon: float
) -> tuple[int, list[FeatureDistance]]:
    """(how many logged examples, the features skewed between them and the training data)."""
    examples = logged_examples(requests_dir)
    with tempfile.TemporaryDirectory(prefix="mian-skew-") as scratch:
        path = os.path.join(scratch, "requests.tfrecord")
        with tf.io.TFRecordWriter(path) as writer:
            for example in examples:
                writer.write(example.SerializeToString())
        serving = tfdv.generate_statistics_from_tfrecord(data_location=path)
    training = tfdv.load_stats_binary(training_statistics(pipeline_root))
    schema = tfdv.infer_schema(training)
    served = {f.path.step[0] for dataset in serving.datasets for f in dataset.features}
    add_skew_comparators(schema, served, infinity_norm, jensen_shannon)
    return len(examples), skew(training, serving, schema)
