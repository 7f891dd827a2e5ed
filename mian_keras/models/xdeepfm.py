"""xDeepFM (Lian et al. 2018; Table 2, row 5)."""

from __future__ import annotations

import dataclasses

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.layers.cin import CompressedInteraction
from mian_keras.models.common import concat, embed_inputs, linear_logit, logit_model, mlp, stack_fields


@dataclasses.dataclass(frozen=True)
class XDeepFMParams(HParams):
    """xDeepFM's settings beside the shared ones: the CIN's layer sizes."""

    cin_layer_sizes: tuple[int, ...] = (16, 16)

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "cin_layer_sizes", tuple(self.cin_layer_sizes))


def build_xdeepfm(spec: FeatureSpec, hp: XDeepFMParams) -> keras.Model:
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
