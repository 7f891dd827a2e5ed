"""TFX's Transform component (id "Transform", the same parameters and outputs), transforming the splits
the Trainer reads and telling a person watching the run what it analyzes and transforms
(components/transform/executor.py)."""

from __future__ import annotations

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from mian.components.transform.executor import Executor


class Transform(tfx.components.Transform):
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
