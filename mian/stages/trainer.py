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

On a daily window a warm start trains on the window's fresh splits only (the spans its base model has
not trained on: mian.data.ingest.window), and the exported model says through which span it trained.
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
from absl import logging
from tfx_bsl.public import tfxio

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import TrainingConfig
from mian.names import EVAL_AUC, FRESH_SPLIT_PREFIX, UNTRANSFORMED_SPLITS_FILE
from mian.stages.epoch_progress import EpochProgress
from mian.stages.epoch_timer import EpochTimer
from mian.stages.export import export_serving_model
from mian.stages.model_files import rebuild_model, write_json, write_model_files
from mian.stages.transform import DATASET_CONFIG_KEY, model_feature_spec
from mian.stages.warm_start import (
    WARM_START_DIR,
    WarmStart,
    newest_pushed,
    warm_start,
    write_trained_through,
)
from mian_keras import FeatureSpec, build_model, compile_model, hparams_for

# Keys of the Trainer component's custom_config, next to the Transform's.
TRAINING_KEY = "training"
BACKUP_ROOT_KEY = "backup_root"
# Where the pipeline pushes versions of its model: the newest is the warm start's source.
PUSH_DIR_KEY = "push_dir"

WEIGHTS = "weights/best"
HISTORY_FILE = "history.json"
WARM_START_FILE = "warm_start.json"

# (global batch size, epochs or None for repeating) -> dataset of (features, label) batches.
DatasetFn = Callable[[int, "int | None"], tf.data.Dataset]


@dataclasses.dataclass(frozen=True)
class FreshData:
    """What a warm start trains on: the spans (YYYY-MM-DD) its base model has not seen, and their data."""

    spans: tuple[str, ...]
    data: DatasetFn


def trainer_custom_config(
    transform_config: dict, training: TrainingConfig, backup_root: str, push_dir: str | None = None
) -> dict:
    return {
        **transform_config,
        TRAINING_KEY: dataclasses.asdict(training),
        BACKUP_ROOT_KEY: backup_root,
        PUSH_DIR_KEY: push_dir,
    }


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
    source = newest_pushed(config.get(PUSH_DIR_KEY)) if training.warm_start.enabled else None

    # A killed Trainer run again sees the same inputs, settings and source, hence the same backup directory.
    key = json.dumps(
        [fn_args.transform_output, fn_args.train_files, dataclasses.asdict(training), source], sort_keys=True
    )
    digest = hashlib.sha256(key.encode()).hexdigest()
    backup_dir = os.path.join(config[BACKUP_ROOT_KEY], digest[:16])
    seed = shuffle_seed(training, fn_args.transform_output, fn_args.train_files)
    if training.seed is not None:
        keras.utils.set_random_seed(training.seed)

    train_data = split_dataset_fn(
        fn_args.train_files, tft_output, spec.label, fn_args.data_accessor, seed, training.shuffle_buffer
    )
    training = dataclasses.replace(training, hparams=with_click_rate(training.hparams, train_data))
    fresh = fresh_splits(fn_args.train_files)
    fresh_data = (
        FreshData(
            tuple(fresh),
            transformed_dataset_fn(
                [p for patterns in fresh.values() for p in patterns],
                schema,
                spec.label,
                fn_args.data_accessor,
                seed,
                training.shuffle_buffer,
            ),
        )
        if fresh
        else None
    )
    vocabularies = {
        f.name: tft_output.vocabulary_by_name(f.name) for f in spec.scalar_fields() if f.is_categorical
    }
    model = train(
        spec,
        training,
        train_data,
        split_dataset_fn(fn_args.eval_files, tft_output, spec.label, fn_args.data_accessor),
        fn_args.model_run_dir,
        backup_dir,
        strategy,
        warm_from=lambda built: warm_start(built, training.model, vocabularies, source),
        fresh=fresh_data,
    )
    dataset = DatasetConfig.from_json(config[DATASET_CONFIG_KEY])
    with chief_keeps(fn_args.serving_model_dir, strategy) as serving_dir:
        export_serving_model(model, tft_output, dataset, serving_dir)
        write_model_files(os.path.join(serving_dir, WARM_START_DIR), spec, training.model, training.hparams)
        if fresh:  # the newest fresh span is the window's newest train span, warm or cold
            write_trained_through(os.path.join(serving_dir, WARM_START_DIR), max(fresh))


