"""The models by name, so that any of them drops into the same trainer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.dcn import DCNParams, build_dcn
from mian_keras.models.dcn_v2 import DCNV2Params, build_dcn_v2
from mian_keras.models.deepfm import build_deepfm
from mian_keras.models.dien import build_dien
from mian_keras.models.din import DINParams, build_din
from mian_keras.models.dlrm import build_dlrm
from mian_keras.models.lr import build_lr
from mian_keras.models.mian import build_mian
from mian_keras.models.mian_hparams import MIANParams
from mian_keras.models.wdl import build_wdl
from mian_keras.models.xdeepfm import XDeepFMParams, build_xdeepfm

MODELS: dict[str, Callable[..., keras.Model]] = {
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


# Each model's hyperparameters: its own settings beside the shared ones; HParams alone for the others.
HPARAMS: dict[str, type[HParams]] = {
    "mian": MIANParams,
    "din": DINParams,
    "dien": DINParams,
    "dcn": DCNParams,
    "xdeepfm": XDeepFMParams,
    "dcn_v2": DCNV2Params,
}


def hparams_class(name: str) -> type[HParams]:
    """The hyperparameters class of the named model."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {sorted(MODELS)}")
    return HPARAMS.get(name, HParams)


def model_settings(name: str) -> list[str]:
    """The names of the named model's hyperparameters, in its class's order."""
    return [f.name for f in dataclasses.fields(hparams_class(name))]


def own_settings(name: str, values: dict) -> dict:
    """The entries of `values` that are settings of the named model.

    For values made for several models, or saved before each model had its own class.
    """
    settings = set(model_settings(name))
    return {k: v for k, v in values.items() if k in settings}


def hparams_for(name: str, values: dict | None = None) -> HParams:
    """The named model's hyperparameters: its class's defaults changed by `values`.

    A key that is not one of the model's settings is refused, naming them.
    """
    settings = model_settings(name)
    unknown = sorted(set(values or {}) - set(settings))
    if unknown:
        listed = ", ".join(settings)
        raise ValueError(f"{unknown[0]!r} is not a setting of model {name!r}; its settings: {listed}")
    return hparams_class(name)(**(values or {}))


def build_model(name: str, spec: FeatureSpec, hp: HParams | None = None) -> keras.Model:
    """Build the named model on `spec`; its output is the click logit [batch, 1].

    `hp` is an instance of the model's hyperparameters class (None: its defaults).
    """
    kind = hparams_class(name)
    hp = kind() if hp is None else hp
    if not isinstance(hp, kind):
        raise TypeError(f"model {name!r} takes {kind.__name__}, not {type(hp).__name__}")
    return MODELS[name](spec, hp)
