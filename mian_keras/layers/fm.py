"""The factorization machine's pairwise term (DeepFM, Guo et al. 2017)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="mian")
class FactorizationMachine(keras.layers.Layer):
    """sum_{i<j} <v_i, v_j> over the field embeddings, in O(F d) as 1/2 ((sum v)^2 - sum v^2).

    Call with [batch, F, d]; returns [batch, 1].
    """

    def call(self, fields):
        square_of_sum = tf.square(tf.reduce_sum(fields, axis=1))
        sum_of_squares = tf.reduce_sum(tf.square(fields), axis=1)
        return 0.5 * tf.reduce_sum(square_of_sum - sum_of_squares, axis=-1, keepdims=True)
