"""The Item-User and Item-Context Interaction Modules, IUIM and ICIM (Eqs. 10-13)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import TanhAttentionPooling
from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class ItemFieldsInteraction(KernelLayer):
    """IUIM (Eqs. 10-11) on the J user fields, or ICIM (Eqs. 12-13) on the K context fields.

    V^j = concat(e_i, e^j) for every field j; alpha_j = softmax_j(tanh(V^j W^j + b^j)) with parameters
    W^j, b^j of each field's own, as the equations write them; R = sum_j alpha_j V^j.

    The weighted sum needs the V^j to have one width, but fields differ (an embedding of 16, a numerical
    scalar of 1: Eq. 2 uses the scalar as is). Narrower fields are zero-padded to the widest one, which
    leaves each field's values untouched and adds no parameters.

    Call with [e_i [batch, D_i], e^1 [batch, d_1], ..., e^J [batch, d_J]]; returns
    (R [batch, D_i + max_j d_j], alpha [batch, J]).
    """

    def __init__(self, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.pooling = TanhAttentionPooling(
            per_slot=True,
            **self.kernel_args,
            name="field_attention",
        )

    def call(self, inputs):
        item, *fields = inputs
        width = max(int(f.shape[-1]) for f in fields)
        interactions = tf.stack(
            [tf.concat([item, tf.pad(f, [[0, 0], [0, width - int(f.shape[-1])]])], -1) for f in fields],
            axis=1,
        )
        return self.pooling(interactions)

    def get_config(self):
        config = super().get_config()
        config.update()
        return config
