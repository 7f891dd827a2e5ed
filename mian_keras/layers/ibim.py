"""The Item-Behaviors Interaction Module, IBIM (section 3.2.2, Eqs. 3-9)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import tanh_attention
from mian_keras.layers.kernel_layer import KernelLayer
from mian_keras.layers.transformer import PRE_LN, TransformerBlock
from mian_keras.layers.trim_padding import pad_steps

# How a behavior is scored against the candidate, and the transformer option that skips the encoder.
IBIM_ADDITIVE = "additive"
IBIM_BILINEAR = "bilinear"
NO_TRANSFORMER = "none"


@keras.utils.register_keras_serializable(package="mian")
class ItemBehaviorsInteraction(KernelLayer):
    """IBIM: a Transformer over the behaviors, then attention of the candidate over its outputs.

    h_b = Transformer(e_b + p) (Eqs. 3-5; Pre-LN by default, Post-LN or none for Table 4's ablations);
    V_t = concat(e_i, h_t) (Eq. 6); alpha_t = softmax_t(gamma(V_t)) over the valid steps (Eq. 7);
    R_ibim = sum_t alpha_t V_t (Eq. 9).

    The score gamma (Eq. 8), by `score`:
    - "additive": gamma(V_t) = tanh(V_t W + b), one W and b for every step. The candidate's part
      e_i W_i is the same at every step, so the order of the weights does not depend on the candidate.
    - "bilinear": gamma(V_t) = tanh(V_t W + e_i M h_t + b): a weight matrix M between candidate and
      behavior, so that which behaviors matter depends on the candidate (DIN's point, which section
      3.2.2 cites for IBIM).

    `positions` adds a learned embedding p_t of each step's recency (step 0 is the newest click) to
    e_b before the Transformer; the paper's self-attention is otherwise blind to the order of clicks.

    `max_steps` is T when the behaviors may arrive cut to fewer steps (TrimPadding): the position
    table then has T rows, of which a batch uses its first ones, and alpha is padded back to T.

    Computed without tiling e_i over the steps: e_i W_i is scored once, and since the alpha_t sum to
    1, R_ibim = concat(e_i, sum_t alpha_t h_t).

    With no valid step (a user without history) every alpha_t is 0 and R_ibim is the zero vector, so
    the module contributes nothing rather than NaN and the other modules carry the prediction.

    Call with [e_i [batch, D_i], e_b [batch, T, D_b], valid [batch, T] (bool)]; returns
    (R_ibim [batch, D_i + D_b], alpha [batch, T]).
    """

    def __init__(
        self,
        num_heads: int,
        transformer: str = PRE_LN,
        ffn_multiplier: int = 4,
        dropout: float = 0.0,
        score: str = IBIM_ADDITIVE,
        positions: bool = False,
        max_steps: int | None = None,
        kernel_initializer=None,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        if score not in (IBIM_ADDITIVE, IBIM_BILINEAR):
            raise ValueError(f"score must be {IBIM_ADDITIVE!r} or {IBIM_BILINEAR!r}, got {score!r}")
        self.num_heads = num_heads
        self.transformer_kind = transformer
        self.ffn_multiplier = ffn_multiplier
        self.dropout = dropout
        self.score = score
        self.positions = positions
        self.max_steps = max_steps
        self.transformer = None
        if transformer != NO_TRANSFORMER:
            self.transformer = TransformerBlock(
                num_heads,
                ffn_multiplier=ffn_multiplier,
                dropout=dropout,
                norm_position=transformer,
                **self.kernel_args,
                name="transformer",
            )

    def build(self, input_shape):
        item_width = int(input_shape[0][-1])
        behavior_width = int(input_shape[1][-1])
        self.item_width = item_width
        if self.positions:
            steps = self.max_steps or input_shape[1][1]
            if steps is None:
                raise ValueError("IBIM's positions need max_steps when the number of steps is not fixed")
            self.position_embedding = self.add_weight(
                name="position_embedding", shape=(steps, behavior_width), **self.kernel_weight_args()
            )
        # W over V_t = [e_i, h_t]: its first D_i entries score the candidate, the rest the behavior.
        self.score_kernel = self.add_weight(
            name="score_kernel", shape=(item_width + behavior_width,), **self.kernel_weight_args()
        )
        self.score_bias = self.add_weight(name="score_bias", shape=(), initializer="zeros")
        if self.score == IBIM_BILINEAR:
            self.bilinear_kernel = self.add_weight(
                name="bilinear_kernel", shape=(item_width, behavior_width), **self.kernel_weight_args()
            )
        super().build(input_shape)

    def call(self, inputs, training=None):
        item, behaviors, valid = inputs
        hidden = behaviors
        if self.positions:
            hidden = hidden + self.position_embedding[: tf.shape(hidden)[1]]
        if self.transformer is not None:
            hidden = self.transformer(hidden, valid, training=training)
        item_kernel, behavior_kernel = tf.split(self.score_kernel, [self.item_width, -1])
        logits = tf.einsum("btd,d->bt", hidden, behavior_kernel)
        logits += tf.matmul(item, item_kernel[:, tf.newaxis])  # the candidate's part, [batch, 1]
        if self.score == IBIM_BILINEAR:
            logits += tf.einsum("btd,bd->bt", hidden, tf.matmul(item, self.bilinear_kernel))
        weights = tanh_attention(logits + self.score_bias, valid)
        pooled = tf.einsum("bt,btd->bd", weights, hidden)
        # sum_t alpha_t is 1, or 0 for a user without history, whose R_ibim is all zero.
        total = tf.reduce_sum(weights, axis=-1, keepdims=True)
        if self.max_steps is not None:
            weights = pad_steps(weights, self.max_steps)
        return tf.concat([item * total, pooled], axis=-1), weights

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            transformer=self.transformer_kind,
            ffn_multiplier=self.ffn_multiplier,
            dropout=self.dropout,
            score=self.score,
            positions=self.positions,
            max_steps=self.max_steps,
        )
        return config
