"""The DNN prediction module (section 3.2.3, Eq. 16)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.layers.kernel_layer import KernelLayer


@keras.utils.register_keras_serializable(package="mian")
class MLP(KernelLayer):
    """R_l = ReLU(W_l R_{l-1} + b_l) for each width in `units` (Eq. 16), with dropout after each layer.

    The paper uses units (32, 8). The logit on top (Eq. 17) is the model's own layer.
    """

    def __init__(
        self, units, dropout: float = 0.0, kernel_initializer=None, kernel_regularizer=None, **kwargs
    ):
        super().__init__(kernel_initializer, kernel_regularizer, **kwargs)
        self.units = list(units)
        self.dropout = dropout
        self.hidden = [
            keras.layers.Dense(
                width,
                activation="relu",
                **self.kernel_args,
                name=f"dense_{i}",
            )
            for i, width in enumerate(self.units)
        ]
        self.dropouts = [keras.layers.Dropout(dropout) for _ in self.units]

    def call(self, x, training=None):
        for dense, dropout in zip(self.hidden, self.dropouts, strict=True):
            x = dropout(dense(x), training=training)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            dropout=self.dropout,
        )
        return config
