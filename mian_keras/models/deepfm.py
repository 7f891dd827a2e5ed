"""DeepFM (Guo et al. 2017; Table 2, row 4)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.layers.fm import FactorizationMachine
from mian_keras.models.common import concat, embed_inputs, linear_logit, logit_model, mlp, stack_fields


def build_deepfm(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """Linear term + FM pairwise term over the categorical field embeddings + MLP, sharing embeddings.

    The FM reads each categorical field (the behavior fields as the mean of their clicked items);
    numerical fields enter the linear term and the MLP.
    """
    x = embed_inputs(spec, hp)
    fm = FactorizationMachine(name="fm")(stack_fields(x, "deepfm"))
    deep = mlp(hp)(concat(x.flat_fields()))
    return logit_model(x.inputs, hp, "deepfm", hidden=deep, logits=[linear_logit(x.inputs, spec, hp), fm])