def fresh_splits(train_files: list[str]) -> dict[str, list[str]]:
    """The fresh splits beside the train split of Transform's output, as {span: file patterns}: none
    unless the examples came through a daily window. `train_files` are TFX's `<uri>/Split-train/*`."""
    fresh: dict[str, list[str]] = {}
    for pattern in train_files:
        uri = os.path.dirname(os.path.dirname(pattern))
        prefix = f"Split-{FRESH_SPLIT_PREFIX}"
        for name in sorted(tf.io.gfile.listdir(uri)):
            name = name.rstrip("/")
            if name.startswith(prefix):
                fresh.setdefault(name[len(prefix) :], []).append(os.path.join(uri, name, "*"))
    return fresh


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
    return _dataset_fn(files, schema, label, _label_column, data_accessor, shuffle_seed, shuffle_buffer)


def split_dataset_fn(
    files: list[str],
    tft_output: tft.TFTransformOutput,
    label: str,
    data_accessor=None,
    shuffle_seed: int | None = None,
    shuffle_buffer: int = 0,
) -> DatasetFn:
    """`transformed_dataset_fn` on a split of Transform's output (TFX's `<uri>/Split-<split>/*`), or,
    when Transform left the split untransformed (a daily window's train split when the Trainer is
    expected to start warm: components/transform/executor.py), the same batches from its raw examples
    through the transform graph, as the served model transforms them."""
    raw = untransformed_patterns(files)
    if raw is None:
        schema = tft_output.transformed_metadata.schema
        return transformed_dataset_fn(files, schema, label, data_accessor, shuffle_seed, shuffle_buffer)
    layer = tft_output.transform_features_layer()

    def transformed(raw_features: dict):
        features = layer(raw_features)
        return _label_column(features, features.pop(label))

    schema = tft_output.raw_metadata.schema
    return _dataset_fn(raw, schema, None, transformed, data_accessor, shuffle_seed, shuffle_buffer)


def untransformed_patterns(files: list[str]) -> list[str] | None:
    """The raw file patterns of the split that `files` name (TFX's `<uri>/Split-<split>/*`) when
    Transform did not transform it (UNTRANSFORMED_SPLITS_FILE), None when it did."""
    split_dirs = [os.path.dirname(pattern) for pattern in files]
    missing = [d for d in split_dirs if not tf.io.gfile.isdir(d)]
    if not missing:
        return None
    if len(missing) < len(files):
        raise ValueError(f"{files}: some of these splits are transformed and some are not")
    raw: list[str] = []
    for directory in missing:
        uri, split = os.path.dirname(directory), os.path.basename(directory).removeprefix("Split-")
        path = os.path.join(uri, UNTRANSFORMED_SPLITS_FILE)
        listed = json.loads(tf.io.gfile.GFile(path).read()) if tf.io.gfile.exists(path) else {}
        if split not in listed:
            raise ValueError(f"{uri}: split {split!r} is neither transformed nor listed in {path}")
        raw.extend(listed[split])
    return raw


