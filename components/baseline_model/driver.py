"""BaselineModel's driver: finds the served version before the launcher looks up its cache, so that a
new pushed version is a new execution and an unchanged one a cache hit (LocalDagRunner)."""

from __future__ import annotations

import copy

from tfx.dsl.components.base import base_driver
from tfx.orchestration import data_types_utils
from tfx.orchestration.portable import base_driver as portable_driver
from tfx.orchestration.portable import data_types as portable_data_types
from tfx.proto.orchestration import driver_output_pb2

from mian.components.baseline_model.served import served_version


class Driver(base_driver.BaseDriver, portable_driver.BaseDriver):
    """A portable driver declared a legacy one too, which is what a component's DRIVER_CLASS must be."""

    def __init__(self, metadata_handle):
        base_driver.BaseDriver.__init__(self, metadata_handle)
        portable_driver.BaseDriver.__init__(self, metadata_handle)

    def run(self, execution_info: portable_data_types.ExecutionInfo) -> driver_output_pb2.DriverOutput:
        result = driver_output_pb2.DriverOutput()
        source = served_version(execution_info.exec_properties["push_dir"])
        data_types_utils.set_metadata_value(result.exec_properties["source"], source)
        for name, artifacts in execution_info.output_dict.items():
            for artifact in artifacts:
                result.output_artifacts[name].artifacts.append(copy.deepcopy(artifact.mlmd_artifact))
        return result
