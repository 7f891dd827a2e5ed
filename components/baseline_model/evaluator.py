"""TFX's Evaluator, except that a baseline BaselineModel marked absent is no baseline: the first run of
a pipeline is gated on the absolute floor alone, as with TFX's resolver finding nothing."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx import v1 as tfx
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from mian.components.baseline_model.served import ABSENT


class Executor(evaluator_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        key = standard_component_specs.BASELINE_MODEL_KEY
        baselines = [m for m in input_dict.get(key, []) if not m.get_int_custom_property(ABSENT)]
        super().Do({**input_dict, key: baselines}, output_dict, exec_properties)


class Evaluator(tfx.components.Evaluator):
    """TFX's Evaluator component (id "Evaluator", the same parameters) running this executor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
