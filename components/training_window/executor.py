"""The TrainingWindow executor: chooses the window's spans (and, by the newest pushed model, the fresh
ones) and copies their examples into its splits."""

from __future__ import annotations

import json
import os
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from mian.data.ingest.span_store import span_records
from mian.data.ingest.spans import parse_span
from mian.data.ingest.window import choose_window, write_window
from mian.names import SPLIT_EXAMPLES_PROPERTY
from mian.stages.warm_start import newest_pushed, trained_through


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        span = artifact_utils.get_single_instance(input_dict["span_examples"])
        window = artifact_utils.get_single_instance(output_dict["examples"])
        # The span artifacts are the siblings of this run's span in ClickLogExampleGen's output folder.
        records = span_records(os.path.dirname(span.uri))
        # The warm start's base, found as the Trainer will find it: what it has trained on decides
        # the fresh spans.
        base = newest_pushed(exec_properties.get("push_dir") or None)
        through = trained_through(base) if base else None
        chosen = choose_window(
            records,
            span.span,
            exec_properties["train_spans"],
            exec_properties["eval_spans"],
            has_base=base is not None,
            base_trained_through=parse_span(through) if through else None,
        )
        write_window(chosen, window.uri)
        window.split_names = artifact_utils.encode_split_names(list(chosen.splits()))
        window.span = span.span
        window.set_string_custom_property("window", json.dumps(chosen.to_dict()))
        counts = chosen.split_examples()
        if counts is not None:
            window.set_string_custom_property(SPLIT_EXAMPLES_PROPERTY, json.dumps(counts))
