"""ClickLogExampleGen's driver: resolves the span, version and input fingerprint when the component
runs, before the launcher looks up its cache, and stamps the output Examples with span and version."""

from __future__ import annotations

import copy

from tfx.dsl.components.base import base_driver
from tfx.orchestration import data_types_utils
from tfx.orchestration.portable import base_driver as portable_driver
from tfx.orchestration.portable import data_types as portable_data_types
from tfx.proto.orchestration import driver_output_pb2

from mian.components.click_log_example_gen.inputs import RESOLVED, resolve


class Driver(base_driver.BaseDriver, portable_driver.BaseDriver):
    """A driver of TFX's portable orchestration (LocalDagRunner), declared a legacy one too, which is
    what a component's DRIVER_CLASS must be."""

    def __init__(self, metadata_handle):
        base_driver.BaseDriver.__init__(self, metadata_handle)
        portable_driver.BaseDriver.__init__(self, metadata_handle)

    def run(self, execution_info: portable_data_types.ExecutionInfo) -> driver_output_pb2.DriverOutput:
        (examples,) = execution_info.output_dict["examples"]
        resolved = resolve(dict(execution_info.exec_properties), examples.uri)
        result = driver_output_pb2.DriverOutput()
        for key in RESOLVED:
            if resolved.get(key) is not None:
                data_types_utils.set_metadata_value(result.exec_properties[key], resolved[key])
        for name, artifacts in execution_info.output_dict.items():
            for artifact in artifacts:
                stamped = copy.deepcopy(artifact.mlmd_artifact)
                if name == "examples" and resolved.get("span") is not None:
                    stamp(stamped, resolved["span"], resolved["version"])
                result.output_artifacts[name].artifacts.append(stamped)
        return result


def stamp(mlmd_artifact, span: int, version: int) -> None:
    """TFX's span and version properties (and the `span` custom property SpanRangeStrategy reads)."""
    mlmd_artifact.properties["span"].int_value = span
    mlmd_artifact.properties["version"].int_value = version
    mlmd_artifact.custom_properties["span"].int_value = span
    mlmd_artifact.custom_properties["version"].int_value = version
