"""The Item-Behaviors Interaction Module, IBIM (section 3.2.2, Eqs. 3-9)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.hparams import NO_TRANSFORMER, PRE_LN
from mian_keras.layers.attention_pooling import TanhAttentionPooling
from mian_keras.layers.kernel_layer import KernelLayer
from mian_keras.layers.transformer import TransformerBlock


@keras.utils.register_keras_serializable(package="mian")
class ItemBehaviorsInteraction(KernelLayer):
    """IBIM: a Transformer over the behaviors, then attention of the candidate over its outputs.

    h_b = Transformer(e_b) (Eqs. 3-5; Pre-LN by default, Post-LN or none for Table 4's ablations);
    V_t = concat(e_i, h_t) (Eq. 6); alpha_t = softmax_t(tanh(V_t W + b)) over the valid steps
    (Eqs. 7-8); R_ibim = sum_t alpha_t V_t (Eq. 9). One W, b score every step.

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
        kernel_initializer=None,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.num_heads = num_heads
        self.transformer_kind = transformer
        self.ffn_multiplier = ffn_multiplier
        self.dropout = dropout
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
        self.pooling = TanhAttentionPooling(
            per_slot=False,
            **self.kernel_args,
            name="behavior_attention",
        )

    def call(self, inputs, training=None):
        item, behaviors, valid = inputs
        hidden = behaviors
        if self.transformer is not None:
            hidden = self.transformer(behaviors, valid, training=training)
        steps = tf.shape(hidden)[1]
        tiled_item = tf.tile(item[:, tf.newaxis, :], tf.stack([1, steps, 1]))
        interactions = tf.concat([tiled_item, hidden], axis=-1)
        return self.pooling(interactions, valid=valid)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            transformer=self.transformer_kind,
            ffn_multiplier=self.ffn_multiplier,
            dropout=self.dropout,
        )
        return config
