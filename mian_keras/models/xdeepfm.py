"""xDeepFM (Lian et al. 2018; Table 2, row 5)."""

from __future__ import annotations

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.layers.cin import CompressedInteraction
from mian_keras.models.common import concat, embed_inputs, linear_logit, logit_model, mlp, stack_fields


def build_xdeepfm(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """Linear term + CIN (`hp.cin_layer_sizes`) + MLP, sharing the field embeddings.

    The CIN reads each categorical field (the behavior fields as the mean of their clicked items);
    numerical fields enter the linear term and the MLP.
    """
    x = embed_inputs(spec, hp)
    cin = CompressedInteraction(
        hp.cin_layer_sizes,
        **hp.kernel_args(),
        name="cin",
    )(stack_fields(x, "xdeepfm"))
    cin_logit = keras.layers.Dense(1, name="cin_logit", **hp.kernel_args())(cin)
    deep = mlp(hp)(concat(x.flat_fields()))
    return logit_model(
        x.inputs, hp, "xdeepfm", hidden=deep, logits=[linear_logit(x.inputs, spec, hp), cin_logit]
    )
