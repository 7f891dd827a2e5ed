"""LR: logistic regression on every field (Table 2, row 1)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.common import linear_logit, logit_model


def build_lr(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """Logistic regression: sum_j w_j x_j + b over the one-hot categorical and the numerical fields.

    The clicked items enter as the mean of their weights.
    """
    inputs = spec.build_inputs()
    return logit_model(inputs, hp, "lr", logits=[linear_logit(inputs, spec, hp, with_bias=True)])
