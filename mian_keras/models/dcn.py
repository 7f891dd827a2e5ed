"""Deep&Cross, DCN (Wang et al. 2017; Table 2, row 3)."""

from __future__ import annotations

import dataclasses

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.layers.cross import CrossNetwork
from mian_keras.models.common import concat, embed_inputs, logit_model, mlp


@dataclasses.dataclass(frozen=True)
class DCNParams(HParams):
    """Deep&Cross's settings beside the shared ones: the cross network's depth."""

    cross_layers: int = 3


def build_dcn(spec: FeatureSpec, hp: DCNParams) -> keras.Model:
    """A cross network (`hp.cross_layers` layers) and an MLP side by side on the stacked embeddings.

    The behavior sequence enters as a bag: the mean of its clicked items.
    """
    x = embed_inputs(spec, hp)
    stacked = concat(x.flat_fields(), name="stacked")
    cross = CrossNetwork(
        hp.cross_layers,
        **hp.kernel_args(),
        name="cross",
    )(stacked)
    hidden = concat([cross, mlp(hp)(stacked)], name="cross_and_deep")
    return logit_model(x.inputs, hp, "dcn", hidden=hidden)
