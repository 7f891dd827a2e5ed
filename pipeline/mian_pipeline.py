"""The pipeline: raw click logs to a blessed, pushed MIAN.

ClickLogExampleGen -> StatisticsGen -> ImportSchemaGen (the curated schema) -> ExampleValidator ->
AnomaliesGate -> [DriftGate -> TrainingWindow ->] Transform -> [Tuner ->] Trainer -> BaselineModel (the
served model) -> Evaluator -> Pusher. On daily partitions ClickLogExampleGen ingests one span, the
DriftGate compares it with the previous one, and TrainingWindow assembles the rolling window of spans
that Transform, the Trainer and the Evaluator read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import tensorflow as tf
import tensorflow_data_validation as tfdv
from google.protobuf import text_format
from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from mian.components import serving_pusher
from mian.components.anomalies_gate import AnomaliesGate
from mian.components.baseline_model import BaselineModel, Evaluator
from mian.components.click_log_example_gen import ClickLogExampleGen
from mian.components.drift_gate import DriftGate
from mian.components.training_window import TrainingWindow
from mian.components.transform import Transform
from mian.config.pipeline_config import GateConfig, PipelineConfig
from mian.stages.drift import with_thresholds
from mian.stages.eval_config import eval_config
from mian.stages.trainer import trainer_custom_config
from mian.stages.transform import transform_custom_config
from mian.stages.tuning import TUNING_KEY

MODULE = "mian.pipeline.module_file"
# The components of the pipeline in the order they run.
COMPONENTS = (
    "ClickLogExampleGen",
    "StatisticsGen",
    "ImportSchemaGen",
    "ExampleValidator",
    "AnomaliesGate",
    "Transform",
    "Trainer",
    "BaselineModel",
    "Evaluator",
    "Pusher",
)
# Runs before the Trainer when the config's tuning is enabled.
TUNER = "Tuner"
# Run before Transform when the dataset's impressions are daily partitions (the drift gate unless
# `gates.drift` is off).
WINDOW = "TrainingWindow"
DRIFT_GATE = "DriftGate"
# What these decide from the world when they run (the span and its files; the served version) is
# their cache key under LocalDagRunner, set by their drivers. Kubeflow runs no custom driver: there
# they run uncached (pipeline/kubeflow_v2_runner.py).
RESOLVED_AT_RUN_TIME = ("ClickLogExampleGen", "BaselineModel")


def last_span_check(config: PipelineConfig) -> str:
    """The component that ends a span's ingestion and checks on daily partitions: what a backfill's
    earlier days run up to."""
    return DRIFT_GATE if config.gates.drift != "off" else "AnomaliesGate"


def staged_schema(schema_path: str, pipeline_root: str, gates: GateConfig) -> str:
    """A copy of the schema, with the config's drift thresholds, at a path named by its content.

    ImportSchemaGen's cache key is the schema's path: an edited schema at the same path would be
    served from the cache. A path that changes with the content makes an edit a new execution.
    """
    schema = with_thresholds(
        tfdv.load_schema_text(schema_path), gates.drift_infinity_norm, gates.drift_jensen_shannon
    )
    content = text_format.MessageToString(schema).encode()
    staged = os.path.join(pipeline_root, "schema", hashlib.sha256(content).hexdigest()[:16], "schema.pbtxt")
    if not tf.io.gfile.exists(staged):
        tf.io.gfile.makedirs(os.path.dirname(staged))
        with tf.io.gfile.GFile(staged, "wb") as f:
            f.write(content)
    return staged


def create_components(config: PipelineConfig, until: str | None = None) -> list:
    """The pipeline's components in order; with `until`, only those up to the component of that id
    (say "Transform", for the transformed data without training)."""
    dataset = config.dataset()
    example_gen = ClickLogExampleGen(
        input_base=os.path.abspath(config.data_dir), dataset_config=dataset, span=config.span
    )
    # The new data is validated: the whole log, or the newest span.
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.ImportSchemaGen(
        schema_file=staged_schema(config.schema_path(), config.pipeline_root, config.gates)
    )
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"])
    window = drift_gate = None
    examples = example_gen.outputs["examples"]
    if dataset.daily and config.gates.drift != "off":  # the new span against the previous one
        drift_gate = DriftGate(
            statistics=statistics_gen.outputs["statistics"],
            schema=schema_gen.outputs["schema"],
            span_examples=examples,
            action=config.gates.drift,
        )
    if dataset.daily:  # the rolling window of the ingested spans, the newest testing
        window = TrainingWindow(
            span_examples=examples,
            train_spans=config.window.train_spans,
            eval_spans=config.window.eval_spans,
            push_dir=config.model_serving_dir if config.training.warm_start.enabled else "",
        )
        examples = window.outputs["examples"]
    transform_config = transform_custom_config(dataset, config.vocabulary)
    transform = Transform(
        examples=examples,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=f"{MODULE}.preprocessing_fn",
        custom_config=transform_config,
        disable_statistics=not config.transform_statistics,
        # TFX keys the cache by the analyzed files' paths, and a run's input is a new artifact (a new
        # log, a new window) at a new path: nothing written would ever be read again.
        disable_analyzer_cache=True,
    )
    trainer_config = trainer_custom_config(
        transform_config,
        config.training,
        os.path.join(config.pipeline_root, "trainer_backup"),
        push_dir=config.model_serving_dir,
    )
    training_inputs = dict(
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
    )
    tuner = None
    if config.tuning.enabled:
        tuner = tfx.components.Tuner(
            tuner_fn=f"{MODULE}.tuner_fn",
            custom_config={**trainer_config, TUNING_KEY: dataclasses.asdict(config.tuning)},
            **training_inputs,
        )
    trainer = tfx.components.Trainer(
        run_fn=f"{MODULE}.run_fn",
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        custom_config=trainer_config,
        **training_inputs,
    )
    # The served model (the last blessed one), read from the push destination: no resolver.
    baseline = BaselineModel(push_dir=config.model_serving_dir)
    # TFX's Evaluator, except that an absent baseline (nothing served yet) is none.
    evaluator = Evaluator(
        examples=examples,
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(dataset, config.gates),
        example_splits=["test"],
    )
    pusher = tfx.components.Pusher(
        # TFX's Pusher, except that a model already served is not copied again as a new version.
        custom_executor_spec=executor_spec.ExecutorClassSpec(serving_pusher.Executor),
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.model_serving_dir)
        ),
    )
    components = [
        example_gen,
        statistics_gen,
        schema_gen,
        example_validator,
        anomalies_gate,
        *([drift_gate] if drift_gate else []),
        *([window] if window else []),
        transform,
        *([tuner] if tuner else []),
        trainer,
        baseline,
        evaluator,
        pusher,
    ]
    if until is not None:
        ids = [c.id for c in components]
        if until not in ids:
            raise ValueError(f"no component {until!r} in the pipeline: {ids}")
        components = components[: ids.index(until) + 1]
    # No anomaly-free data, no window and no Transform: the gates fail the run before them (linked only
    # when they run, as a link to a node left out fails the pipeline).
    gated = window or transform
    for gate in (anomalies_gate, drift_gate):
        if gate is not None and gate in components and gated in components:
            gated.add_upstream_node(gate)
    # Drift is measured on data that keeps to the schema.
    if drift_gate is not None and drift_gate in components:
        drift_gate.add_upstream_node(anomalies_gate)
    return components


def create_pipeline(
    config: PipelineConfig, metadata_connection_config=None, until: str | None = None
) -> tfx.dsl.Pipeline:
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config, until),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(config.beam_args),
    )
