"""TFX's Transform executor, transforming only the splits the Trainer reads.

Transform analyzes the train split and transforms every split, except on a daily window
(components/training_window), where it leaves untransformed the test split (the Evaluator runs the
served model on raw examples) and, when the Trainer is expected to start warm and train on the fresh
spans alone, the train split. Those splits stay in the output's split names, their raw file patterns
in UNTRANSFORMED_SPLITS_FILE: a Trainer that falls back to a cold start reads them raw through the
transform graph (mian.stages.trainer.split_dataset_fn).

It logs on the progress logger (mian.names.PROGRESS_LOGGER) what it analyzes and transforms, with the
example counts (the input's `split_examples` property), and its seconds when it ends.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import tensorflow as tf
from tfx import types
from tfx.components.transform import executor as transform_executor
from tfx.proto import transform_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from mian.components.split_examples import split_examples
from mian.data.ingest.window import written_window
from mian.names import PROGRESS_LOGGER, UNTRANSFORMED_SPLITS_FILE

ANALYZED_SPLIT = "train"
TEST_SPLIT = "test"


def untransformed_splits(splits: list[str], window: dict | None) -> list[str]:
    """The splits Transform leaves untransformed: none of a whole log; of a daily window the test split,
    and the train split when a warm start has a base model (the Trainer trains on the fresh splits)."""
    if window is None:
        return []
    left = [TEST_SPLIT] + ([ANALYZED_SPLIT] if window.get("warm_start_base") else [])
    return [s for s in splits if s in left]


def _with_counts(splits: list[str], counts: dict[str, int]) -> str:
    return ", ".join(f"{s} ({counts[s]:,} examples)" if s in counts else s for s in splits) or "none"


class Executor(transform_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        progress = logging.getLogger(PROGRESS_LOGGER)
        examples = input_dict[standard_component_specs.EXAMPLES_KEY]
        splits = artifact_utils.decode_split_names(examples[0].split_names)
        window = written_window(examples[0].uri) if len(examples) == 1 else None
        left = untransformed_splits(splits, window)
        transformed = [s for s in splits if s not in left]
        config = transform_pb2.SplitsConfig(analyze=[ANALYZED_SPLIT], transform=transformed)
        exec_properties = {
            **exec_properties,
            standard_component_specs.SPLITS_CONFIG_KEY: proto_utils.proto_to_json(config),
        }
        counts = split_examples(examples)
        progress.info(
            "Transform: analyzing %s; transforming %s",
            _with_counts([ANALYZED_SPLIT], counts),
            _with_counts(transformed, counts),
        )
        started = time.monotonic()
        super().Do(input_dict, output_dict, exec_properties)
        output = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.TRANSFORMED_EXAMPLES_KEY]
        )
        # The splits left raw stay splits of the output, read raw by the Trainer when it needs them.
        output.split_names = artifact_utils.encode_split_names(splits)
        raw = {s: [os.path.join(artifact_utils.get_split_uri(examples, s), "*")] for s in left}
        with tf.io.gfile.GFile(os.path.join(output.uri, UNTRANSFORMED_SPLITS_FILE), "w") as f:
            json.dump(raw, f, indent=1)
        progress.info(
            "Transform: vocabularies, scales and transformed splits written in %.1f s",
            time.monotonic() - started,
        )