def _dataset_fn(
    files: list[str],
    schema,
    label: str | None,
    to_pair: Callable,
    data_accessor,
    shuffle_seed: int | None,
    shuffle_buffer: int,
) -> DatasetFn:
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
        return dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

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
    warm_from: Callable[[keras.Model], WarmStart] | None = None,
    fresh: FreshData | None = None,
) -> keras.Model:
    """Train `training.model` on `spec`'s inputs; returns the model with the best eval-AUC weights.

    Writes TensorBoard logs, the weights, feature spec, hyperparameters and per-epoch history
    (losses, metrics and training seconds) to `run_dir`. `callbacks` run after the Trainer's own
    (the benchmarks' instruments). `warm_from` is given the built model before training and starts
    it from earlier weights (mian.stages.warm_start); what it did is written to `run_dir` and, when it
    started warm, `training.warm_start.epochs` (when set) replaces `training.epochs` and `fresh` (when
    given) replaces `train_data`.
    """
    strategy = strategy or distribution_strategy()
    hparams = with_click_rate(training.hparams, train_data)
    hp = hparams_for(training.model, hparams)
    global_batch = training.batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_model(training.model, spec, hp)
        compile_model(model, hp)
    started = warm_from(model) if warm_from else None
    epochs = training.epochs
    trained_on: str | list[str] = "the train split"
    if started is not None:
        logging.info("Trainer: %s", started.line())
        if started.warm and training.warm_start.epochs is not None:
            epochs = training.warm_start.epochs
        if started.warm and fresh:
            train_data, trained_on = fresh.data, list(fresh.spans)
            logging.info("Trainer: warm, so on the spans its base has not trained on: %s", trained_on)
    with chief_keeps(run_dir, strategy) as run_dir:
        if started is not None:
            record = {**started.to_dict(), "trained_on": trained_on}
            write_json(os.path.join(run_dir, WARM_START_FILE), record)
        arguments = fit_arguments(training, train_data, eval_data, strategy, epochs, training.steps_per_epoch)
        arguments["callbacks"] += [
            *([EpochProgress(epochs)] if strategy.extended.should_checkpoint else []),
            keras.callbacks.TensorBoard(log_dir=os.path.join(run_dir, "tensorboard")),
            # Each worker of a multi-worker job backs up to its own subdirectory (Keras does it).
            keras.callbacks.BackupAndRestore(backup_dir),
            *callbacks,
        ]
        history = model.fit(**arguments)
        model.save_weights(os.path.join(run_dir, WEIGHTS))
        write_model_files(run_dir, spec, training.model, hparams)
        write_json(
            os.path.join(run_dir, HISTORY_FILE),
            {
                "replicas": strategy.num_replicas_in_sync,
                "global_batch_size": global_batch,
                "epochs": {k: [float(v) for v in values] for k, values in history.history.items()},
            },
        )
    return model


def fit_arguments(
    training: TrainingConfig,
    train_data: DatasetFn,
    eval_data: DatasetFn,
    strategy: tf.distribute.Strategy,
    epochs: int,
    steps_per_epoch: int | None,
) -> dict:
    """What `fit` gets, in the Trainer and in every Tuner trial alike: the global batch (the configured
    per-replica batch times the strategy's replicas), each worker's share of the batches, `epochs`
    epochs (of `steps_per_epoch` steps, the train split repeating, when set), and the early stopping on
    the eval AUC that keeps the best epoch's weights."""
    global_batch = training.batch_size * strategy.num_replicas_in_sync
    repeat = steps_per_epoch is not None
    return dict(
        x=_batch_sharded(train_data(global_batch, None if repeat else 1)),
        validation_data=_batch_sharded(eval_data(global_batch, 1)),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=[
            # Before EarlyStopping and History, which read the epoch's logs it adds to.
            EpochTimer(),
            keras.callbacks.EarlyStopping(
                monitor=EVAL_AUC, mode="max", patience=training.patience, restore_best_weights=True
            ),
        ],
        verbose=2,
    )


def shuffle_seed(training: TrainingConfig, transform_output: str, train_files: list[str]) -> int:
    """The seed of the train split's shuffling: the configured one; without one, one drawn from the data
    (every worker of a multi-worker job must shuffle alike, each taking its share of the same batches,
    and the Tuner's trials shuffle as the Trainer does)."""
    if training.seed is not None:
        return training.seed
    key = json.dumps([transform_output, sorted(train_files)]).encode()
    return int(hashlib.sha256(key).hexdigest()[:8], 16)


def _batch_sharded(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Workers of a multi-worker job each read every n-th batch (the Transform output may be one file,
    which cannot be split by file); a single worker reads them all."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def with_click_rate(hparams: dict, train_data: DatasetFn) -> dict:
    """`hparams` with `click_rate` (the output bias starts at its log-odds, HParams.click_rate) measured
    on the train split, unless they set it."""
    if "click_rate" in hparams:
        return dict(hparams)
    return {**hparams, "click_rate": click_rate(train_data)}


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
    model = rebuild_model(run_dir)
    model.load_weights(os.path.join(run_dir, WEIGHTS)).expect_partial()
    return model
