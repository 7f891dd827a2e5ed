"""The Evaluator's config, cut into the gate's run and the report's run (mian.stages.eval_config)."""

import tensorflow_model_analysis as tfma

from mian.config.pipeline_config import GateConfig
from mian.stages.eval_config import eval_config, gate_config, report_config, slice_features
from tests.model_helpers import synthetic_config

REPORTED = [
    "AUC",
    "ExampleCount",
    "GAUC",
    "BinaryCrossentropy",
    "Calibration",
    "MeanLabel",
    "MeanPrediction",
    "CalibrationPlot",
]


def _metrics(config: tfma.EvalConfig) -> list[tuple[str, list[str]]]:
    return [(m.class_name, list(spec.model_names)) for spec in config.metrics_specs for m in spec.metrics]


def test_the_gate_runs_every_model_and_metric_on_the_slices_the_thresholds_judge():
    config = eval_config(synthetic_config(), GateConfig())
    gate = gate_config(config)
    assert list(gate.slicing_specs) == [tfma.SlicingSpec()]  # the thresholds judge the overall slice
    assert list(gate.metrics_specs) == list(config.metrics_specs)  # the baseline's AUC among them
    assert list(gate.model_specs) == list(config.model_specs)


def test_a_threshold_on_every_slice_keeps_every_slice_in_the_gate_and_leaves_no_report():
    config = eval_config(synthetic_config(), GateConfig())
    count = config.metrics_specs[1].metrics[0]
    assert count.class_name == "ExampleCount"
    count.threshold.value_threshold.lower_bound.value = 1
    assert list(gate_config(config).slicing_specs) == list(config.slicing_specs)
    assert not report_config(config).slicing_specs


def test_the_report_runs_the_candidate_alone_ungated_on_the_other_slices():
    config = eval_config(synthetic_config(), GateConfig(gauc_floor=0.6))
    baseline = config.model_specs.add()
    baseline.CopyFrom(config.model_specs[0])
    baseline.is_baseline = True
    report = report_config(config)
    (model,) = report.model_specs
    assert not model.is_baseline and not model.name
    assert model.signature_name == config.model_specs[0].signature_name
    assert _metrics(report) == [(name, []) for name in REPORTED]
    metrics = [m for spec in report.metrics_specs for m in spec.metrics]
    assert not any(m.HasField("threshold") or m.per_slice_thresholds for m in metrics)
    features = [list(s.feature_keys) for s in report.slicing_specs]
    assert features == [[f] for f in slice_features(synthetic_config())]
    # The config it was cut from is unchanged.
    assert len(config.model_specs) == 2 and config.metrics_specs[0].metrics[0].per_slice_thresholds
