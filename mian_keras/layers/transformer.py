"""The Transformer unit of IBIM (section 3.2.2, Eqs. 3-5), Pre-LN or original Post-LN."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.hparams import POST_LN, PRE_LN
from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class TransformerBlock(KernelLayer):
    """One Transformer block over the behavior embeddings e_b.

    Pre-LN (the paper's choice, Figure 2a): LayerNorm (Eq. 3) before the multi-head self-attention
    (Eq. 4) and before the position-wise FFN (Eq. 5), each sub-layer wrapped in a residual connection:
        x = x + MultiHead(LN(x));  h = x + FFN(LN(x)).
    Post-LN (the original Transformer, Table 4's "w/ Transformer"): the residual sum is normalized:
        x = LN(x + MultiHead(x));  h = LN(x + FFN(x)).

    Padded steps are masked out of the attention keys, so no valid step ever reads a padded one. The
    outputs at padded steps are meaningless and must be masked by whoever reads them.

    Call with behaviors [batch, T, d] and `valid` [batch, T] (bool); returns h_b [batch, T, d].
    """

    def __init__(
        self,
        num_heads: int,
        ffn_multiplier: int = 4,
        dropout: float = 0.0,
        norm_position: str = PRE_LN,
        kernel_initializer=None,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        if norm_position not in (PRE_LN, POST_LN):
            raise ValueError(f"norm_position must be {PRE_LN!r} or {POST_LN!r}, got {norm_position!r}")
        self.num_heads = num_heads
        self.ffn_multiplier = ffn_multiplier
        self.dropout = dropout
        self.norm_position = norm_position

    def build(self, input_shape):
        width = int(input_shape[-1])
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=max(1, width // self.num_heads),
            dropout=self.dropout,
            name="self_attention",
            **self.kernel_args,
        )
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="attention_norm")
        self.ffn_inner = keras.layers.Dense(
            width * self.ffn_multiplier, activation="relu", name="ffn_inner", **self.kernel_args
        )
        self.ffn_outer = keras.layers.Dense(width, name="ffn_outer", **self.kernel_args)
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ffn_norm")
        self.residual_dropout = keras.layers.Dropout(self.dropout)
        super().build(input_shape)

    def _self_attention(self, x, attention_mask, training):
        out = self.attention(x, x, attention_mask=attention_mask, training=training)
        return self.residual_dropout(out, training=training)

    def _ffn(self, x, training):
        return self.residual_dropout(self.ffn_outer(self.ffn_inner(x)), training=training)

    def call(self, behaviors, valid, training=None):
        # [batch, T (queries), T (keys)]: a query step attends only to valid key steps.
        attention_mask = tf.logical_and(valid[:, :, tf.newaxis], valid[:, tf.newaxis, :])
        x = behaviors
        if self.norm_position == PRE_LN:
            x = x + self._self_attention(self.attention_norm(x), attention_mask, training)
            return x + self._ffn(self.ffn_norm(x), training)
        x = self.attention_norm(x + self._self_attention(x, attention_mask, training))
        return self.ffn_norm(x + self._ffn(x, training))

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            ffn_multiplier=self.ffn_multiplier,
            dropout=self.dropout,
            norm_position=self.norm_position,
        )
        return config
