"""The ClickLogExampleGen executor: runs the ingestion's Beam pipeline into the output artifacts."""

from __future__ import annotations

import json
import logging
from typing import Any

from tfx import types
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from mian.components.click_log_example_gen.driver import stamp
from mian.components.click_log_example_gen.inputs import resolve, span_of
from mian.config.dataset_config import DatasetConfig
from mian.data.ingest import accounting
from mian.data.ingest.passes import ingest_in_passes
from mian.data.ingest.pipeline import output_splits
from mian.data.ingest.span_store import write_span_record
from mian.data.ingest.spans import span_name
from mian.names import PROGRESS_LOGGER, SPLIT_EXAMPLES_PROPERTY


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        config = DatasetConfig.from_json(exec_properties["dataset_config"])
        examples = artifact_utils.get_single_instance(output_dict["examples"])
        rejected = artifact_utils.get_single_instance(output_dict["rejected"])
        examples.split_names = artifact_utils.encode_split_names(list(output_splits(config)))
        if config.daily and exec_properties.get("span") is None:  # no driver ran: resolve here
            exec_properties = resolve(exec_properties, examples.uri)
        span = (
            span_of(config, exec_properties["input_base"], span_name(exec_properties["span"]))
            if config.daily
            else None
        )

        progress = logging.getLogger(PROGRESS_LOGGER)
        progress.info(
            "ClickLogExampleGen: reading %s%s",
            exec_properties["input_base"],
            f", span {span_name(span.span)}" if span is not None else "",
        )
        ingest_in_passes(
            self._make_beam_pipeline,
            config,
            exec_properties["input_base"],
            examples.uri,
            rejected.uri,
            self._beam_pipeline_args,
            span,
        )
        examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)

        stats = accounting.load_stats(rejected.uri)
        examples.set_string_custom_property(
            SPLIT_EXAMPLES_PROPERTY, json.dumps(accounting.examples_by_split(stats))
        )
        for key, value in stats.items():
            rejected.set_int_custom_property(key.replace(".", "_"), value)
        for line in accounting.summary(stats).splitlines():
            progress.info("ClickLogExampleGen: %s", line)
        accounting.check(stats, config, rejected.uri)
        if span is not None:
            version, fingerprint = exec_properties["version"], exec_properties["input_fingerprint"]
            stamp(examples.mlmd_artifact, span.span, version)  # as the driver did, where none ran
            # Last: a span artifact without its record did not finish (mian.data.ingest.span_store).
            write_span_record(
                examples.uri, span.span, version, fingerprint, accounting.examples_written(stats)
            )
