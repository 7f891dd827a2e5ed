"""The cross network of Deep&Cross (Wang et al. 2017)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.initializers import fresh_initializer, initializer_config


@keras.utils.register_keras_serializable(package="mian")
class CrossNetwork(keras.layers.Layer):
    """x_{l+1} = x_0 (x_l . w_l) + b_l + x_l for `num_layers` layers: explicit crosses up to that degree.

    Call with [batch, d]; returns [batch, d].
    """

    def __init__(self, num_layers: int, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        width = int(input_shape[-1])
        self.cross_kernels = [
            self.add_weight(
                name=f"kernel_{i}",
                shape=(width,),
                initializer=fresh_initializer(self.kernel_initializer),
                regularizer=self.kernel_regularizer,
            )
            for i in range(self.num_layers)
        ]
        self.cross_biases = [
            self.add_weight(name=f"bias_{i}", shape=(width,), initializer="zeros")
            for i in range(self.num_layers)
        ]
        super().build(input_shape)

    def call(self, x0):
        x = x0
        for kernel, bias in zip(self.cross_kernels, self.cross_biases, strict=True):
            x = x0 * tf.reduce_sum(x * kernel, axis=-1, keepdims=True) + bias + x
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            num_layers=self.num_layers,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
