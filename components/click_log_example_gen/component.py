"""The ClickLogExampleGen component: its spec, its artifacts, and how it is declared in a pipeline."""

from __future__ import annotations

import hashlib

from apache_beam.io.filesystems import FileSystems
from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from mian.components.click_log_example_gen.executor import Executor
from mian.config.dataset_config import DatasetConfig


class RejectedRows(types.Artifact):
    """The dead-letter output: every rejected row with table, file, line, field and reason (JSON
    lines), and the ingestion's counts (ingestion_stats.json)."""

    TYPE_NAME = "mian.RejectedRows"


class ClickLogExampleGenSpec(types.ComponentSpec):
    PARAMETERS = {
        "input_base": ExecutionParameter(type=str),
        "dataset_config": ExecutionParameter(type=str),
        # Sizes and times of the input files: a changed input is a new execution, not a cache hit.
        "input_fingerprint": ExecutionParameter(type=str),
    }
    INPUTS = {}
    OUTPUTS = {
        "examples": ChannelParameter(type=standard_artifacts.Examples),
        "rejected": ChannelParameter(type=RejectedRows),
    }


class ClickLogExampleGen(base_beam_component.BaseBeamComponent):
    """Joins impressions with users and items, builds each impression's history from the user's earlier
    clicks, and writes `train`, `eval` and `test` splits by time (see mian.data.ingest.pipeline).

    Outputs: `examples` (Examples, TFRecords of tf.Example in TFX's split layout) and `rejected`
    (RejectedRows). The run fails when a table's rejected share exceeds the dataset config's
    `max_reject_share` or a split holds fewer than its `min_split_examples`. Beam options come from
    the pipeline's `beam_pipeline_args`.
    """

    SPEC_CLASS = ClickLogExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, input_base: str, dataset_config: DatasetConfig | str):
        if isinstance(dataset_config, str):
            dataset_config = DatasetConfig.load(dataset_config)
        super().__init__(
            spec=ClickLogExampleGenSpec(
                input_base=input_base,
                dataset_config=dataset_config.to_json(),
                input_fingerprint=input_fingerprint(input_base, dataset_config),
                examples=types.Channel(type=standard_artifacts.Examples),
                rejected=types.Channel(type=RejectedRows),
            )
        )


def input_fingerprint(input_base: str, config: DatasetConfig) -> str:
    """A digest of every input file's path, size and modification time."""
    digest = hashlib.sha256()
    for table in (config.impressions, config.users, config.items):
        pattern = config.table_path(table, input_base)
        (match,) = FileSystems.match([pattern])
        if not match.metadata_list:
            raise FileNotFoundError(f"no file matches {pattern}")
        for metadata in sorted(match.metadata_list, key=lambda m: m.path):
            digest.update(
                f"{metadata.path}|{metadata.size_in_bytes}|{metadata.last_updated_in_seconds}\n".encode()
            )
    return digest.hexdigest()
