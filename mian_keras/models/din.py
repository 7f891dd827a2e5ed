"""DIN, the Deep Interest Network (Zhou et al. 2018; Table 2, row 6)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.layers.local_activation import LocalActivationUnit
from mian_keras.models.common import concat, embed_inputs, logit_model, mlp, require_sequence


def build_din(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """The user's interest in the candidate: behaviors weighted by a local activation unit and summed.

    The query is the candidate's fields that have a history twin; the weights are not normalized, as
    in DIN. The interest vector joins every item, user and context field in the MLP.
    """
    require_sequence(spec, "din")
    x = embed_inputs(spec, hp)
    interest, _ = LocalActivationUnit(
        hp.attention_units,
        normalize=False,
        activation=hp.attention_activation,
        **hp.kernel_args(),
        name="local_activation",
    )([x.twinned_item, x.behaviors, x.valid])
    hidden = concat(x.scalar_fields() + [interest], name="din_features")
    return logit_model(x.inputs, hp, "din", hidden=mlp(hp)(hidden))
