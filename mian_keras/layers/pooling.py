"""Mean of a sequence over its valid steps."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="mian")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean over the valid steps of a sequence; the zero vector where no step is valid.

    GIM uses it to reduce the behavior embeddings e_b to one vector, and the non-sequential baselines
    to read the behavior sequence as a bag of clicked items.

    Call with [values [batch, T, d], valid [batch, T] (bool)]; returns [batch, d].
    """

    def call(self, inputs):
        values, valid = inputs
        weights = tf.cast(valid, values.dtype)[..., tf.newaxis]
        total = tf.reduce_sum(values * weights, axis=1)
        return tf.math.divide_no_nan(total, tf.reduce_sum(weights, axis=1))
