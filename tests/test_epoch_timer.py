"""EpochTimer records each epoch's training time and leaves validation out of it."""

import time

import numpy as np
import tensorflow as tf
import tf_keras as keras

from mian.epoch_timer import EPOCH_SECONDS, EpochTimer

TRAIN_BATCH_SLEEP = 0.2
VALIDATION_SLEEP = 3.0


def slowed(seconds: float, batches: int) -> tf.data.Dataset:
    def sleep(x, y):
        time.sleep(seconds)
        return x, y

    x = np.ones((batches * 4, 2), np.float32)
    y = np.zeros((batches * 4, 1), np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    return dataset.map(lambda x, y: tf.numpy_function(sleep, [x, y], [tf.float32, tf.float32]))


def test_train_seconds_count_the_training_batches_and_not_the_validation():
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    # evaluate() before fit() calls on_test_begin outside any epoch: it must not confuse the timer.
    timer = EpochTimer()
    model.evaluate(slowed(0.0, 1), callbacks=[timer], verbose=0)
    history = model.fit(
        slowed(TRAIN_BATCH_SLEEP, 2),
        validation_data=slowed(VALIDATION_SLEEP, 1),
        epochs=2,
        callbacks=[timer],
        verbose=0,
    )
    seconds = history.history[EPOCH_SECONDS]
    assert len(seconds) == 2
    for value in seconds:
        assert 2 * TRAIN_BATCH_SLEEP <= value < VALIDATION_SLEEP, seconds
