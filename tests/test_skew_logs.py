"""The logged requests `mian skew` reads: tf.Examples of Predict and Classify calls, and the rows of a
raw signature's named tensors, as tf.Examples."""

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from mian.tools.skew import logged_examples


def test_every_kind_of_logged_request_becomes_its_examples(tmp_path):
    example = tf.train.Example()
    example.features.feature["device"].bytes_list.value.append(b"ios")
    predict = prediction_log_pb2.PredictionLog()
    predict.predict_log.request.inputs["examples"].CopyFrom(
        tf.make_tensor_proto([example.SerializeToString()] * 2, dtype=tf.string)
    )
    classify = prediction_log_pb2.PredictionLog()
    classify.classify_log.request.input.example_list.examples.add().CopyFrom(example)
    raw = prediction_log_pb2.PredictionLog()
    inputs = raw.predict_log.request.inputs
    inputs["device"].CopyFrom(tf.make_tensor_proto(np.array([b"web", b"ios"], dtype=object)))
    inputs["price"].CopyFrom(tf.make_tensor_proto(np.array([1.5, 2.0], dtype=np.float32)))
    inputs["hist_item_id"].CopyFrom(
        tf.make_tensor_proto(np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object))
    )
    inputs["timestamp"].CopyFrom(tf.make_tensor_proto(np.array([7, 8], dtype=np.int64)))
    with tf.io.TFRecordWriter(str(tmp_path / "prediction_log-1.tfrecord")) as writer:
        for log in (predict, classify, raw):
            writer.write(log.SerializeToString())

    examples = logged_examples(str(tmp_path))
    assert examples[:3] == [example] * 3
    second = examples[4].features.feature
    assert list(second["device"].bytes_list.value) == [b"ios"]
    assert list(second["price"].float_list.value) == [2.0]
    assert list(second["hist_item_id"].bytes_list.value) == [b"c", b"d"]
    assert list(second["timestamp"].int64_list.value) == [8]
    assert len(examples) == 5
