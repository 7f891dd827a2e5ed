"""AnomaliesGate: the step between ExampleValidator and Transform that fails on any anomaly.

ExampleValidator records anomalies but lets the pipeline go on; a production run must not train on
data that breaks its curated schema. The gate reads every split's anomalies and fails, naming each
split, feature and anomaly, so that Transform and Trainer (which the pipeline places after it) never run.
"""

# No `from __future__ import annotations`: TFX reads the function's annotations as types.
import os

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import ExampleAnomalies
from tfx.utils import io_utils

# ExampleValidator's file of one split's anomalies.
SCHEMA_DIFF_FILE = "SchemaDiff.pb"


class AnomaliesFound(RuntimeError):
    """The examples break the schema: the message lists every split, feature and anomaly."""


def describe_anomalies(anomalies: ExampleAnomalies) -> list[str]:
    """One line per anomaly: `split: feature: short description (description)`."""
    lines = []
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        path = os.path.join(artifact_utils.get_split_uri([anomalies], split), SCHEMA_DIFF_FILE)
        found = anomalies_pb2.Anomalies.FromString(io_utils.read_bytes_file(path))
        for feature, info in sorted(found.anomaly_info.items()):
            lines.append(f"{split}: feature {feature!r}: {info.short_description} ({info.description})")
        if found.HasField("dataset_anomaly_info"):
            info = found.dataset_anomaly_info
            lines.append(f"{split}: dataset: {info.short_description} ({info.description})")
    return lines


@component
def AnomaliesGate(anomalies: InputArtifact[ExampleAnomalies]) -> None:
    """Fails the run when ExampleValidator found any anomaly in any split."""
    lines = describe_anomalies(anomalies)
    if lines:
        raise AnomaliesFound(
            f"{len(lines)} anomalies against the schema; Transform and Trainer will not run:\n  "
            + "\n  ".join(lines)
        )
