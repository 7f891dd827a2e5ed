"""Adam that moves an embedding row only at the steps whose batch looks it up.

Keras' Adam treats a sparse gradient (an embedding table's: the rows a batch looked up) densely: after
adding the looked-up rows' gradients into the moments, it decays every row's moments and moves every
row by them. A row looked up once (a user with a handful of examples, an id seen once a day) keeps
moving for the steps that follow: its first moment decays by beta_1 a step, its second by beta_2, so
the single gradient is applied about sum_k beta_1^k / sqrt(beta_2^k) ~ 1 / (1 - beta_1) = 10 times,
each time at Adam's normalized size (1 - beta_1) / sqrt(1 - beta_2) ~ 3 learning rates: one example
moves the row by ~30 learning rates per coordinate (0.03 at 1e-3, above the embeddings' initial
scale of 0.02), where a row looked up at every step moves ~1 learning rate a step. That is how an id
embedding memorizes its few examples in the first epoch (the one-epoch overfitting of CTR models,
Zhang et al., CIKM 2022).

With `lazy_rows`, a sparse gradient updates the moments and the weights of the rows it holds and of
no other row: the rule for the touched rows is Adam's, moments and bias correction included (the
correction uses the global step, as Keras' does); untouched rows keep their moments and weights until
a batch looks them up again. Dense gradients (every other weight) follow Keras' Adam unchanged.
`row_learning_rate_scale` multiplies the learning rate of those lazy row updates alone.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


class LazyAdam(keras.optimizers.Adam):
    """Keras' Adam, except that a sparse gradient moves only its own rows when `lazy_rows`."""

    def __init__(self, lazy_rows: bool = True, row_learning_rate_scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.lazy_rows = lazy_rows
        self.row_learning_rate_scale = row_learning_rate_scale

    def update_step(self, gradient, variable):
        if not (self.lazy_rows and isinstance(gradient, tf.IndexedSlices)):
            return super().update_step(gradient, variable)
        if self.amsgrad:
            raise ValueError("lazy_rows does not implement AMSGrad")
        # One gradient row per looked-up row: a row looked up twice in a batch sums its gradients.
        rows, position = tf.unique(gradient.indices)
        values = tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(rows)[0])
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        alpha = (
            tf.cast(self.learning_rate * self.row_learning_rate_scale, dtype)
            * tf.sqrt(1 - beta_2**step)
            / (1 - beta_1**step)
        )
        epsilon = self.epsilon * tf.sqrt(1 - beta_2**step) if self.adaptive_epsilon else self.epsilon
        key = self._index_dict[self._var_key(variable)]
        m, v = self._momentums[key], self._velocities[key]
        m_rows = beta_1 * tf.gather(m, rows) + (1 - beta_1) * values
        v_rows = beta_2 * tf.gather(v, rows) + (1 - beta_2) * tf.square(values)
        m.scatter_update(tf.IndexedSlices(m_rows, rows))
        v.scatter_update(tf.IndexedSlices(v_rows, rows))
        variable.scatter_sub(tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + epsilon), rows))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "lazy_rows": self.lazy_rows,
            "row_learning_rate_scale": self.row_learning_rate_scale,
        }
