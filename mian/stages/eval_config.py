"""The Evaluator's TFMA config: metrics, slices and the gates that decide the blessing.

The candidate is scored on the raw `test` split through its `serving_default` signature. Metrics:
AUC, GAUC (the impression-weighted mean of per-user AUC: mian.stages.gauc), logloss (binary
cross-entropy), calibration (mean prediction / mean label), the calibration plot and the example count;
the last blessed model (the baseline) is scored on AUC only. Slices:
overall, by history-length bucket (0, 1-5, 6-20, >20 clicks; the paper's inactive users have none),
by the first user field other than the id (gender in the shipped datasets) and by hour of day, which
the examples do not carry: the model's `time_context` signature derives it from the timestamp, and
TFMA slices on what that preprocessing function returns. Gates, on the overall AUC: above an
absolute floor, and no more than `max_auc_drop` below the last blessed model (the baseline; without
one, only the floor applies); on the overall GAUC, above `gauc_floor` when it is set.

The Evaluator runs this config as two TFMA runs at once, each in its own process (each is one core's
Python work): the gate (`gate_config`: every model and metric on the slices the thresholds judge, the
overall one: what blesses) and the report (`report_config`: the candidate's every metric on the other
slices). TFMA applies every slicing spec to every metric of every model, so one run would score the
baseline on every slice the report shows (bench/results/daily.md).
"""

from __future__ import annotations

import json

import tensorflow_model_analysis as tfma

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import GateConfig
from mian.names import (
    AUC,
    DEFAULT_SIGNATURE,
    GAUC,
    HISTORY_BUCKET_FEATURE,
    LOGLOSS,
    PROBABILITY,
    TIME_CONTEXT_SIGNATURE,
    USER_ID_FEATURE,
)

HOUR = "hour"


def slice_features(config: DatasetConfig) -> list[str]:
    """The features the test metrics are sliced by, each on its own: the user id, when the model takes
    it, is not one (a slice per user: thousands of slices, each too small to read)."""
    features = [HISTORY_BUCKET_FEATURE]
    profile = [column for column in config.user_columns if column != config.user_id]
    if profile:
        features.append(profile[0])
    if HOUR in config.derived_context:
        features.append(HOUR)
    return features


def _overall_floor(floor: float | None) -> list:
    """A gate on the overall slice's value, when a floor is set."""
    if floor is None:
        return []
    threshold = tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(lower_bound={"value": floor}))
    return [tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)]


def eval_config(config: DatasetConfig, gates: GateConfig) -> tfma.EvalConfig:
    auc_gate = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": gates.auc_floor}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -gates.max_auc_drop}
        ),
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=DEFAULT_SIGNATURE,
                label_key=config.label,
                prediction_key=PROBABILITY,
                preprocessing_function_names=[TIME_CONTEXT_SIGNATURE] if config.derived_context else [],
            )
        ],
        metrics_specs=[
            # Every model, the baseline too: the gate compares their AUC.
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(
                        class_name="AUC",
                        config=json.dumps({"name": AUC}),
                        # The gate looks at the whole test split; small slices are reported, not gated.
                        per_slice_thresholds=[
                            tfma.PerSliceMetricThreshold(
                                slicing_specs=[tfma.SlicingSpec()], threshold=auc_gate
                            )
                        ],
                    ),
                ]
            ),
            # The candidate alone: what is reported, not gated. Each metric costs TFMA a pass over
            # every slice of every example (bench/results/daily.md), which the baseline need not pay.
            tfma.MetricsSpec(
                model_names=[tfma.CANDIDATE_KEY],
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="GAUC",
                        module="mian.stages.gauc",
                        config=json.dumps({"name": GAUC, "user_key": USER_ID_FEATURE}),
                        per_slice_thresholds=_overall_floor(gates.gauc_floor),
                    ),
                    tfma.MetricConfig(class_name="BinaryCrossentropy", config=json.dumps({"name": LOGLOSS})),
                    tfma.MetricConfig(class_name="Calibration"),
                    tfma.MetricConfig(class_name="MeanLabel"),
                    tfma.MetricConfig(class_name="MeanPrediction"),
                    tfma.MetricConfig(class_name="CalibrationPlot"),
                ],
            ),
        ],
        slicing_specs=[tfma.SlicingSpec()]
        + [tfma.SlicingSpec(feature_keys=[feature]) for feature in slice_features(config)],
    )


def _gated(metric: tfma.MetricConfig) -> bool:
    return metric.HasField("threshold") or bool(metric.per_slice_thresholds or metric.cross_slice_thresholds)


def gated_slices(config: tfma.EvalConfig) -> list[tfma.SlicingSpec]:
    """The slicing specs `config`'s thresholds judge (every one, for a threshold on all slices)."""
    slices: list[tfma.SlicingSpec] = []
    for spec in config.metrics_specs:
        if spec.thresholds or spec.per_slice_thresholds or spec.cross_slice_thresholds:
            raise ValueError("the Evaluator reads thresholds set on metrics, not on a MetricsSpec")
        for metric in filter(_gated, spec.metrics):
            every_slice = metric.HasField("threshold") or bool(metric.cross_slice_thresholds)
            named = [s for t in metric.per_slice_thresholds for s in t.slicing_specs]
            slices.extend(s for s in (config.slicing_specs if every_slice else named) if s not in slices)
    return slices


def gate_config(config: tfma.EvalConfig) -> tfma.EvalConfig:
    """`config` on the slices its thresholds judge: every model and metric there, which blesses."""
    gate = tfma.EvalConfig()
    gate.CopyFrom(config)
    del gate.slicing_specs[:]
    gate.slicing_specs.extend(gated_slices(config))
    return gate


def report_config(config: tfma.EvalConfig) -> tfma.EvalConfig:
    """`config` for the candidate alone (one unnamed model), ungated, on the slices the gate does not
    judge (none left: nothing for a report run to do)."""
    report = tfma.EvalConfig()
    report.CopyFrom(config)
    candidate = [m for m in config.model_specs if not m.is_baseline][:1]
    del report.model_specs[:]
    report.model_specs.extend(candidate)
    report.model_specs[0].ClearField("name")
    for spec in report.metrics_specs:
        del spec.model_names[:]
        for metric in spec.metrics:
            metric.ClearField("threshold")
            del metric.per_slice_thresholds[:], metric.cross_slice_thresholds[:]
    gated = gated_slices(config)
    del report.slicing_specs[:]
    report.slicing_specs.extend(s for s in config.slicing_specs if s not in gated)
    return report
