"""DCN-V2 (Wang et al. 2021), built from TF Recommenders' cross layer: a baseline beyond Table 2."""

from __future__ import annotations

import dataclasses

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.models.common import concat, cross_layers, embed_inputs, logit_model, mlp
from mian_keras.models.dcn import DCNParams


@dataclasses.dataclass(frozen=True)
class DCNV2Params(DCNParams):
    """DCN-V2's settings: the cross layers' depth and the rank of their kernels (None: full rank)."""

    cross_projection_dim: int | None = 32


def build_dcn_v2(spec: FeatureSpec, hp: DCNV2Params) -> keras.Model:
    """DCN-V2: cross layers on the concatenated field embeddings, then the MLP (its stacked structure).

    `hp.cross_layers` crosses x_{l+1} = x_0 * (W x_l + b) + x_l, of rank `hp.cross_projection_dim`
    (full when None).

    The behavior sequence enters as a bag: the mean of its clicked items.
    """
    x = embed_inputs(spec, hp)
    stacked = concat(x.flat_fields(), name="stacked")
    crossed = cross_layers(stacked, hp.cross_layers, hp.cross_projection_dim, hp)
    return logit_model(x.inputs, hp, "dcn_v2", hidden=mlp(hp)(crossed))
