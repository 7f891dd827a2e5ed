"""The models by name, so that any of them drops into the same trainer."""

from __future__ import annotations

from collections.abc import Callable

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.dcn import build_dcn
from mian_keras.models.dcn_v2 import build_dcn_v2
from mian_keras.models.deepfm import build_deepfm
from mian_keras.models.dien import build_dien
from mian_keras.models.din import build_din
from mian_keras.models.dlrm import build_dlrm
from mian_keras.models.lr import build_lr
from mian_keras.models.mian import build_mian
from mian_keras.models.wdl import build_wdl
from mian_keras.models.xdeepfm import build_xdeepfm

MODELS: dict[str, Callable[[FeatureSpec, HParams], keras.Model]] = {
    "mian": build_mian,
    "din": build_din,
    "dien": build_dien,
    "dcn": build_dcn,
    "deepfm": build_deepfm,
    "xdeepfm": build_xdeepfm,
    "wdl": build_wdl,
    "lr": build_lr,
    # Beyond the paper's Table 2, from TF Recommenders' layers.
    "dcn_v2": build_dcn_v2,
    "dlrm": build_dlrm,
}


def build_model(name: str, spec: FeatureSpec, hp: HParams | None = None) -> keras.Model:
    """Build the named model on `spec`; its output is the click logit [batch, 1]."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {sorted(MODELS)}")
    return MODELS[name](spec, hp or HParams())
