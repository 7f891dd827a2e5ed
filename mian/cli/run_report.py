"""What a pipeline run did, read back from ML Metadata: component states, test metrics, gate, push.

MLMD is the record every TFX orchestrator keeps, so the report needs nothing from the run's process:
the latest `pipeline_run` context of the pipeline holds one execution per component (COMPLETE, CACHED
or FAILED), and their output events lead to the Evaluator's evaluation and blessing and the Pusher's
pushed model.
"""

from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf
import tensorflow_model_analysis as tfma
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata

from mian.components.drift_gate import DRIFT_FILE
from mian.names import AUC, GAUC, LOGLOSS, SLICES_EVALUATION_DIR

_STATES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}
_REPORTED = ("example_count", AUC, GAUC, LOGLOSS, "calibration")
# The summary leaves out smaller slices (TFMA's output keeps them): an AUC over a handful of examples
# is noise.
MIN_SLICE_SIZE = 20


@dataclasses.dataclass(frozen=True)
class ComponentRun:
    component: str
    state: str  # COMPLETE / CACHED / FAILED / RUNNING ...
    seconds: float  # from the execution's creation to its last update
    started: float  # the execution's creation, in seconds since the epoch

    @property
    def finished(self) -> bool:
        return self.state in ("COMPLETE", "CACHED", "FAILED", "CANCELED")


@dataclasses.dataclass
class RunReport:
    components: list[ComponentRun]  # in the order they ran
    metrics: dict[tuple, dict[str, float]]  # slice (() overall, or ((feature, value),)) -> metrics
    blessed: bool | None  # None: the Evaluator did not run
    gate_failures: list[str]
    pushed_path: str | None
    # What the drift gate found and let through (gates.drift: warn), one line a feature.
    drift: list[str] = dataclasses.field(default_factory=list)
    run_id: str = ""  # the `pipeline_run` context's name
    # {component: {output key: MLMD artifact}}: where the run's outputs are (the run report reads them).
    outputs: dict[str, dict] = dataclasses.field(default_factory=dict)
    # The model the gate compared with (the served version) and its overall test AUC; None without one.
    baseline: str | None = None
    baseline_auc: float | None = None

    @property
    def overall(self) -> dict[str, float]:
        return self.metrics.get((), {})


def _pipeline_runs(store, pipeline_name: str) -> list:
    """The pipeline's `pipeline_run` contexts, oldest first."""
    runs = [c for c in store.get_contexts_by_type("pipeline_run") if _belongs_to(store, c, pipeline_name)]
    return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))


def latest_run(store, pipeline_name: str, since_ms: int = 0):
    """The pipeline's newest `pipeline_run` context created at or after `since_ms`, or None."""
    runs = [c for c in _pipeline_runs(store, pipeline_name) if c.create_time_since_epoch >= since_ms]
    return runs[-1] if runs else None


