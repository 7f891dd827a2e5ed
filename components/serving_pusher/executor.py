"""TFX's Pusher executor, minus the duplicate versions.

A pipeline run again on unchanged inputs takes its Trainer's model from the cache, the Resolver then
offers that same model as the baseline, the Evaluator blesses it against itself, and TFX's Pusher
copies it once more under a new version number: the serving directory fills with copies, and a model
server reloads the model it already serves. This executor compares the blessed model with the newest
version in the destination, file by file; when they are the same, it records that version as the push
and copies nothing.
"""

from __future__ import annotations

import hashlib
import os

from absl import logging
from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from mian.numbered_dirs import newest_numbered


def tree_digest(directory: str) -> str:
    """A digest of every file's relative path and bytes under `directory`."""
    digest = hashlib.sha256()
    for root, _, files in sorted(fileio.walk(directory)):
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, directory).encode() + b"\0")
            with fileio.open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


class Executor(tfx_pusher.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        if destination.WhichOneof("destination") == "filesystem" and self.CheckBlessing(input_dict):
            base = destination.filesystem.base_directory
            served = newest_numbered(base)
            if served is not None:
                if tree_digest(served) == tree_digest(self.GetModelPath(input_dict)):
                    model_push = artifact_utils.get_single_instance(
                        output_dict[standard_component_specs.PUSHED_MODEL_KEY]
                    )
                    logging.info("The blessed model is already served as %s: nothing to copy.", served)
                    self._MarkPushed(
                        model_push, pushed_destination=served, pushed_version=os.path.basename(served)
                    )
                    return
        super().Do(input_dict, output_dict, exec_properties)
