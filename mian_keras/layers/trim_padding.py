"""Cutting a batch's behavior sequences to the steps its examples fill, and padding step outputs back."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.feature_spec import PADDING_ID


@keras.utils.register_keras_serializable(package="mian")
class TrimPadding(keras.layers.Layer):
    """Drops the steps after the last one that any example of the batch fills.

    Histories are at most T long, and where most users have few clicks (new or returning users, the
    paper's section 4.4) a batch's longest history is far shorter than T: on the profile-rich
    synthetic set it averages 5-7 of 30 steps. Every step after the batch's last filled one is padding
    in every example, which the sequence modules mask anyway; cutting them saves their whole cost (the
    Transformer's attention grows with the square of the steps, DIEN's recurrences with the steps)
    and changes no output. At least one step is kept, so that a batch of empty histories still has a
    (fully masked) sequence.

    Call with a list of [batch, T] tensors, the first holding the ids whose `PADDING_ID` marks the
    empty steps; returns them cut to [batch, T'], T' <= T.
    """

    def call(self, sequences):
        filled = tf.not_equal(sequences[0], PADDING_ID)
        positions = tf.range(1, tf.shape(filled)[1] + 1)[tf.newaxis, :]
        steps = tf.maximum(tf.reduce_max(tf.where(filled, positions, 0)), 1)
        return [sequence[:, :steps] for sequence in sequences]


def pad_steps(values: tf.Tensor, steps: int) -> tf.Tensor:
    """Pads a per-step output [batch, T'] of sequences cut by `TrimPadding` back to [batch, steps].

    The padding is zeros: what the cut steps would have held (their attention weight is 0).
    """
    padded = tf.pad(values, [[0, 0], [0, steps - tf.shape(values)[1]]])
    return tf.ensure_shape(padded, [None, steps])
