"""LR: logistic regression on every field (Table 2, row 1)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.common import linear_logit, logit_model


def build_lr(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """logit = sum_j w_j x_j + b over one-hot categorical fields, numerical fields and the clicked items."""
    inputs = spec.build_inputs()
    return logit_model(inputs, hp, "lr", logits=[linear_logit(inputs, spec, hp, with_bias=True)])
