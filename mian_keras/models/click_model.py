"""The Keras model every click model is: a functional model whose `fit` applies the library's averaging."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.layers.admitted_embedding import CountFirstEpoch, admitting_tables
from mian_keras.weight_averaging import WriteAverageAtEpochEnd, averages_weights


class ClickModel(keras.Model):
    """A functional Keras model (built from inputs and the logit) that trains as the library does.

    When compiled with an averaging optimizer (`compile_model` with `HParams.weight_averaging`), its
    `fit` puts `WriteAverageAtEpochEnd` first among the callbacks; when its tables admit ids by
    frequency (`HParams.id_admission_count`), `CountFirstEpoch`: whoever calls `fit` (the Trainer, the
    Tuner, a user's own loop) gets the same training.
    """

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, **kwargs):
        if admitting_tables(self):
            callbacks = [CountFirstEpoch(), *(callbacks or [])]
        if averages_weights(self):
            callbacks = [WriteAverageAtEpochEnd(), *(callbacks or [])]
        return super().fit(
            x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks, **kwargs
        )
