"""TFX's Transform executor, logging on the progress logger (mian.names.PROGRESS_LOGGER) the splits it
analyzes and transforms with their example counts (the input's `split_examples` property, which
ingestion and the training window set) before it starts, and its seconds when it ends."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tfx import types
from tfx.components.transform import executor as transform_executor
from tfx.types import artifact_utils, standard_component_specs

from mian.names import PROGRESS_LOGGER, SPLIT_EXAMPLES_PROPERTY

# Without a splits config (as here), TFX's Transform analyzes this split and transforms every split.
ANALYZED_SPLIT = "train"


def split_examples(examples: list[types.Artifact]) -> dict[str, int]:
    """{split: examples} of the input artifacts that count them."""
    counts: dict[str, int] = {}
    for artifact in examples:
        if artifact.has_custom_property(SPLIT_EXAMPLES_PROPERTY):
            for split, n in json.loads(artifact.get_string_custom_property(SPLIT_EXAMPLES_PROPERTY)).items():
                counts[split] = counts.get(split, 0) + n
    return counts


def _with_counts(splits: list[str], counts: dict[str, int]) -> str:
    return ", ".join(f"{s} ({counts[s]:,} examples)" if s in counts else s for s in splits)


class Executor(transform_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        progress = logging.getLogger(PROGRESS_LOGGER)
        examples = input_dict[standard_component_specs.EXAMPLES_KEY]
        counts = split_examples(examples)
        splits = artifact_utils.decode_split_names(examples[0].split_names)
        progress.info(
            "Transform: analyzing %s; transforming %s",
            _with_counts([ANALYZED_SPLIT], counts),
            _with_counts(splits, counts),
        )
        started = time.monotonic()
        super().Do(input_dict, output_dict, exec_properties)
        progress.info(
            "Transform: vocabularies, scales and transformed splits written in %.1f s",
            time.monotonic() - started,
        )