def component_runs(store, run, pipeline_name: str) -> list[tuple[ComponentRun, metadata_store_pb2.Execution]]:
    """(ComponentRun, MLMD execution) of every component of `run`, in the order they started."""
    runs = []
    for execution in sorted(store.get_executions_by_context(run.id), key=lambda e: e.id):
        seconds = (execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000
        state = _STATES.get(execution.last_known_state, "UNKNOWN")
        started = execution.create_time_since_epoch / 1000
        component = ComponentRun(_node_id(store, execution, pipeline_name), state, seconds, started)
        runs.append((component, execution))
    return runs


def run_ids(metadata_path: str, pipeline_name: str) -> list[str]:
    """The ids of the pipeline's runs recorded in the SQLite MLMD at `metadata_path`, oldest first."""
    config = metadata.sqlite_metadata_connection_config(metadata_path)
    with metadata.Metadata(config) as handle:
        return [c.name for c in _pipeline_runs(handle.store, pipeline_name)]


def read_report(metadata_path: str, pipeline_name: str, run_id: str | None = None) -> RunReport:
    """The report of the pipeline's run `run_id` (default: its latest) recorded in the SQLite MLMD at
    `metadata_path`."""
    config = metadata.sqlite_metadata_connection_config(metadata_path)
    with metadata.Metadata(config) as handle:
        store = handle.store
        if run_id is None:
            run = latest_run(store, pipeline_name)
        else:
            run = store.get_context_by_type_and_name("pipeline_run", run_id)
            run = run if run is not None and _belongs_to(store, run, pipeline_name) else None
        if run is None:
            which = "no run" if run_id is None else f"no run {run_id!r}"
            raise LookupError(f"{which} of pipeline {pipeline_name!r} in {metadata_path}")
        components, outputs = [], {}
        for component, execution in component_runs(store, run, pipeline_name):
            components.append(component)
            outputs[component.component] = _outputs(store, execution.id)
    evaluation = outputs.get("Evaluator", {}).get("evaluation")
    blessing = outputs.get("Evaluator", {}).get("blessing")
    pushed = outputs.get("Pusher", {}).get("pushed_model")
    drift_record = outputs.get("DriftGate", {}).get("drift_record")
    metrics, failures, baseline_auc = ({}, [], None)
    if evaluation is not None:
        metrics = {k: v for uri in evaluation_outputs(evaluation.uri) for k, v in _metrics(uri).items()}
        failures = _gate_failures(evaluation.uri)
        baseline_auc = _baseline_auc(evaluation.uri)
    baseline_model = outputs.get("BaselineModel", {}).get("model")
    baseline = None
    if baseline_model is not None and "source" in baseline_model.custom_properties:
        baseline = baseline_model.custom_properties["source"].string_value
    blessed = None if blessing is None else bool(blessing.custom_properties["blessed"].int_value)
    pushed_path = None
    if pushed is not None and pushed.custom_properties["pushed"].int_value:
        pushed_path = pushed.custom_properties["pushed_destination"].string_value
    drift = _drift(drift_record.uri) if drift_record is not None else []
    return RunReport(
        components, metrics, blessed, failures, pushed_path, drift, run.name, outputs, baseline, baseline_auc
    )


def evaluation_outputs(uri: str) -> list[str]:
    """The TFMA outputs of the Evaluator's evaluation at `uri`: its own (the gate's slices, the overall
    one) and its report run's (the other slices), when it had one."""
    report = os.path.join(uri, SLICES_EVALUATION_DIR)
    return [uri, report] if tf.io.gfile.isdir(report) else [uri]


def _baseline_auc(uri: str) -> float | None:
    """The baseline's AUC on the whole test split, when the Evaluator had a baseline."""
    for per_slice in tfma.load_metrics(uri):
        if per_slice.slice_key.single_slice_keys:
            continue
        for kv in per_slice.metric_keys_and_values:
            if kv.key.name == AUC and kv.key.model_name == tfma.BASELINE_KEY and not kv.key.is_diff:
                return kv.value.double_value.value
    return None


def _drift(uri: str) -> list[str]:
    path = os.path.join(uri, DRIFT_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["drift"]


def _belongs_to(store, run_context, pipeline_name: str) -> bool:
    parents = store.get_parent_contexts_by_context(run_context.id)
    return any(p.name == pipeline_name for p in parents)


def _node_id(store, execution, pipeline_name: str) -> str:
    """The component id, from the execution's node context `<pipeline>.<component id>`."""
    prefix = f"{pipeline_name}."
    names = [c.name for c in store.get_contexts_by_execution(execution.id)]
    return next((n[len(prefix) :] for n in names if n.startswith(prefix)), str(execution.id))


def _outputs(store, execution_id: int) -> dict:
    """{output key: artifact} of an execution (a cached execution's events lead to the reused ones)."""
    outputs = {}
    output_types = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
    for event in store.get_events_by_execution_ids([execution_id]):
        if event.type in output_types and event.path.steps:
            (artifact,) = store.get_artifacts_by_id([event.artifact_id])
            outputs[event.path.steps[0].key] = artifact
    return outputs


def _metrics(uri: str) -> dict[tuple, dict[str, float]]:
    metrics = {}
    for per_slice in tfma.load_metrics(uri):
        key = tuple(
            (s.column, s.bytes_value.decode() if s.HasField("bytes_value") else s.int64_value)
            for s in per_slice.slice_key.single_slice_keys
        )
        # With a baseline, TFMA also reports the baseline's metrics and the differences: keep the
        # candidate's own.
        values = {
            kv.key.name: kv.value.double_value.value
            for kv in per_slice.metric_keys_and_values
            if kv.value.HasField("double_value")
            and kv.key.model_name in ("", "candidate")
            and not kv.key.is_diff
        }
        metrics[key] = {k: v for k, v in values.items() if k in _REPORTED}
    return metrics


def _gate_failures(uri: str) -> list[str]:
    result = tfma.load_validation_result(uri)
    failures = []
    for per_slice in result.metric_validations_per_slice:
        for failure in per_slice.failures:
            threshold = failure.metric_threshold
            if threshold.HasField("value_threshold"):
                rule = f">= {threshold.value_threshold.lower_bound.value:g} (floor)"
            else:
                rule = (
                    f"no drop beyond {-threshold.change_threshold.absolute.value:g} against the blessed model"
                )
            diff = " change" if failure.metric_key.is_diff else ""
            failures.append(
                f"{failure.metric_key.name}{diff} {failure.metric_value.double_value.value:.4f} fails {rule}"
            )
    return failures


def format_report(report: RunReport, slice_features: list[str]) -> str:
    lines = ["", f"{'component':<32} {'status':<10} {'seconds':>8}"]
    for run in report.components:
        lines.append(f"{run.component:<32} {run.state:<10} {run.seconds:>8.1f}")
    if report.overall:
        lines += ["", "test split:"]
        lines.append(_metrics_line("overall", report.overall))
        for feature in slice_features:
            slices = [(k, v) for k, v in report.metrics.items() if k and k[0][0] == feature]
            shown = [(k, v) for k, v in slices if v.get("example_count", 0) >= MIN_SLICE_SIZE]
            for key, values in sorted(shown, key=lambda kv: natural_order(kv[0][0][1])):
                lines.append(_metrics_line(f"{feature}={key[0][1]}", values))
            hidden = len(slices) - len(shown)
            if hidden:
                lines.append(f"  ({hidden} {feature} slices under {MIN_SLICE_SIZE} examples not shown)")
    for line in report.drift:
        lines.append(f"drift (let through, gates.drift: warn): {line}")
    if report.blessed is None:
        lines.append("\ngate: the Evaluator did not run")
    elif report.blessed:
        lines.append("\ngate: BLESSED")
    else:
        lines.append("\ngate: NOT blessed: " + "; ".join(report.gate_failures))
    lines.append(
        f"pushed: {report.pushed_path}" if report.pushed_path else "pushed: nothing (no blessed model)"
    )
    return "\n".join(lines)


def natural_order(value) -> tuple:
    """Numbers in numeric order (hour 2 before hour 10), then the other values."""
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _metrics_line(name: str, values: dict) -> str:
    nan = float("nan")
    return (
        f"  {name:<24} AUC {values.get(AUC, nan):.4f}  GAUC {values.get(GAUC, nan):.4f}"
        f"  logloss {values.get(LOGLOSS, nan):.4f}"
        f"  calibration {values.get('calibration', nan):.3f}  examples {values.get('example_count', 0):,.0f}"
    )
