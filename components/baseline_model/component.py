"""The BaselineModel component: the model the pipeline serves, as a Model artifact for the Evaluator.

It replaces a LatestBlessedModelStrategy resolver, which open-source Kubeflow Pipelines v2 cannot run
(its backend has no resolver executor): the served version is read from the push destination when the
step runs, under LocalDagRunner (by its driver, before the cache lookup), on Kubeflow Pipelines and on
Vertex AI alike. With nothing served yet the Model is marked absent and the Evaluator (with
mian.components.baseline_model.evaluator's executor) gates on the absolute floor alone.
"""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from mian.components.baseline_model.driver import Driver
from mian.components.baseline_model.executor import Executor


class BaselineModelSpec(types.ComponentSpec):
    PARAMETERS = {
        "push_dir": ExecutionParameter(type=str),
        # The served version, when the driver found it ("": none, or no driver ran).
        "source": ExecutionParameter(type=str, optional=True),
    }
    INPUTS: dict = {}
    OUTPUTS = {"model": ChannelParameter(type=standard_artifacts.Model)}


class BaselineModel(base_component.BaseComponent):
    """Output `model`: a copy of the newest SavedModel under `push_dir`, or a Model marked absent."""

    SPEC_CLASS = BaselineModelSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
    DRIVER_CLASS = Driver

    def __init__(self, push_dir: str):
        super().__init__(
            spec=BaselineModelSpec(push_dir=push_dir, model=types.Channel(type=standard_artifacts.Model))
        )
