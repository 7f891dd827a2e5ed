"""mian_keras: the MIAN CTR model (Zhang et al., WSDM 2021) and its baselines, in tf-keras.

Import it with TF_USE_LEGACY_KERAS=1 set before TensorFlow is first imported (the Keras 2 API).
"""

from mian_keras.autograph import skip_tf_keras
from mian_keras.feature_spec import FeatureSpec, Field, SequenceField
from mian_keras.hparams import HParams
from mian_keras.models.mian import attention_model
from mian_keras.models.mian_hparams import ABLATIONS, MIANParams
from mian_keras.models.registry import (
    MODELS,
    build_model,
    hparams_class,
    hparams_for,
    model_settings,
    own_settings,
)
from mian_keras.training import compile_model

# Before any model is traced: every entry point that trains or exports imports mian_keras.
skip_tf_keras()

__all__ = [
    "ABLATIONS",
    "MODELS",
    "FeatureSpec",
    "Field",
    "HParams",
    "MIANParams",
    "SequenceField",
    "attention_model",
    "build_model",
    "compile_model",
    "hparams_class",
    "hparams_for",
    "model_settings",
    "own_settings",
]
