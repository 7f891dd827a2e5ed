"""EpochTimer records each epoch's training time and leaves validation out of it.

The timer reads a fake clock that only the batches advance (one unit per training batch, a hundred
per validation batch), so the test checks what is counted, exactly, however busy the machine is.
"""

import numpy as np
import tf_keras as keras

from mian.stages.epoch_timer import EPOCH_SECONDS, EpochTimer

TRAIN_TICK = 1.0
VALIDATION_TICK = 100.0


class FakeClock(keras.callbacks.Callback):
    """A clock advanced by the batches: TRAIN_TICK per training batch, VALIDATION_TICK per eval one."""

    def __init__(self):
        super().__init__()
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def on_train_batch_end(self, batch, logs=None):
        self.now += TRAIN_TICK

    def on_test_batch_end(self, batch, logs=None):
        self.now += VALIDATION_TICK


def test_train_seconds_count_the_training_batches_and_not_the_validation():
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((12, 2), np.float32), np.zeros((12, 1), np.float32)
    clock = FakeClock()
    timer = EpochTimer(clock=clock)
    # evaluate() before fit() calls on_test_begin outside any epoch: it must not confuse the timer.
    model.evaluate(x, y, batch_size=4, callbacks=[clock, timer], verbose=0)
    history = model.fit(
        x, y, batch_size=4, validation_data=(x[:8], y[:8]), epochs=2, callbacks=[clock, timer], verbose=0
    )
    # 3 training batches per epoch; the 2 validation batches (200 units) are left out.
    assert history.history[EPOCH_SECONDS] == [3 * TRAIN_TICK, 3 * TRAIN_TICK]
    history = model.fit(x, y, batch_size=4, epochs=1, callbacks=[clock, timer], verbose=0)
    assert history.history[EPOCH_SECONDS] == [3 * TRAIN_TICK]  # no validation: to the epoch's end
