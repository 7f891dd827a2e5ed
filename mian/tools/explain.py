"""`mian explain`: MIAN's attention for a few cases, as a picture and as JSON (the paper's Figure 6).

From a pushed SavedModel's `attention` signature: per case, the click probability, the seven (with the
shipped configs) GIM weights over the representations of Eq. 14 (which interaction the prediction
leans on) and the IBIM weights over the behaviors (which earlier clicks matter for this candidate,
Eq. 7). The picture has one row per case: the GIM weights as a heatmap on the left, the IBIM weights
over the valid behavior steps on the right (newest first); darker is more weight.
"""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw, ImageFont

from mian.names import (
    ATTENTION_NAMES_FILE,
    ATTENTION_SIGNATURE,
    EXAMPLES_INPUT,
    HISTORY_LENGTH_FEATURE,
    PROBABILITY,
    RAW_SIGNATURE,
)
from mian.tools.score import read_examples

CELL = 28
LABEL_WIDTH = 150
HEADER = 120


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


def draw(cases: list[dict], path: str) -> None:
    names = list(cases[0]["gim_weights"])
    steps = max(1, max(len(c["ibim_weights"]) for c in cases))
    gim_width = len(names) * CELL
    # Wide enough for the IBIM title (about 6 pixels a character) when histories are short.
    width = LABEL_WIDTH + gim_width + CELL + max(steps * CELL, 320) + 10
    height = HEADER + len(cases) * CELL + 10
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    pen.text((LABEL_WIDTH, 4), "GIM weights (Eq. 15)", fill="black", font=font)
    pen.text(
        (LABEL_WIDTH + gim_width + CELL, 4), "IBIM weights over behaviors, newest first (Eq. 7)", fill="black"
    )
    for j, name in enumerate(names):  # column labels, written downwards
        column = Image.new("RGB", (HEADER - 24, CELL), "white")
        ImageDraw.Draw(column).text((2, 8), name, fill="black", font=font)
        image.paste(column.rotate(90, expand=True), (LABEL_WIDTH + j * CELL, 22))
    for i, case in enumerate(cases):
        top = HEADER + i * CELL
        pen.text((4, top + 8), f"#{case['case']} {case['item_id']} p={case['probability']:.2f}", fill="black")
        gim = np.array(list(case["gim_weights"].values()))
        for j, weight in enumerate(gim):
            _cell(pen, LABEL_WIDTH + j * CELL, top, weight / max(gim.max(), 1e-9))
        ibim = np.array(case["ibim_weights"])
        for t, weight in enumerate(ibim):
            _cell(pen, LABEL_WIDTH + gim_width + CELL + t * CELL, top, weight / max(ibim.max(), 1e-9))
    image.save(path)


def _cell(pen: ImageDraw.ImageDraw, left: int, top: int, shade: float) -> None:
    """A square whose blue deepens with `shade` in [0, 1] (each row scaled to its own maximum)."""
    level = int(255 * (1.0 - 0.85 * float(np.clip(shade, 0.0, 1.0))))
    pen.rectangle([left, top, left + CELL - 2, top + CELL - 2], fill=(level, level, 255), outline="grey")


def explain(model_dir: str, input_path: str, cases: int, out_png: str) -> str:
    """Writes the picture to `out_png` and the weights beside it as JSON; returns the JSON path."""
    explained = attention_of(model_dir, input_path, cases)
    draw(explained, out_png)
    json_path = os.path.splitext(out_png)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(explained, f, indent=1)
    return json_path
