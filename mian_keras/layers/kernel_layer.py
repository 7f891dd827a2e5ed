"""The base of the layers here: one kernel initializer and one kernel regularizer for all their weights.

An unseeded Keras initializer instance returns the same values every time it is called, so two weights
initialized from one instance would start identical. A KernelLayer therefore keeps the initializer as a
config and makes a fresh instance for every weight and every sub-layer.
"""

from __future__ import annotations

import tf_keras as keras


class KernelLayer(keras.layers.Layer):
    """A layer whose kernels share an initializer config and a regularizer, both in its config."""

    def __init__(self, kernel_initializer=None, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.serialize(
            keras.initializers.get(kernel_initializer or "glorot_uniform")
        )
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    @property
    def kernel_args(self) -> dict:
        """Arguments for a sub-layer (Dense, MultiHeadAttention, ...): each makes its own initializer."""
        return dict(kernel_initializer=self.kernel_initializer, kernel_regularizer=self.kernel_regularizer)

    def kernel_weight_args(self) -> dict:
        """Arguments for add_weight of a kernel: a fresh initializer instance and the regularizer."""
        return dict(
            initializer=keras.initializers.get(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
