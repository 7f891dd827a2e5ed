"""`mian explain`: MIAN's attention for a few cases, as a picture and as JSON (the paper's Figure 6).

From a pushed SavedModel's `attention` signature: per case, the click probability, the seven (with the
shipped configs) GIM weights over the representations of Eq. 14 (which interaction the prediction
leans on) and the IBIM weights over the behaviors (which earlier clicks matter for this candidate,
Eq. 7). The picture has one row per case: the GIM weights as a heatmap on the left, the IBIM weights
over the valid behavior steps on the right (newest first), each weight written in its cell, with colour
bars (mian.tools.figures.attention_heatmaps).
"""

from __future__ import annotations

import itertools
import json
import os

import tensorflow as tf

from mian.names import (
    ATTENTION_NAMES_FILE,
    ATTENTION_SIGNATURE,
    EXAMPLES_INPUT,
    HISTORY_LENGTH_FEATURE,
    PROBABILITY,
    RAW_SIGNATURE,
)
from mian.tools.figures import attention_heatmaps
from mian.tools.score import read_examples


def attention_of(model_dir: str, input_path: str, cases: int) -> list[dict]:
    """The first `cases` examples of `input_path` with their probability and attention weights."""
    model = tf.saved_model.load(model_dir)
    if ATTENTION_SIGNATURE not in model.signatures:
        raise ValueError(f"{model_dir} has no {ATTENTION_SIGNATURE!r} signature: only MIAN explains itself")
    raw_inputs = model.signatures[RAW_SIGNATURE].structured_input_signature[1]
    kinds = {k: spec.dtype.as_datatype_enum for k, spec in raw_inputs.items() if k != HISTORY_LENGTH_FEATURE}
    examples = list(itertools.islice(read_examples(input_path, lambda: kinds), cases))
    if not examples:
        raise ValueError(f"{input_path} holds no examples")
    outputs = model.signatures[ATTENTION_SIGNATURE](**{EXAMPLES_INPUT: tf.constant(examples)})
    with tf.io.gfile.GFile(os.path.join(model_dir, ATTENTION_NAMES_FILE)) as f:
        written = json.load(f)
    # The dataset config's item column and its history feature, as the export recorded them.
    names, item, history_feature = (
        written[k] for k in ("gim_representations", "item_feature", "history_feature")
    )
    explained = []
    for i, serialized in enumerate(examples):
        features = tf.train.Example.FromString(serialized).features.feature
        history = (
            [v.decode() for v in features[history_feature].bytes_list.value]
            if history_feature in features
            else []
        )
        steps = min(len(history), int(outputs["ibim_weights"].shape[1]))
        explained.append(
            {
                "case": i,
                "item_id": features[item].bytes_list.value[0].decode() if item in features else "",
                "probability": float(outputs[PROBABILITY][i, 0]),
                "gim_weights": dict(zip(names, map(float, outputs["gim_weights"][i]), strict=True)),
                "history": history[:steps],
                "ibim_weights": [float(w) for w in outputs["ibim_weights"][i, :steps]],
            }
        )
    return explained


def explain(model_dir: str, input_path: str, cases: int, out_png: str) -> str:
    """Writes the picture to `out_png` and the weights beside it as JSON; returns the JSON path."""
    explained = attention_of(model_dir, input_path, cases)
    attention_heatmaps(explained, out_png)
    json_path = os.path.splitext(out_png)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(explained, f, indent=1)
    return json_path
