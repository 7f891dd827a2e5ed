"""The tanh-scored attention pooling that MIAN uses four times (Eqs. 7-8, 10-11, 12-13, 14-15)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.kernel_layer import KernelLayer


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


@keras.utils.register_keras_serializable(package="mian")
class TanhAttentionPooling(KernelLayer):
    """alpha_l = softmax_l(tanh(V_l W_l + b_l)), output sum_l alpha_l V_l.

    This is the scoring and weighting of IBIM (Eqs. 7-9), IUIM (Eqs. 10-11), ICIM (Eq. 13) and GIM
    (Eq. 15). With `per_slot=True` every slot l has its own W_l and b_l, as IUIM, ICIM and GIM write them
    (W_u^j, W_c^k, W_l), which needs a fixed number of slots. With `per_slot=False` one W and b score all
    slots, as IBIM scores every time step.

    Call with values [batch, L, d] and optionally `valid` [batch, L] (bool); returns the pooled
    [batch, d] and the weights [batch, L], which sum to 1 over the valid slots (0 where none is valid).
    """

    def __init__(self, per_slot: bool, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.per_slot = per_slot

    def build(self, input_shape):
        slots, width = int(input_shape[-2]), int(input_shape[-1])
        shape = (slots, width) if self.per_slot else (width,)
        self.score_kernel = self.add_weight(
            name="score_kernel",
            shape=shape,
            **self.kernel_weight_args(),
        )
        self.score_bias = self.add_weight(name="score_bias", shape=shape[:-1], initializer="zeros")
        super().build(input_shape)

    def call(self, values, valid=None):
        if self.per_slot:
            logits = tf.einsum("bld,ld->bl", values, self.score_kernel)
        else:
            logits = tf.einsum("bld,d->bl", values, self.score_kernel)
        weights = masked_softmax(tf.tanh(logits + self.score_bias), valid)
        return tf.einsum("bl,bld->bd", weights, values), weights

    def get_config(self):
        config = super().get_config()
        config.update(
            per_slot=self.per_slot,
        )
        return config
