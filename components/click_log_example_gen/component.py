"""The ClickLogExampleGen component: its spec, its artifacts, and how it is declared in a pipeline."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from mian.components.click_log_example_gen.driver import Driver
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
        # Daily partitions: the span to ingest (YYYY-MM-DD); empty: the newest one present.
        "requested_span": ExecutionParameter(type=str, optional=True),
        # Resolved when the component runs, before the cache is looked up (Driver): the span, its
        # version and the digest of the input files' paths, sizes and times. A changed input is a new
        # execution, an unchanged one a cache hit, whatever machine compiled the pipeline.
        "span": ExecutionParameter(type=int, optional=True),
        "version": ExecutionParameter(type=int, optional=True),
        "input_fingerprint": ExecutionParameter(type=str, optional=True),
    }
    INPUTS: dict = {}
    OUTPUTS = {
        "examples": ChannelParameter(type=standard_artifacts.Examples),
        "rejected": ChannelParameter(type=RejectedRows),
    }


class ClickLogExampleGen(base_beam_component.BaseBeamComponent):
    """Joins impressions with users and items, builds each impression's history from the user's earlier
    clicks, and writes `train`, `eval` and `test` splits by time (see mian.data.ingest.pipeline); on
    daily partitions, one span (`span`, else the newest) as an artifact of its own, with TFX's `span`
    and `version` properties and its examples in one split, `span`.

    Outputs: `examples` (Examples, TFRecords of tf.Example in TFX's split layout) and `rejected`
    (RejectedRows). The run fails when a table's rejected share exceeds the dataset config's
    `max_reject_share` or a split holds fewer than its `min_split_examples`. Beam options come from
    the pipeline's `beam_pipeline_args`.
    """

    SPEC_CLASS = ClickLogExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
    DRIVER_CLASS = Driver

    def __init__(self, input_base: str, dataset_config: DatasetConfig | str, span: str | None = None):
        if isinstance(dataset_config, str):
            dataset_config = DatasetConfig.load(dataset_config)
        super().__init__(
            spec=ClickLogExampleGenSpec(
                input_base=input_base,
                dataset_config=dataset_config.to_json(),
                requested_span=span or "",
                examples=types.Channel(type=standard_artifacts.Examples),
                rejected=types.Channel(type=RejectedRows),
            )
        )
