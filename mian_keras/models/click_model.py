"""The Keras model every click model is: a functional model whose `fit` applies the library's averaging."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.weight_averaging import WriteAverageAtEpochEnd, averages_weights


class ClickModel(keras.Model):
    """A functional Keras model (built from inputs and the logit) that trains with weight averaging.

    When compiled with an averaging optimizer (`compile_model` with `HParams.weight_averaging`), its
    `fit` puts `WriteAverageAtEpochEnd` first among the callbacks, so that whoever calls `fit` (the
    Trainer, the Tuner, a user's own loop) gets the same training.
    """

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, **kwargs):
        if averages_weights(self):
            callbacks = [WriteAverageAtEpochEnd(), *(callbacks or [])]
        return super().fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks, **kwargs
        )
