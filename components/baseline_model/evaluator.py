"""TFX's Evaluator, gating and reporting at once, and taking a baseline marked absent for none.

- **Two TFMA runs at once.** The component's eval config is run as the gate (every model and metric on
  the slices the thresholds judge, the overall one: TFX's own run, which writes the validation and the
  blessing) and, in a process of its own at the same time, the report (the candidate's every metric on
  the other slices, written to SLICES_EVALUATION_DIR inside the evaluation). TFMA scores every model
  on every slicing spec, and its per-example work is Python, one core a process: one run of both
  models over every slice took 305 s on a day's test span where two runs side by side take the longer
  one's time (bench/results/daily.md). A small split's report runs after the gate, in this process.
- **An absent baseline.** A BaselineModel marked absent (nothing served yet) is no baseline: the first
  run of a pipeline is gated on the absolute floor alone, as with TFX's resolver finding nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

import tensorflow_model_analysis as tfma
from tfx import types
from tfx import v1 as tfx
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import json_utils, path_utils, proto_utils

from mian.components.baseline_model.served import ABSENT
from mian.components.split_examples import split_examples
from mian.names import SLICES_EVALUATION_DIR
from mian.stages.eval_config import gate_config, report_config
from mian.stages.slice_evaluation import evaluate_slices

# TFX's Evaluator scores this split when the component names none.
DEFAULT_SPLIT = "eval"
# Below this many examples the report runs after the gate, in this process: a process of its own starts
# TensorFlow and loads the model (about 10 s of a core), more than a small split's report takes.
IN_PROCESS_BELOW = 20_000


def _start_report(model_path: str, examples: str, output: str, config: tfma.EvalConfig, scratch: str):
    """The report run (mian.stages.slice_evaluation) started in a process of its own."""
    config_path = os.path.join(scratch, "report_config.json")
    with open(config_path, "w") as f:
        f.write(proto_utils.proto_to_json(config))
    log = open(os.path.join(scratch, "report.log"), "w")
    command = [
        sys.executable,
        "-m",
        "mian.stages.slice_evaluation",
        model_path,
        examples,
        output,
        config_path,
    ]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log


class Executor(evaluator_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        key = standard_component_specs.BASELINE_MODEL_KEY
        baselines = [m for m in input_dict.get(key, []) if not m.get_int_custom_property(ABSENT)]
        input_dict = {**input_dict, key: baselines}
        config = tfma.EvalConfig()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.EVAL_CONFIG_KEY], config)
        splits = json_utils.loads(exec_properties.get(standard_component_specs.EXAMPLE_SPLITS_KEY) or "null")
        (split,) = splits or [DEFAULT_SPLIT]
        examples = os.path.join(
            artifact_utils.get_split_uri(input_dict[standard_component_specs.EXAMPLES_KEY], split), "*"
        )
        model = artifact_utils.get_single_instance(input_dict[standard_component_specs.MODEL_KEY])
        model_path = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        evaluation = artifact_utils.get_single_uri(output_dict[standard_component_specs.EVALUATION_KEY])
        gate = {
            **exec_properties,
            standard_component_specs.EVAL_CONFIG_KEY: proto_utils.proto_to_json(gate_config(config)),
        }
        report_slices = report_config(config)
        report_output = os.path.join(evaluation, SLICES_EVALUATION_DIR)
        if not report_slices.slicing_specs:  # the gate judges every slice: it is the whole report
            super().Do(input_dict, output_dict, gate)
            return
        examples_count = split_examples(input_dict[standard_component_specs.EXAMPLES_KEY]).get(split)
        if examples_count is not None and examples_count < IN_PROCESS_BELOW:
            super().Do(input_dict, output_dict, gate)
            evaluate_slices(model_path, examples, report_output, report_slices)
            return
        with tempfile.TemporaryDirectory(prefix="mian-report-") as scratch:
            report, log = _start_report(model_path, examples, report_output, report_slices, scratch)
            try:
                super().Do(input_dict, output_dict, gate)
            except BaseException:
                report.kill()
                raise
            finally:
                report.wait()
                log.close()
            if report.returncode != 0:
                with open(log.name) as f:
                    tail = f.read()[-4000:]
                raise RuntimeError(f"the Evaluator's report run failed ({report.returncode}):\n{tail}")


class Evaluator(tfx.components.Evaluator):
    """TFX's Evaluator component (id "Evaluator", the same parameters) running this executor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
