"""Weight averaging: the bias-corrected moving average, and each epoch handing on (and validating) it."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from mian_keras import HParams, build_model, compile_model
from mian_keras.random_batch import planted_labels, random_batch
from mian_keras.weight_averaging import AveragingAdam


def test_the_average_is_the_bias_corrected_average_of_the_iterates():
    weight = tf.Variable([1.0, -2.0])
    optimizer = AveragingAdam(momentum=0.9, learning_rate=0.1)
    # Adam's section 7.2: from zero, divided by 1 - momentum^t; the initial weights weigh nothing.
    average = np.zeros(2)
    for step in range(1, 41):
        optimizer.apply_gradients([(tf.constant([0.5, -1.0]) * np.sin(step), weight)])
        average = 0.9 * average + 0.1 * weight.numpy()
        (stored,) = optimizer._model_variables_moving_average
        np.testing.assert_allclose(stored.numpy(), average / (1 - 0.9**step), rtol=1e-4)


def test_a_short_training_is_not_left_on_its_initialization():
    weight = tf.Variable([0.0])
    optimizer = AveragingAdam(momentum=0.99, learning_rate=0.1)
    for _ in range(10):
        optimizer.apply_gradients([(tf.constant([-1.0]), weight)])
    optimizer.finalize_variable_values([weight])
    # Adam moves the weight 0.1 a step: the iterates are 0.1, ..., 1.0 and their average about 0.55
    # (Keras' average from the initial weights at 0.99 would be 0.05: 90% of it the initial 0).
    assert float(weight.numpy()[0]) == pytest.approx(0.55, abs=0.01)


def _fit_one_epoch(spec, hp):
    x = random_batch(spec, 1024, seed=1)
    validation = random_batch(spec, 512, seed=2)
    model = compile_model(build_model("deepfm", spec, hp), hp)
    history = model.fit(
        x,
        planted_labels(x, seed=1),
        batch_size=64,
        epochs=1,
        validation_data=(validation, planted_labels(validation, seed=2)),
        verbose=0,
    )
    return model, history, validation


def test_each_epoch_validates_the_weights_it_hands_on(spec):
    hp = HParams(mlp_units=(8,))
    model, history, validation = _fit_one_epoch(spec, hp)
    assert isinstance(model.optimizer, AveragingAdam)
    # The epoch's validation loss is the loss of the model fit returns: the average was written before
    # validation (written only at fit's end, it would have validated the last iterate instead).
    validated = model.evaluate(validation, planted_labels(validation, seed=2), batch_size=64, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(validated[0], rel=1e-5)
    averages = model.optimizer._model_variables_moving_average
    for weight, average in zip(model.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(weight.numpy(), average.numpy())


def test_the_papers_preset_trains_with_adams_last_iterate():
    assert HParams.paper().weight_averaging is None
    assert type(HParams.paper().optimizer()) is keras.optimizers.Adam
    optimizer = HParams().optimizer()
    restored = AveragingAdam.from_config(optimizer.get_config())
    assert restored.ema_momentum == optimizer.ema_momentum == HParams().weight_averaging
