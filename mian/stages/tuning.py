"""Hyperparameter search with KerasTuner: the Tuner component's `tuner_fn`, and the same search for
the quality benchmark, so that every model gets the same budget and is selected on the eval split.

A trial builds the model with its hyperparameters class (`hparams_for(model, {**base, **chosen})`)
and trains it as the Trainer does (early stopping on the eval AUC); its score is its best eval AUC.
"""

from __future__ import annotations

import os

import keras_tuner as kt
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx import v1 as tfx

from mian.config.pipeline_config import TrainingConfig, TuningConfig
from mian.names import EVAL_AUC
from mian.stages.trainer import (
    TRAINING_KEY,
    DatasetFn,
    click_rate,
    distribution_strategy,
    fit_arguments,
    shuffle_seed,
    split_dataset_fn,
)
from mian.stages.transform import model_feature_spec
from mian_keras import FeatureSpec, build_model, compile_model, hparams_for, model_settings

# Key of the Tuner component's custom_config, next to the Trainer's.
TUNING_KEY = "tuning"
OBJECTIVE = kt.Objective(EVAL_AUC, direction="max")


def declare(hp: kt.HyperParameters, name: str, space):
    """The KerasTuner hyperparameter for one entry of the search space."""
    if isinstance(space, list):
        return hp.Choice(name, space)
    return hp.Float(name, space["min"], space["max"], sampling=space.get("sampling", "linear"))


def make_tuner(
    spec: FeatureSpec,
    training: TrainingConfig,
    tuning: TuningConfig,
    train_data: DatasetFn,
    directory: str,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
) -> kt.Tuner:
    """A random search over `tuning.search_space` on top of `training.hparams` (and the train split's
    click rate), building `training.model` under `strategy` (the Trainer's; default: the current one)."""
    base = dict(training.hparams)
    base.setdefault("click_rate", click_rate(train_data))
    unknown = sorted(set(tuning.search_space) - set(model_settings(training.model)))
    if unknown:
        raise ValueError(f"tuning: the search space names no setting of model {training.model!r}: {unknown}")

    def build(hp: kt.HyperParameters) -> keras.Model:
        chosen = {name: declare(hp, name, space) for name, space in tuning.search_space.items()}
        hparams = hparams_for(training.model, {**base, **chosen})
        return compile_model(build_model(training.model, spec, hparams), hparams)

    return kt.RandomSearch(
        build,
        objective=OBJECTIVE,
        max_trials=tuning.trials,
        seed=seed,
        directory=directory,
        project_name=training.model,
        overwrite=True,
        distribution_strategy=strategy or tf.distribute.get_strategy(),
    )


def trial_fit_arguments(
    training: TrainingConfig,
    tuning: TuningConfig,
    train_data: DatasetFn,
    eval_data: DatasetFn,
    strategy: tf.distribute.Strategy,
) -> dict:
    """What each trial's fit() gets: the Trainer's (mian.stages.trainer.fit_arguments: global batch,
    sharding, early stopping), for `tuning.epochs` epochs of `tuning.steps_per_epoch` steps."""
    return fit_arguments(training, train_data, eval_data, strategy, tuning.epochs, tuning.steps_per_epoch)


def search(
    spec, training, tuning, train_data, eval_data, directory: str, seed: int = 0, strategy=None
) -> dict:
    """Run the search; returns the best trial's values (names of the model's settings)."""
    strategy = strategy or tf.distribute.get_strategy()
    tuner = make_tuner(spec, training, tuning, train_data, directory, seed, strategy)
    tuner.search(**trial_fit_arguments(training, tuning, train_data, eval_data, strategy))
    return dict(tuner.get_best_hyperparameters(1)[0].values)


def tuner_fn(fn_args) -> tfx.components.TunerFnResult:
    """TFX Tuner entry point (see pipeline/module_file.py)."""
    config = fn_args.custom_config
    training = TrainingConfig(**config[TRAINING_KEY])
    tuning = TuningConfig(**config[TUNING_KEY])
    tft_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    spec = model_feature_spec(tft_output, config)
    # As the Trainer trains: its strategy, its shuffling (mian.stages.trainer.run_fn).
    strategy = distribution_strategy()
    train_data = split_dataset_fn(
        fn_args.train_files,
        tft_output,
        spec.label,
        fn_args.data_accessor,
        shuffle_seed(training, fn_args.transform_graph_path, fn_args.train_files),
        training.shuffle_buffer,
    )
    eval_data = split_dataset_fn(fn_args.eval_files, tft_output, spec.label, fn_args.data_accessor)
    directory = os.path.join(fn_args.working_dir, "search")
    tuner = make_tuner(spec, training, tuning, train_data, directory, strategy=strategy)
    fit_kwargs = trial_fit_arguments(training, tuning, train_data, eval_data, strategy)
    return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)
