"""The order the Trainer reads its training examples in: the files' order, or shuffled when asked."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2

from mian.config.pipeline_config import TrainingConfig
from mian.stages.trainer import transformed_dataset_fn

ROWS = 200


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """ROWS examples numbered 0..ROWS-1 in one TFRecord file, and their schema."""
    path = str(tmp_path_factory.mktemp("order") / "examples.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for row in range(ROWS):
            example = tf.train.Example()
            example.features.feature["row"].int64_list.value.append(row)
            example.features.feature["clicked"].int64_list.value.append(row % 2)
            writer.write(example.SerializeToString())
    schema = schema_pb2.Schema()
    for name in ("row", "clicked"):
        feature = schema.feature.add(name=name, type=schema_pb2.INT)
        feature.presence.min_fraction = 1.0
        feature.shape.dim.add(size=1)
    return [path], schema


def rows(make, epochs):
    return np.concatenate([features["row"].numpy().ravel() for features, _ in make(32, epochs)])


def test_by_default_every_epoch_reads_the_files_in_order(examples):
    make = transformed_dataset_fn(*examples, "clicked")
    assert rows(make, 1).tolist() == list(range(ROWS))
    assert rows(make, 2).tolist() == list(range(ROWS)) * 2


def test_a_shuffle_buffer_shuffles_and_keeps_every_example(examples):
    make = transformed_dataset_fn(*examples, "clicked", shuffle_seed=0, shuffle_buffer=ROWS)
    first, again = rows(make, 1), rows(make, 1)
    assert sorted(first.tolist()) == list(range(ROWS))
    assert first.tolist() != list(range(ROWS))
    # The seed fixes the order: every worker of a multi-worker job reads the same batches.
    assert first.tolist() == again.tolist()


def test_the_training_config_rejects_a_negative_buffer():
    assert TrainingConfig().shuffle_buffer == 0
    with pytest.raises(ValueError, match="shuffle_buffer"):
        TrainingConfig(shuffle_buffer=-1)
