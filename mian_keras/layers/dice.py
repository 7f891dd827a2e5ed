"""Dice, DIN's data-adaptive activation (Zhou et al. 2018, section 4.3, Eq. 9)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="mian")
class Dice(keras.layers.Layer):
    """f(s) = p(s) s + (1 - p(s)) alpha s, with p(s) = sigmoid((s - E[s]) / sqrt(Var[s] + epsilon)).

    A PReLU whose rectification point follows the data: E[s] and Var[s] are each unit's mean and
    variance over the mini-batch while training and their moving averages at inference (a batch
    normalization without scale or offset); alpha is learned per unit and starts at 0. With `mask`
    (the inputs' shape without the units), only the valid positions (a behavior sequence's clicks,
    not its padding) enter the statistics.
    """

    def __init__(self, epsilon: float = 1e-8, momentum: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.momentum = momentum
        self.standardize = keras.layers.BatchNormalization(
            center=False, scale=False, epsilon=epsilon, momentum=momentum, name="standardize"
        )

    def build(self, input_shape):
        self.alpha = self.add_weight(name="alpha", shape=(input_shape[-1],), initializer="zeros")
        self.standardize.build(input_shape)
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        p = tf.sigmoid(self.standardize(inputs, training=training, mask=mask))
        return p * inputs + (1.0 - p) * self.alpha * inputs

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon, momentum=self.momentum)
        return config
