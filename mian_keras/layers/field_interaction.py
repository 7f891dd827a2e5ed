"""The Item-User and Item-Context Interaction Modules, IUIM and ICIM (Eqs. 10-13)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import tanh_attention
from mian_keras.layers.kernel_layer import KernelLayer

# A field's attention score: one number, or one per embedding dimension.
SCALAR_SCORES = "scalar"
VECTOR_SCORES = "vector"


@keras.utils.register_keras_serializable(package="mian")
class ItemFieldsInteraction(KernelLayer):
    """IUIM (Eqs. 10-11) on the J user fields, or ICIM (Eqs. 12-13) on the K context fields.

    V^j = concat(e_i, e^j) for every field j; alpha_j = softmax_j(tanh(V^j W^j + b^j)) with parameters
    W^j, b^j of each field's own, as the equations write them; R = sum_j alpha_j V^j.

    The equations call W^j and b^j weight and bias *matrices*. By `scores`:
    - "scalar": W^j is a vector and alpha_j one weight per field, so R = concat(e_i, sum_j alpha_j e^j)
      (the alpha_j sum to 1).
    - "vector": W^j is a matrix and alpha_j a weight per dimension of e^j, normalized over the fields
      dimension by dimension, so R = concat(e_i, sum_j alpha_j * e^j): which value of which field
      passes depends on the candidate, dimension by dimension, a product of item and field.
      The reported weight of a field is its mean over all dimensions (0 on its padding), so that the
      fields' weights still sum to 1.

    The weighted sum needs the V^j to have one width, but fields differ (an embedding of 16, a numerical
    scalar of 1: Eq. 2 uses the scalar as is). Narrower fields are zero-padded to the widest one, which
    leaves each field's values untouched and adds no parameters; with "vector" scores the padding
    dimensions get no weight.

    Computed without building the V^j: V^j W^j splits into e_i W^j_item + e^j W^j_field, all J item
    parts in one matmul.

    Call with [e_i [batch, D_i], e^1 [batch, d_1], ..., e^J [batch, d_J]]; returns
    (R [batch, D_i + max_j d_j], alpha [batch, J]).
    """

    def __init__(
        self, scores: str = SCALAR_SCORES, kernel_initializer=None, kernel_regularizer=None, **kwargs
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        if scores not in (SCALAR_SCORES, VECTOR_SCORES):
            raise ValueError(f"scores must be {SCALAR_SCORES!r} or {VECTOR_SCORES!r}, got {scores!r}")
        self.scores = scores

    def build(self, input_shape):
        self.item_width = int(input_shape[0][-1])
        self.field_widths = [int(s[-1]) for s in input_shape[1:]]
        self.width = max(self.field_widths)
        slots = len(self.field_widths)
        # Row j is W^j over V^j = [e_i, e^j]: its first D_i rows score the item, the rest the field.
        kernel_shape = (slots, self.item_width + self.width)
        if self.scores == VECTOR_SCORES:
            kernel_shape += (self.width,)
        self.score_kernel = self.add_weight(
            name="score_kernel", shape=kernel_shape, **self.kernel_weight_args()
        )
        self.score_bias = self.add_weight(
            name="score_bias", shape=kernel_shape[:1] + kernel_shape[2:], initializer="zeros"
        )
        # [J, width]: True on each field's own dimensions, False on its padding.
        self.dimensions = tf.constant(
            np.arange(self.width)[np.newaxis, :] < np.array(self.field_widths)[:, np.newaxis]
        )
        super().build(input_shape)

    def call(self, inputs):
        item, *fields = inputs
        stacked = tf.stack([tf.pad(f, [[0, 0], [0, self.width - int(f.shape[-1])]]) for f in fields], axis=1)
        item_kernel, field_kernel = tf.split(self.score_kernel, [self.item_width, self.width], axis=1)
        if self.scores == SCALAR_SCORES:
            logits = tf.matmul(item, item_kernel, transpose_b=True)
            logits += tf.einsum("bjd,jd->bj", stacked, field_kernel)
            weights = tanh_attention(logits + self.score_bias)
            return tf.concat([item, tf.einsum("bj,bjd->bd", weights, stacked)], axis=-1), weights
        logits = tf.einsum("bi,jie->bje", item, item_kernel) + tf.einsum(
            "bjd,jde->bje", stacked, field_kernel
        )
        # Normalized over the fields (axis 1), dimension by dimension.
        weights = tanh_attention(logits + self.score_bias, self.dimensions, axis=1)
        pooled = tf.reduce_sum(weights * stacked, axis=1)
        return tf.concat([item, pooled], axis=-1), tf.reduce_mean(weights, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(scores=self.scores)
        return config
