"""The Trainer's run_fn: a registry model trained under a distribution strategy on Transform's output.

One process trains under MirroredStrategy over its devices; when TF_CONFIG names a cluster of more
than one task (a Vertex AI or Kubeflow worker pool, a Kubernetes job: see `mian train-worker`), every
worker runs this same code under MultiWorkerMirroredStrategy, each reading its shard of the batches,
and only the chief keeps what is written (the others write to scratch directories they delete).

The model is chosen by name (`mian`, `din`, ... see mian_keras.MODELS), built and compiled inside the
strategy's scope, fed from tf.data with prefetch, stopped early on the eval split's AUC (keeping the
best epoch's weights), logged to TensorBoard, and checkpointed by BackupAndRestore so that a killed
Trainer that is run again resumes from its last finished epoch. The trained weights, the feature spec
and the hyperparameters are kept in the run directory (`load_trained_model` rebuilds the model from
them); the SavedModel for serving is written by mian.stages.export.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from tfx_bsl.public import tfxio

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import TrainingConfig
from mian.stages.epoch_timer import EpochTimer
from mian.stages.export import export_serving_model
from mian.stages.transform import DATASET_CONFIG_KEY, model_feature_spec
from mian_keras import FeatureSpec, HParams, build_model, compile_model

# Keys of the Trainer component's custom_config, next to the Transform's.
TRAINING_KEY = "training"
BACKUP_ROOT_KEY = "backup_root"

WEIGHTS = "weights/best"
SPEC_FILE = "feature_spec.json"
HPARAMS_FILE = "hparams.json"
HISTORY_FILE = "history.json"

# (global batch size, epochs or None for repeating) -> dataset of (features, label) batches.
DatasetFn = Callable[[int, "int | None"], tf.data.Dataset]


def trainer_custom_config(transform_config: dict, training: TrainingConfig, backup_root: str) -> dict:
    return {**transform_config, TRAINING_KEY: dataclasses.asdict(training), BACKUP_ROOT_KEY: backup_root}


def distribution_strategy() -> tf.distribute.Strategy:
    """MultiWorkerMirroredStrategy when TF_CONFIG names more than one task; else Mirrored over every
    GPU, or else over every logical CPU device (one, unless the CPU was split).

    A multi-worker strategy must exist before TensorFlow runs anything: make it first."""
    cluster = tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
    if sum(cluster.num_tasks(job) for job in cluster.jobs) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])


@contextlib.contextmanager
def chief_keeps(path: str, strategy: tf.distribute.Strategy):
    """`path` where the strategy says this process keeps what it writes (the chief of a multi-worker
    job, or a single worker); a scratch directory, deleted afterwards, on the other workers.

    Every worker of a multi-worker job must take part in saving (the variables' values are gathered by
    collective ops), and only one copy is wanted.
    """
    if strategy.extended.should_checkpoint:
        yield path
        return
    scratch = tempfile.mkdtemp(prefix="mian-worker-")
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_fn(fn_args) -> None:
    """TFX Trainer entry point (see pipeline/module_file.py)."""
    strategy = distribution_strategy()
    config = fn_args.custom_config
    training = TrainingConfig(**config[TRAINING_KEY])
    if fn_args.hyperparameters:  # the Tuner's best trial overrides the configured values
        training = dataclasses.replace(
            training, hparams={**training.hparams, **tuned(fn_args.hyperparameters)}
        )
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    spec = model_feature_spec(tft_output, config)
    schema = tft_output.transformed_metadata.schema

    # A killed Trainer run again sees the same inputs and settings, hence the same backup directory.
    key = json.dumps(
        [fn_args.transform_output, fn_args.train_files, dataclasses.asdict(training)], sort_keys=True
    )
    digest = hashlib.sha256(key.encode()).hexdigest()
    backup_dir = os.path.join(config[BACKUP_ROOT_KEY], digest[:16])
    # Every worker of a multi-worker job must shuffle alike (each takes its share of the same batches):
    # without a configured seed, one drawn from what they share.
    shuffle_seed = training.seed if training.seed is not None else int(digest[:8], 16)
    if training.seed is not None:
        keras.utils.set_random_seed(training.seed)

    model = train(
        spec,
        training,
        transformed_dataset_fn(
            fn_args.train_files,
            schema,
            spec.label,
            fn_args.data_accessor,
            shuffle_seed,
            training.shuffle_buffer,
        ),
        transformed_dataset_fn(fn_args.eval_files, schema, spec.label, fn_args.data_accessor),
        fn_args.model_run_dir,
        backup_dir,
        strategy,
    )
    dataset = DatasetConfig.from_json(config[DATASET_CONFIG_KEY])
    with chief_keeps(fn_args.serving_model_dir, strategy) as serving_dir:
        export_serving_model(model, tft_output, dataset, serving_dir)


def tuned(hyperparameters: dict) -> dict:
    """The values of a KerasTuner HyperParameters config, as the Tuner component hands it over."""
    import keras_tuner as kt

    return dict(kt.HyperParameters.from_config(hyperparameters).values)


def transformed_dataset_fn(
    files: list[str],
    schema,
    label: str,
    data_accessor=None,
    shuffle_seed: int | None = None,
    shuffle_buffer: int = 0,
) -> DatasetFn:
    """Batches of (features, label [batch, 1]) from Transform's output files, with prefetch.

    In the files' order, or shuffled through a buffer of `shuffle_buffer` examples when it is positive
    (TrainingConfig.shuffle_buffer says why the order is kept by default). Inside TFX the Trainer's
    data accessor reads them; outside (the benchmarks), TFXIO's TFExampleRecord, which is what the
    accessor uses for tf.Example payloads.
    """

    def make(batch_size: int, epochs: int | None) -> tf.data.Dataset:
        options = tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size,
            label_key=label,
            num_epochs=epochs,
            shuffle=shuffle_buffer > 0,
            shuffle_buffer_size=max(1, shuffle_buffer),
            shuffle_seed=shuffle_seed,
        )
        if data_accessor is not None:
            dataset = data_accessor.tf_dataset_factory(files, options, schema)
        else:
            dataset = tfxio.TFExampleRecord(file_pattern=files, schema=schema).TensorFlowDataset(options)
        return dataset.map(_label_column).prefetch(tf.data.AUTOTUNE)

    return make


def _label_column(features: dict, label: tf.Tensor):
    return features, tf.reshape(label, [-1, 1])


def train(
    spec: FeatureSpec,
    training: TrainingConfig,
    train_data: DatasetFn,
    eval_data: DatasetFn,
    run_dir: str,
    backup_dir: str,
    strategy: tf.distribute.Strategy | None = None,
    callbacks: tuple[keras.callbacks.Callback, ...] = (),
) -> keras.Model:
    """Train `training.model` on `spec`'s inputs; returns the model with the best eval-AUC weights.

    Writes TensorBoard logs, the weights, feature spec, hyperparameters and per-epoch history
    (losses, metrics and training seconds) to `run_dir`. `callbacks` run after the Trainer's own
    (the benchmarks' instruments).
    """
    strategy = strategy or distribution_strategy()
    hparams = dict(training.hparams)
    if "click_rate" not in hparams:
        # The output bias starts at the base rate's log-odds (HParams.click_rate).
        hparams["click_rate"] = click_rate(train_data)
    hp = HParams(**hparams)
    global_batch = training.batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_model(training.model, spec, hp)
        compile_model(model, hp)
    repeat = training.steps_per_epoch is not None
    with chief_keeps(run_dir, strategy) as run_dir:
        history = model.fit(
            _batch_sharded(train_data(global_batch, None if repeat else 1)),
            validation_data=_batch_sharded(eval_data(global_batch, 1)),
            epochs=training.epochs,
            steps_per_epoch=training.steps_per_epoch,
            callbacks=[
                # Before EarlyStopping and History, which read the epoch's logs it adds to.
                EpochTimer(),
                keras.callbacks.EarlyStopping(
                    monitor="val_auc", mode="max", patience=training.patience, restore_best_weights=True
                ),
                keras.callbacks.TensorBoard(log_dir=os.path.join(run_dir, "tensorboard")),
                # Each worker of a multi-worker job backs up to its own subdirectory (Keras does it).
                keras.callbacks.BackupAndRestore(backup_dir),
                *callbacks,
            ],
            verbose=2,
        )
        model.save_weights(os.path.join(run_dir, WEIGHTS))
        _write_json(os.path.join(run_dir, SPEC_FILE), spec.to_dict())
        _write_json(os.path.join(run_dir, HPARAMS_FILE), {"model": training.model, **hparams})
        _write_json(
            os.path.join(run_dir, HISTORY_FILE),
            {
                "replicas": strategy.num_replicas_in_sync,
                "global_batch_size": global_batch,
                "epochs": {k: [float(v) for v in values] for k, values in history.history.items()},
            },
        )
    return model


def _batch_sharded(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Workers of a multi-worker job each read every n-th batch (the Transform output may be one file,
    which cannot be split by file); a single worker reads them all."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def click_rate(train_data: DatasetFn, max_rows: int = 200_000) -> float:
    """The share of clicks among the first `max_rows` training examples."""
    clicks = rows = 0.0
    for _, labels in train_data(4096, 1):
        clicks += float(tf.reduce_sum(tf.cast(labels, tf.float64)))
        rows += int(labels.shape[0])
        if rows >= max_rows:
            break
    return clicks / rows if rows else 0.5


def load_trained_model(run_dir: str) -> keras.Model:
    """The model `train` left in `run_dir`, rebuilt from its feature spec and hyperparameters."""
    with tf.io.gfile.GFile(os.path.join(run_dir, SPEC_FILE)) as f:
        spec = FeatureSpec.from_dict(json.load(f))
    with tf.io.gfile.GFile(os.path.join(run_dir, HPARAMS_FILE)) as f:
        hparams = json.load(f)
    model = build_model(hparams.pop("model"), spec, HParams(**hparams))
    model.load_weights(os.path.join(run_dir, WEIGHTS)).expect_partial()
    return model


def _write_json(path: str, value) -> None:
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
