"""The Item-User and Item-Context Interaction Modules, IUIM and ICIM (Eqs. 10-13)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import tanh_attention
from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class ItemFieldsInteraction(KernelLayer):
    """IUIM (Eqs. 10-11) on the J user fields, or ICIM (Eqs. 12-13) on the K context fields.

    V^j = concat(e_i, e^j) for every field j; alpha_j = softmax_j(tanh(V^j W^j + b^j)) with parameters
    W^j, b^j of each field's own, as the equations write them; R = sum_j alpha_j V^j.

    The weighted sum needs the V^j to have one width, but fields differ (an embedding of 16, a numerical
    scalar of 1: Eq. 2 uses the scalar as is). Narrower fields are zero-padded to the widest one, which
    leaves each field's values untouched and adds no parameters.

    Computed without building the V^j: V^j W^j splits into e_i W^j_item + e^j W^j_field, all J item
    parts in one matmul; and since the alpha_j sum to 1, R = concat(e_i, sum_j alpha_j e^j).

    Call with [e_i [batch, D_i], e^1 [batch, d_1], ..., e^J [batch, d_J]]; returns
    (R [batch, D_i + max_j d_j], alpha [batch, J]).
    """

    def build(self, input_shape):
        item_width = int(input_shape[0][-1])
        field_width = max(int(s[-1]) for s in input_shape[1:])
        slots = len(input_shape) - 1
        # Row j is W^j over V^j = [e_i, e^j]: its first D_i entries score the item, the rest the field.
        self.score_kernel = self.add_weight(
            name="score_kernel", shape=(slots, item_width + field_width), **self.kernel_weight_args()
        )
        self.score_bias = self.add_weight(name="score_bias", shape=(slots,), initializer="zeros")
        self.item_width = item_width
        super().build(input_shape)

    def call(self, inputs):
        item, *fields = inputs
        width = max(int(f.shape[-1]) for f in fields)
        stacked = tf.stack([tf.pad(f, [[0, 0], [0, width - int(f.shape[-1])]]) for f in fields], axis=1)
        item_kernel, field_kernel = self.score_kernel[:, : self.item_width], self.score_kernel[:, self.item_width :]
        logits = tf.matmul(item, item_kernel, transpose_b=True) + tf.einsum("bjd,jd->bj", stacked, field_kernel)
        weights = tanh_attention(logits + self.score_bias)
        return tf.concat([item, tf.einsum("bj,bjd->bd", weights, stacked)], axis=-1), weights
