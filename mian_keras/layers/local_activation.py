"""DIN's local activation unit (Zhou et al. 2018), the candidate-aware attention over behaviors."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import masked_softmax
from mian_keras.layers.dice import Dice
from mian_keras.layers.kernel_layer import KernelLayer

# "dice": DIN's own (its section 4.3); "sigmoid": a smooth gate without statistics of the batch.
ATTENTION_ACTIVATIONS = ("sigmoid", "dice")


@keras.utils.register_keras_serializable(package="mian")
class LocalActivationUnit(KernelLayer):
    """DIN's local activation unit: behaviors k_t pooled by their relevance to the candidate q.

    a_t = MLP([q, k_t, q - k_t, q * k_t]) scores each behavior; the output is sum_t a_t k_t.

    The MLP's hidden layers use `activation`: "sigmoid", or DIN's "dice" (a Dice after each linear
    layer, its statistics over the valid steps only). Scores at padded steps are 0. DIN uses the
    scores unnormalized, so that the pooled interest keeps the intensity of the user's interest
    (`normalize=False`); DIEN normalizes them with a softmax over the valid steps before they drive
    the AUGRU (`normalize=True`).

    Call with [q [batch, d], k [batch, T, d], valid [batch, T]]; returns (pooled [batch, d],
    scores [batch, T]).
    """

    def __init__(
        self,
        units,
        normalize: bool,
        activation: str = "sigmoid",
        kernel_initializer=None,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        if activation not in ATTENTION_ACTIVATIONS:
            raise ValueError(f"activation must be one of {ATTENTION_ACTIVATIONS}, got {activation!r}")
        self.units = list(units)
        self.normalize = normalize
        self.activation = activation
        dice = activation == "dice"
        self.hidden = [
            keras.layers.Dense(
                width, activation=None if dice else activation, name=f"dense_{i}", **self.kernel_args
            )
            for i, width in enumerate(self.units)
        ]
        self.dice = [Dice(name=f"dice_{i}") for i in range(len(self.units))] if dice else []
        # Under the softmax a bias added to every score cancels out: it would be a dead weight.
        self.score = keras.layers.Dense(1, use_bias=not normalize, name="score", **self.kernel_args)

    def call(self, inputs, training=None):
        query, keys, valid = inputs
        queries = tf.broadcast_to(query[:, tf.newaxis, :], tf.shape(keys))
        x = tf.concat([queries, keys, queries - keys, queries * keys], axis=-1)
        for i, dense in enumerate(self.hidden):
            x = dense(x)
            if self.dice:
                x = self.dice[i](x, training=training, mask=valid)
        scores = tf.squeeze(self.score(x), axis=-1)
        if self.normalize:
            scores = masked_softmax(scores, valid)
        else:
            scores = scores * tf.cast(valid, scores.dtype)
        return tf.einsum("bt,btd->bd", scores, keys), scores

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            normalize=self.normalize,
            activation=self.activation,
        )
        return config
