"""The GRU with attentional update gate of DIEN (Zhou et al. 2019), and its interest evolution layer."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.kernel_layer import KernelLayer
from mian_keras.layers.local_activation import LocalActivationUnit


@keras.utils.register_keras_serializable(package="mian")
class AUGRUCell(KernelLayer):
    """AUGRU: a GRU whose update gate is scaled by the step's attention score a_t.

    u'_t = a_t * u_t;  h_t = (1 - u'_t) * h_{t-1} + u'_t * h~_t. A step the candidate finds irrelevant
    (a_t near 0) leaves the interest state as it was.

    Its input at each step is the step's features with a_t appended as the last column.
    """

    def __init__(self, units: int, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        features = int(input_shape[-1]) - 1
        self.kernel = self.add_weight(
            name="kernel",
            shape=(features, 3 * self.units),
            **self.kernel_weight_args(),
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, 3 * self.units),
            initializer="orthogonal",
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(name="bias", shape=(3 * self.units,), initializer="zeros")
        super().build(input_shape)

    def call(self, inputs, states):
        x, attention = inputs[:, :-1], inputs[:, -1:]
        previous = states[0]
        x_update, x_reset, x_candidate = tf.split(tf.matmul(x, self.kernel) + self.bias, 3, axis=-1)
        h_update, h_reset, h_candidate = tf.split(tf.matmul(previous, self.recurrent_kernel), 3, axis=-1)
        update = attention * tf.sigmoid(x_update + h_update)
        reset = tf.sigmoid(x_reset + h_reset)
        candidate = tf.tanh(x_candidate + reset * h_candidate)
        state = (1.0 - update) * previous + update * candidate
        return state, [state]

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
        )
        return config


@keras.utils.register_keras_serializable(package="mian")
class InterestEvolution(KernelLayer):
    """DIEN's two interest layers over a behavior sequence.

    Interest extractor: a GRU over the behaviors, oldest first, gives interest states h_t. Interest
    evolution: attention of the candidate over the h_t (a local activation unit, softmax over the valid
    steps) drives an AUGRU whose last state is the evolved interest. DIEN's auxiliary loss on the
    extractor (next-click prediction against negative samples) is not implemented: it needs sampled
    negatives that the input does not carry.

    Behaviors arrive newest first, padding after the clicks; the layer reverses each sequence's valid
    part so that the recurrences run forward in time, and masked steps leave the state unchanged (an
    empty history gives the zero state).

    Call with [q [batch, d], e_b [batch, T, d], valid [batch, T]]; returns (interest [batch, d],
    attention [batch, T] in oldest-first order).
    """

    def __init__(self, attention_units, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.attention_units = list(attention_units)

    def build(self, input_shape):
        width = int(input_shape[1][-1])
        self.extractor = keras.layers.GRU(
            width, return_sequences=True, name="interest_extractor", **self.kernel_args
        )
        self.attention = LocalActivationUnit(
            self.attention_units, normalize=True, name="interest_attention", **self.kernel_args
        )
        self.evolution = keras.layers.RNN(AUGRUCell(width, **self.kernel_args), name="interest_evolution")
        super().build(input_shape)

    def call(self, inputs):
        query, behaviors, valid = inputs
        lengths = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1)
        oldest_first = tf.reverse_sequence(behaviors, lengths, seq_axis=1, batch_axis=0)
        interests = self.extractor(oldest_first, mask=valid)
        _, attention = self.attention([query, interests, valid])
        evolved = self.evolution(tf.concat([interests, attention[..., tf.newaxis]], axis=-1), mask=valid)
        return evolved, attention

    def get_config(self):
        config = super().get_config()
        config.update(
            attention_units=self.attention_units,
        )
        return config
