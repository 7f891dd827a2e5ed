"""Compiling a model for training: the paper's loss (Eq. 18) and optimizer (section 4.3)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.hparams import HParams


def compile_model(model: keras.Model, hp: HParams, jit_compile: bool = False) -> keras.Model:
    """Compile `model` for training: Adam, binary cross-entropy, AUC and logloss.

    Adam takes the hyperparameters' settings; the cross-entropy is computed from the logit, Eq. 18 in
    its numerically stable form; AUC and logloss are the metrics the paper reports.
    """
    model.compile(
        optimizer=hp.optimizer(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.AUC(from_logits=True, name="auc"),
            keras.metrics.BinaryCrossentropy(from_logits=True, name="logloss"),
        ],
        jit_compile=jit_compile,
    )
    return model
