"""The Global Interaction Module, GIM (Eqs. 14-15)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import tanh_attention
from mian_keras.layers.kernel_layer import KernelLayer

# How GIM pools its representations (Eq. 15): a weighted sum at a common width, or their concatenation.
GIM_SUM = "sum"
GIM_CONCAT = "concat"


@keras.utils.register_keras_serializable(package="mian")
class GlobalInteraction(KernelLayer):
    """GIM: attention over the original and the interactive representations.

    r_g = {e_i; e_c; e_b; e_u; P(R_ibim); P(R_iuim); P(R_icim)} (Eq. 14) and weights
    alpha_l = softmax_l(tanh(r_l W_l + b_l)) (Eq. 15), with W_l, b_l of each representation's own.

    The paper leaves the pooling P and how the weighted r_l are combined open: the r_l differ in width,
    and Eq. 14 calls r_g a concatenation. Two readings, by `pooling`:
    - "concat": each r_l keeps its width and is scaled by its weight, and R_g is their concatenation,
      concat_l(alpha_l r_l). Nothing is squeezed: the MLP sees every representation, weighted.
      With `rescale`, each r_l is scaled by L alpha_l instead: the same function class, but uniform
      weights leave every r_l at its own scale rather than shrinking all of them L-fold, which slows
      every layer behind GIM (an update of the MLP's first layer or of an embedding moves the output
      L times less). The weights reported stay alpha_l.
    - "sum": each r_l is projected, without bias, to `width` units (its own projection), and
      R_g = sum_l alpha_l r_l, one `width`-wide vector.
    The sequence e_b arrives already reduced to one vector (the mean of its valid steps). `names` labels
    the representations in the order given, so that the weights can be read per example (Figure 6).

    Both are computed at once for all L representations: "concat" scores the concatenation with one
    kernel and sums the products per block; "sum" zero-pads the r_l to one width and projects all of
    them with one einsum.

    Call with a list of L tensors [batch, d_l]; returns (R_g, alpha [batch, L]), R_g [batch, sum_l d_l]
    ("concat") or [batch, width] ("sum").
    """

    def __init__(
        self,
        names,
        width: int,
        pooling: str = GIM_CONCAT,
        rescale: bool = False,
        kernel_initializer=None,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        if pooling not in (GIM_CONCAT, GIM_SUM):
            raise ValueError(f"pooling must be {GIM_CONCAT!r} or {GIM_SUM!r}, got {pooling!r}")
        self.names = list(names)
        self.width = width
        self.pooling = pooling
        self.rescale = rescale

    def build(self, input_shape):
        if len(input_shape) != len(self.names):
            raise ValueError(
                f"GIM expects {len(self.names)} representations {self.names}, got {len(input_shape)}"
            )
        self.widths = [int(s[-1]) for s in input_shape]
        slots = len(self.widths)
        if self.pooling == GIM_SUM:
            widest = max(self.widths)
            # Slot l's projection is a [d_l, width] kernel, initialized as one, zero-padded to the widest.
            self.projection = self.add_weight(
                name="projection",
                shape=(slots, widest, self.width),
                initializer=self._padded_projections,
                regularizer=self.kernel_regularizer,
            )
            score_shape = (slots, self.width)
        else:
            # [sum_l d_l, L]: column l is 1 on the entries of r_l in the concatenation.
            self.blocks = tf.constant(np.repeat(np.eye(slots, dtype=np.float32), self.widths, axis=0))
            score_shape = (sum(self.widths),)
        self.score_kernel = self.add_weight(
            name="score_kernel", shape=score_shape, **self.kernel_weight_args()
        )
        self.score_bias = self.add_weight(name="score_bias", shape=(slots,), initializer="zeros")
        super().build(input_shape)

    def _padded_projections(self, shape, dtype=None):
        slots, widest, width = shape
        # A fresh initializer per slot: one unseeded instance would repeat its values.
        kernels = [keras.initializers.get(self.kernel_initializer)((d, width), dtype) for d in self.widths]
        return tf.stack([tf.pad(k, [[0, widest - k.shape[0]], [0, 0]]) for k in kernels])

    def call(self, representations):
        if self.pooling == GIM_SUM:
            widest = max(self.widths)
            padded = tf.stack([tf.pad(r, [[0, 0], [0, widest - r.shape[-1]]]) for r in representations], 1)
            projected = tf.einsum("bld,ldw->blw", padded, self.projection)
            weights = tanh_attention(tf.einsum("blw,lw->bl", projected, self.score_kernel) + self.score_bias)
            return tf.einsum("bl,blw->bw", weights, projected), weights
        flat = tf.concat(representations, axis=-1)
        weights = tanh_attention(tf.matmul(flat * self.score_kernel, self.blocks) + self.score_bias)
        scale = weights * len(self.widths) if self.rescale else weights
        return flat * tf.matmul(scale, self.blocks, transpose_b=True), weights

    def get_config(self):
        config = super().get_config()
        config.update(
            names=self.names,
            width=self.width,
            pooling=self.pooling,
            rescale=self.rescale,
        )
        return config
