"""The TrainingWindow executor: chooses the window's spans and copies their examples into its splits."""

from __future__ import annotations

import json
import os
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from mian.data.ingest.pipeline import SPLITS
from mian.data.ingest.span_store import span_records
from mian.data.ingest.window import choose_window, write_window


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
        chosen = choose_window(
            records, span.span, exec_properties["train_spans"], exec_properties["eval_spans"]
        )
        write_window(chosen, window.uri)
        window.split_names = artifact_utils.encode_split_names(list(SPLITS))
        window.span = span.span
        window.set_string_custom_property("window", json.dumps(chosen.to_dict()))
