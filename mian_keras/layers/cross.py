"""The cross network of Deep&Cross (Wang et al. 2017)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class CrossNetwork(KernelLayer):
    """x_{l+1} = x_0 (x_l . w_l) + b_l + x_l for `num_layers` layers: explicit crosses up to that degree.

    Call with [batch, d]; returns [batch, d].
    """

    def __init__(self, num_layers: int, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.num_layers = num_layers

    def build(self, input_shape):
        width = int(input_shape[-1])
        self.cross_kernels = [
            self.add_weight(
                name=f"kernel_{i}",
                shape=(width,),
                **self.kernel_weight_args(),
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
        )
        return config
