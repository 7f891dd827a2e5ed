"""Softmax over a masked axis, for the attention weights of MIAN (Eqs. 7, 10, 13, 15) and DIEN."""

from __future__ import annotations

import tensorflow as tf


def masked_softmax(logits: tf.Tensor, valid: tf.Tensor | None) -> tf.Tensor:
    """Softmax over the last axis, restricted to the `valid` entries.

    Invalid entries get weight exactly 0; where no entry is valid (a user without history), all weights
    are 0 rather than NaN. The shift by the largest valid logit keeps exp() finite for any logits.
    """
    if valid is None:
        return tf.nn.softmax(logits, axis=-1)
    floor = tf.fill(tf.shape(logits), tf.constant(-1e9, logits.dtype))
    largest = tf.reduce_max(tf.where(valid, logits, floor), axis=-1, keepdims=True)
    # Invalid entries may lie above the largest valid one: clip them before exp(), then zero them.
    exp = tf.exp(tf.minimum(logits - largest, 0.0)) * tf.cast(valid, logits.dtype)
    return tf.math.divide_no_nan(exp, tf.reduce_sum(exp, axis=-1, keepdims=True))


def tanh_attention(logits: tf.Tensor, valid: tf.Tensor | None = None, axis: int = -1) -> tf.Tensor:
    """The attention weights alpha = softmax(tanh(logits)) over `axis`, on the `valid` entries only.

    `valid` is a mask that broadcasts against `logits`.
    The score of MIAN's four attention modules (Eqs. 7-8, 10, 13, 15). tanh bounds the scores to
    [-1, 1], so exp() needs no shift; invalid entries get weight 0, and all weights are 0 where no
    entry is valid (a user without history).
    """
    exp = tf.exp(tf.tanh(logits))
    if valid is None:
        return exp / tf.reduce_sum(exp, axis=axis, keepdims=True)
    exp *= tf.cast(valid, exp.dtype)
    return tf.math.divide_no_nan(exp, tf.reduce_sum(exp, axis=axis, keepdims=True))
