"""Training seconds per epoch, recorded in the Keras history next to the losses."""

from __future__ import annotations

import time
from collections.abc import Callable

import tf_keras as keras

EPOCH_SECONDS = "train_seconds"


class EpochTimer(keras.callbacks.Callback):
    """Adds `train_seconds` to each epoch's logs: the time spent on training batches, from the
    epoch's start to the start of its validation (or to its end when there is none), so that
    validation is not counted as training cost. The first epoch includes tf.function tracing.
    `clock` returns seconds (a test passes its own)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self._clock = clock
        self._started = None  # set while an epoch runs
        self._seconds = None  # set when that epoch's validation starts

    def on_epoch_begin(self, epoch, logs=None):
        self._started = self._clock()
        self._seconds = None

    def on_test_begin(self, logs=None):
        # evaluate() outside an epoch calls this too; within one, only its first call counts.
        if self._started is not None and self._seconds is None:
            self._seconds = self._clock() - self._started

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[EPOCH_SECONDS] = (
                self._seconds if self._seconds is not None else self._clock() - self._started
            )
        self._started = None
