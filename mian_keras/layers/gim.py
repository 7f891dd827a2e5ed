"""The Global Interaction Module, GIM (Eqs. 14-15)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import TanhAttentionPooling
from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class GlobalInteraction(KernelLayer):
    """GIM: attention over the original and the interactive representations.

    r_g = {e_i; e_c; e_b; e_u; P(R_ibim); P(R_iuim); P(R_icim)} (Eq. 14) and
    R_g = sum_l softmax_l(tanh(r_l W_l + b_l)) r_l (Eq. 15), with W_l, b_l of each representation's own.

    The paper leaves the pooling P and the common width open. Here P is a learned linear projection,
    without bias, of each representation to `width` units: each r_l gets its own projection, applied
    alike to the original e_* and to the R_*, so the attention compares like with like and no
    representation is cut or padded. The sequence e_b arrives already reduced to one vector (the mean of
    its valid steps; see MaskedMeanPooling). `names` labels the representations in the order given, so
    that the weights alpha_l can be read per example (the paper's Figure 6).

    Call with a list of L tensors [batch, d_l]; returns (R_g [batch, width], alpha [batch, L]).
    """

    def __init__(self, names, width: int, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.names = list(names)
        self.width = width
        self.projections = [
            keras.layers.Dense(
                width,
                use_bias=False,
                **self.kernel_args,
                name=f"project_{name}",
            )
            for name in self.names
        ]
        self.pooling = TanhAttentionPooling(
            per_slot=True,
            **self.kernel_args,
            name="global_attention",
        )

    def call(self, representations):
        if len(representations) != len(self.names):
            raise ValueError(
                f"GIM expects {len(self.names)} representations {self.names}, got {len(representations)}"
            )
        projected = tf.stack([p(r) for p, r in zip(self.projections, representations, strict=True)], axis=1)
        return self.pooling(projected)

    def get_config(self):
        config = super().get_config()
        config.update(
            names=self.names,
            width=self.width,
        )
        return config
