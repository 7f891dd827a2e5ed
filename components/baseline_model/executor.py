"""BaselineModel's executor: copies the served SavedModel into the output Model (TFX's layout), or marks
the Model absent when nothing is served yet."""

from __future__ import annotations

import os
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from mian.components.baseline_model.served import ABSENT, SERVING_FORMAT, served_version


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        model = artifact_utils.get_single_instance(output_dict["model"])
        # The driver found it under LocalDagRunner; on Kubeflow (no custom driver) it is found here.
        source = exec_properties.get("source") or served_version(exec_properties["push_dir"])
        if not source:
            model.set_int_custom_property(ABSENT, 1)
            return
        io_utils.copy_dir(source, os.path.join(model.uri, SERVING_FORMAT))
        model.set_string_custom_property("source", source)
