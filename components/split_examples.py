"""The examples per split that ingestion and the training window record on their Examples artifacts."""

from __future__ import annotations

import json

from tfx import types

from mian.names import SPLIT_EXAMPLES_PROPERTY


def split_examples(examples: list[types.Artifact]) -> dict[str, int]:
    """{split: examples} of the artifacts that count them (SPLIT_EXAMPLES_PROPERTY), summed."""
    counts: dict[str, int] = {}
    for artifact in examples:
        if artifact.has_custom_property(SPLIT_EXAMPLES_PROPERTY):
            for split, n in json.loads(artifact.get_string_custom_property(SPLIT_EXAMPLES_PROPERTY)).items():
                counts[split] = counts.get(split, 0) + n
    return counts
