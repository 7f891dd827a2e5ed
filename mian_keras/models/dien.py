"""DIEN, the Deep Interest Evolution Network (Zhou et al. 2019; Table 2, row 7)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.layers.augru import InterestEvolution
from mian_keras.models.common import concat, embed_inputs, logit_model, mlp, require_sequence
from mian_keras.models.din import DINParams


def build_dien(spec: FeatureSpec, hp: DINParams) -> keras.Model:
    """A GRU interest extractor and an AUGRU interest evolution driven by the candidate's attention.

    The evolved interest joins every item, user and context field in the MLP. Trained with the click
    loss only: DIEN's auxiliary loss is not implemented (see InterestEvolution).
    """
    require_sequence(spec, "dien")
    x = embed_inputs(spec, hp)
    interest, _ = InterestEvolution(
        hp.attention_units,
        **hp.kernel_args(),
        name="interest_evolution",
    )([x.twinned_item, x.behaviors, x.valid])
    hidden = concat(x.scalar_fields() + [interest], name="dien_features")
    return logit_model(x.inputs, hp, "dien", hidden=mlp(hp)(hidden))
