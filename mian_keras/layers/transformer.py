"""The Transformer unit of IBIM (section 3.2.2, Eqs. 3-5), Pre-LN or original Post-LN."""

from __future__ import annotations

import math

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.kernel_layer import KernelLayer

# Where a transformer block normalizes: before each sublayer (pre-LN) or after its residual (post-LN).
PRE_LN = "pre_ln"
POST_LN = "post_ln"

# Added to the attention logits of masked keys: exp() of it is 0 in float32.
MASKED_LOGIT = -1e9


@keras.utils.register_keras_serializable(package="mian")
class TransformerBlock(KernelLayer):
    """One Transformer block over the behavior embeddings e_b.

    Pre-LN (the paper's choice, Figure 2a): LayerNorm (Eq. 3) before the multi-head self-attention
    (Eq. 4) and before the position-wise FFN (Eq. 5), each sub-layer wrapped in a residual connection:
        x = x + MultiHead(LN(x));  h = x + FFN(LN(x)).
    Post-LN (the original Transformer, Table 4's "w/ Transformer"): the residual sum is normalized:
        x = LN(x + MultiHead(x));  h = LN(x + FFN(x)).

    The multi-head self-attention (Eq. 4) projects queries, keys and values of all h heads with one
    fused kernel [d, 3, h, k] (k = d / h) and attends with batched matmuls over [batch, h, T, T];
    padded steps are masked out of the keys by a large negative logit, so no valid step ever reads a
    padded one. The outputs at padded steps are meaningless and must be masked by whoever reads them.

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
        self.key_dim = max(1, width // self.num_heads)
        heads = (self.num_heads, self.key_dim)
        # W^Q, W^K, W^V of every head (Eq. 4), fused; W^O maps the concatenated heads back to d.
        self.qkv_kernel = self.add_weight(
            name="qkv_kernel", shape=(width, 3, *heads), **self._matrices_kernel_args(width, 3)
        )
        self.qkv_bias = self.add_weight(name="qkv_bias", shape=(3, *heads), initializer="zeros")
        self.output_kernel = self.add_weight(
            name="output_kernel", shape=(*heads, width), **self._matrices_kernel_args(math.prod(heads), 1)
        )
        self.output_bias = self.add_weight(name="output_bias", shape=(width,), initializer="zeros")
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="attention_norm")
        self.ffn_inner = keras.layers.Dense(
            width * self.ffn_multiplier, activation="relu", name="ffn_inner", **self.kernel_args
        )
        self.ffn_outer = keras.layers.Dense(width, name="ffn_outer", **self.kernel_args)
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ffn_norm")
        self.attention_dropout = keras.layers.Dropout(self.dropout)
        self.residual_dropout = keras.layers.Dropout(self.dropout)
        super().build(input_shape)

    def _matrices_kernel_args(self, rows: int, count: int) -> dict:
        """A fused kernel initialized as the `count` [rows, n] matrices it fuses, side by side.

        A fan-scaled initializer (Glorot) would otherwise count the fused axes into its fans.
        """

        def init(shape, dtype=None):
            columns = math.prod(shape) // (rows * count)
            # A fresh initializer per matrix: one unseeded instance would repeat its values.
            matrices = [
                keras.initializers.get(self.kernel_initializer)((rows, columns), dtype) for _ in range(count)
            ]
            return tf.reshape(tf.concat(matrices, axis=-1), shape)

        return dict(initializer=init, regularizer=self.kernel_regularizer)

    def _self_attention(self, x, key_bias, training):
        qkv = tf.einsum("btd,dnhk->btnhk", x, self.qkv_kernel) + self.qkv_bias
        query, key, value = tf.unstack(qkv, axis=2)  # each [batch, T, h, k]
        logits = tf.einsum("bqhk,bthk->bhqt", query, key) / math.sqrt(self.key_dim) + key_bias
        weights = self.attention_dropout(tf.nn.softmax(logits, axis=-1), training=training)
        heads = tf.einsum("bhqt,bthk->bqhk", weights, value)
        out = tf.einsum("bqhk,hkd->bqd", heads, self.output_kernel) + self.output_bias
        return self.residual_dropout(out, training=training)

    def _ffn(self, x, training):
        return self.residual_dropout(self.ffn_outer(self.ffn_inner(x)), training=training)

    def call(self, behaviors, valid, training=None):
        # [batch, 1 (heads), 1 (queries), T (keys)]: 0 for a valid key, a large negative logit otherwise.
        key_bias = (1.0 - tf.cast(valid, behaviors.dtype))[:, tf.newaxis, tf.newaxis, :] * MASKED_LOGIT
        x = behaviors
        if self.norm_position == PRE_LN:
            x = x + self._self_attention(self.attention_norm(x), key_bias, training)
            return x + self._ffn(self.ffn_norm(x), training)
        x = self.attention_norm(x + self._self_attention(x, key_bias, training))
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
