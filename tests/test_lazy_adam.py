import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from mian_keras import HParams
from mian_keras.lazy_adam import LazyAdam
from mian_keras.weight_averaging import AveragingAdam

# Three steps: row 1 is looked up at the first only, row 2 at every one, row 4 never.
BATCHES = ([[1], [1], [2]], [[2], [2], [2]], [[2], [3], [3]])


def trajectory(optimizer) -> tuple[list[np.ndarray], np.ndarray]:
    """The embedding table after each step, and the dense kernel at the end."""
    keras.utils.set_random_seed(0)
    table, dense = keras.layers.Embedding(5, 3), keras.layers.Dense(1)
    table(tf.constant([[0]]))
    dense(tf.zeros([1, 3]))
    tables = []
    for batch in BATCHES:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(dense(tf.reduce_sum(table(tf.constant(batch)), axis=1)) - 1.0))
        weights = table.trainable_variables + dense.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        tables.append(table.embeddings.numpy().copy())
    return tables, dense.kernel.numpy()


def test_a_row_moves_only_at_the_steps_that_look_it_up():
    lazy, _ = trajectory(LazyAdam(learning_rate=0.1))
    keras_adam, _ = trajectory(keras.optimizers.Adam(learning_rate=0.1))
    # The first step is Adam's (the moments start at zero, so no other row moves either).
    np.testing.assert_allclose(lazy[0], keras_adam[0], atol=1e-5)
    # Row 1, looked up at the first step only, stays put; Keras' Adam keeps moving it on its momentum.
    np.testing.assert_array_equal(lazy[1][1], lazy[0][1])
    np.testing.assert_array_equal(lazy[2][1], lazy[0][1])
    assert np.abs(keras_adam[2][1] - keras_adam[0][1]).min() > 0.05
    # Rows no batch looked up keep their initial values under both.
    np.testing.assert_array_equal(lazy[2][4], keras_adam[2][4])
    # Row 2, looked up at every step, follows Adam's rule.
    np.testing.assert_allclose(lazy[2][2], keras_adam[2][2], atol=1e-5)


def test_switched_off_it_is_keras_adam():
    off, off_kernel = trajectory(LazyAdam(learning_rate=0.1, lazy_rows=False))
    keras_adam, kernel = trajectory(keras.optimizers.Adam(learning_rate=0.1))
    np.testing.assert_allclose(off_kernel, kernel, atol=1e-6)
    np.testing.assert_allclose(off[-1], keras_adam[-1], atol=1e-6)


def test_hparams_choose_it_with_and_without_weight_averaging():
    averaging = HParams(lazy_embedding_rows=True).optimizer()
    assert isinstance(averaging, AveragingAdam) and averaging.lazy_rows
    assert AveragingAdam.from_config(averaging.get_config()).lazy_rows
    plain = HParams(lazy_embedding_rows=True, weight_averaging=None).optimizer()
    assert isinstance(plain, LazyAdam) and not isinstance(plain, AveragingAdam) and plain.lazy_rows
    assert not HParams(lazy_embedding_rows=False).optimizer().lazy_rows
    # Built directly, or from a config saved before the switch, the averaging Adam is not lazy.
    assert not AveragingAdam(momentum=0.9).lazy_rows
    config = averaging.get_config()
    del config["lazy_rows"]
    assert not AveragingAdam.from_config(config).lazy_rows
    with pytest.raises(ValueError, match="lazy_embedding_rows"):
        HParams(embedding_learning_rate_scale=0.1)
