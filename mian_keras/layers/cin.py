"""The Compressed Interaction Network of xDeepFM (Lian et al. 2018)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class CompressedInteraction(KernelLayer):
    """CIN: X^k_h = sum_{i,j} W^{k,h}_{ij} (X^{k-1}_i o X^0_j), vector-wise interactions of growing degree.

    Each layer's feature maps are sum-pooled over the embedding axis and all layers' pools are
    concatenated (xDeepFM's p^+).

    Call with the field embeddings [batch, m, d]; returns [batch, sum(layer_sizes)].
    """

    def __init__(self, layer_sizes, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.layer_sizes = list(layer_sizes)

    def build(self, input_shape):
        fields = int(input_shape[1])
        previous = fields
        self.filters = []
        for i, size in enumerate(self.layer_sizes):
            self.filters.append(
                self.add_weight(
                    name=f"filter_{i}",
                    shape=(previous * fields, size),
                    **self.kernel_weight_args(),
                )
            )
            previous = size
        super().build(input_shape)

    def call(self, x0):
        batch, fields, width = tf.shape(x0)[0], x0.shape[1], tf.shape(x0)[2]
        x, pools = x0, []
        for kernel in self.filters:
            # Outer product over fields, per embedding coordinate: [batch, H_{k-1} * m, d].
            z = tf.reshape(
                x[:, :, tf.newaxis, :] * x0[:, tf.newaxis, :, :],
                tf.stack([batch, x.shape[1] * fields, width]),
            )
            x = tf.einsum("bfd,fh->bhd", z, kernel)
            pools.append(tf.reduce_sum(x, axis=-1))
        return tf.concat(pools, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            layer_sizes=self.layer_sizes,
        )
        return config
