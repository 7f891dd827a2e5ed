"""One progress line per training epoch, as it ends: how far, how long, and how well."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import tf_keras as keras

from mian.names import EVAL_AUC, PROGRESS_LOGGER


class EpochProgress(keras.callbacks.Callback):
    """Logs `Trainer: epoch 2/4 in 31.5 s, loss 0.4312, eval AUC 0.7718` on the progress logger at
    each epoch's end (the seconds include the epoch's validation). `clock` returns seconds."""

    def __init__(self, epochs: int, name: str = "Trainer", clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self._epochs, self._name, self._clock = epochs, name, clock
        self._started = 0.0
        self._logger = logging.getLogger(PROGRESS_LOGGER)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = self._clock()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        measured = [f"{label} {logs[key]:.4f}" for key, label in (("loss", "loss"), (EVAL_AUC, "eval AUC"))
                    if key in logs]  # fmt: skip
        self._logger.info(
            "%s: epoch %d/%d in %.1f s%s",
            self._name,
            epoch + 1,
            self._epochs,
            self._clock() - self._started,
            "".join(f", {m}" for m in measured),
        )
