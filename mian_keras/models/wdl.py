"""Wide&Deep (Cheng et al. 2016; Table 2, row 2)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.common import concat, embed_inputs, linear_logit, logit_model, mlp


def build_wdl(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """A linear (wide) part and an MLP (deep) part over all field embeddings, trained jointly.

    The behavior sequence enters both parts as a bag: the mean of its clicked items.
    """
    x = embed_inputs(spec, hp)
    deep = mlp(hp)(concat(x.flat_fields()))
    return logit_model(x.inputs, hp, "wdl", hidden=deep, logits=[linear_logit(x.inputs, spec, hp)])
