"""DCN-V2 (Wang et al. 2021), built from TF Recommenders' cross layer: a baseline beyond Table 2."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.common import concat, cross_layers, embed_inputs, logit_model, mlp


def build_dcn_v2(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """DCN-V2: cross layers on the concatenated field embeddings, then the MLP (its stacked structure).

    `hp.cross_layers` crosses x_{l+1} = x_0 * (W x_l + b) + x_l, of rank `hp.cross_projection_dim`
    (full when None).

    The behavior sequence enters as a bag: the mean of its clicked items.
    """
    x = embed_inputs(spec, hp)
    crossed = cross_layers(concat(x.flat_fields(), name="stacked"), hp.cross_layers, hp)
    return logit_model(x.inputs, hp, "dcn_v2", hidden=mlp(hp)(crossed))
