"""A sample of the scored requests, as TF Serving's own request logging writes them: `PredictionLog`
records (the request, the response and the model they went to) in TFRecord files, which
`mian skew` compares with the training data.

Each request is kept with probability `sample` (TF Serving's `sampling_rate`), drawn per request. One
file per server process (`prediction_log-<UTC start>-<pid>.tfrecord`) under the directory, each record
flushed as it is written, so that a reader sees every logged request while the server runs.
"""

from __future__ import annotations

import os
import random
import threading
import time

import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2


class RequestLog:
    def __init__(self, directory: str, sample: float, seed: int | None = None):
        if not 0 < sample <= 1:
            raise ValueError(f"--log-sample {sample}: a share of requests in (0, 1]")
        tf.io.gfile.makedirs(directory)
        started = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.path = os.path.join(directory, f"prediction_log-{started}-{os.getpid()}.tfrecord")
        self.sample = sample
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._writer = tf.io.TFRecordWriter(self.path)
        self.logged = 0

    def predict(self, request, response) -> None:
        """Log a Predict call, if it is drawn."""
        if self._drawn():
            log = prediction_log_pb2.PredictionLog()
            log.predict_log.request.CopyFrom(request)
            log.predict_log.response.CopyFrom(response)
            self._write(log, response.model_spec)

    def classify(self, request, response) -> None:
        """Log a Classify call, if it is drawn."""
        if self._drawn():
            log = prediction_log_pb2.PredictionLog()
            log.classify_log.request.CopyFrom(request)
            log.classify_log.response.CopyFrom(response)
            self._write(log, response.model_spec)

    def close(self) -> None:
        with self._lock:
            self._writer.close()

    def _drawn(self) -> bool:
        with self._lock:
            return self._random.random() < self.sample

    def _write(self, log, model_spec) -> None:
        log.log_metadata.model_spec.CopyFrom(model_spec)
        log.log_metadata.sampling_config.sampling_rate = self.sample
        with self._lock:
            self._writer.write(log.SerializeToString())
            self._writer.flush()
            self.logged += 1
