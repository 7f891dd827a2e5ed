"""The files that rebuild a trained Keras model: its feature spec and its hyperparameters (the registry
model's name among them). The Trainer writes them into its run directory, beside the weights, and
into every exported SavedModel, beside its variables, which is what a warm start rebuilds."""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf
import tf_keras as keras

from mian_keras import FeatureSpec, build_model, hparams_for, own_settings

SPEC_FILE = "feature_spec.json"
HPARAMS_FILE = "hparams.json"


def write_json(path: str, value) -> None:
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)


def write_model_files(directory: str, spec: FeatureSpec, model_name: str, hparams: dict) -> None:
    """The spec, and every setting of the model (`hparams` over its class's defaults): a later version
    with other defaults rebuilds the same model."""
    settings = dataclasses.asdict(hparams_for(model_name, hparams))
    write_json(os.path.join(directory, SPEC_FILE), spec.to_dict())
    write_json(os.path.join(directory, HPARAMS_FILE), {"model": model_name, **settings})


def model_name_in(directory: str) -> str:
    """The registry name of the model whose files are in `directory`."""
    with tf.io.gfile.GFile(os.path.join(directory, HPARAMS_FILE)) as f:
        return json.load(f)["model"]


def rebuild_model(directory: str) -> keras.Model:
    """A fresh model (new weights) of the spec and hyperparameters in `directory`."""
    with tf.io.gfile.GFile(os.path.join(directory, SPEC_FILE)) as f:
        spec = FeatureSpec.from_dict(json.load(f))
    with tf.io.gfile.GFile(os.path.join(directory, HPARAMS_FILE)) as f:
        hparams = json.load(f)
    model = hparams.pop("model")
    # A model saved before a field was dropped (batch_size, which no model read) still loads.
    # Saved before the hyperparameters were split per model, a file holds every model's settings.
    # Saved before frequency admission, its tables have no shared rows: it admitted every id.
    hparams.setdefault("id_admission_count", 0)
    # Saved before MIAN's candidate products, it has none (a term without weights of its own).
    hparams.setdefault("candidate_products", False)
    return build_model(model, spec, hparams_for(model, own_settings(model, hparams)))
