"""Warm start: the Trainer's new model starts from the newest pushed model of its pipeline.

A pushed SavedModel carries what rebuilding its Keras model needs (`WARM_START_DIR`: the feature spec
and the hyperparameters; the weights are the SavedModel's own variables, and the vocabularies its
Transform assets). The new model takes every weight whose shape and meaning are unchanged. Embedding
tables, and the look-up counts that admit their ids (mian_keras.layers.admitted_embedding), are carried
over by token, because Transform builds its vocabularies anew each run and row i
is not yesterday's token i: a token's row moves to its new index, a new token keeps its fresh row, a
dropped token's row goes; the padding row and, when their number is unchanged, the out-of-vocabulary
buckets (the same hash of the same value) are copied as they are. A changed model (another registry
model, a field added or dropped, another embedding width or layer size) starts cold, and says why in
one line.

The source is found when the Trainer runs (the newest version under the push destination), not when
the pipeline is compiled, and it needs no resolver: the same code runs under LocalDagRunner and on
Kubeflow. The Trainer's cache is untouched by it: unchanged training data is still a cache hit.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

import numpy as np
import tensorflow as tf
import tf_keras as keras

from mian.numbered_dirs import newest_numbered
from mian.stages.model_files import SPEC_FILE, model_name_in, rebuild_model, write_json

# Beside the pushed SavedModel (TF Serving ignores assets.extra): its model files (mian.stages.model_files).
WARM_START_DIR = "assets.extra/warm_start"
# Among a daily window's model files: the newest span (YYYY-MM-DD) the model has trained on, which
# tells the next day's window what the model has not seen (mian.data.ingest.window).
TRAINED_THROUGH_FILE = "trained_through.json"
# A Transform vocabulary inside a SavedModel: assets/<vocabulary name>, one token a line.
ASSETS_DIR = "assets"
# An embedding table's variables with a row per id: FeatureEmbedding names each table `table_<field>`.
_TABLE = re.compile(r"(?:^|/)table_(?P<field>[^/]+)/(?:embeddings|lookups):0$")
# Keras' per-process suffixes of automatic layer names (dense_3): two builds of one model differ by them.
_UID = re.compile(r"_\d+(?=/|:)")


@dataclasses.dataclass(frozen=True)
class WarmStart:
    """Where the weights came from: `source` (None: a cold start, for `reason`), and per embedding
    table how many rows were carried over by token, are new, and were dropped."""

    source: str | None
    reason: str = ""
    rows: dict = dataclasses.field(default_factory=dict)

    @property
    def warm(self) -> bool:
        return self.source is not None

    def line(self) -> str:
        if not self.warm:
            return f"cold start: {self.reason}"
        kept = sum(r["kept"] for r in self.rows.values())
        new = sum(r["new"] for r in self.rows.values())
        dropped = sum(r["dropped"] for r in self.rows.values())
        return (
            f"warm start from {self.source}: every weight copied, embedding rows by token: {kept} kept, "
            f"{new} new, {dropped} dropped"
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def newest_pushed(serving_dir: str | None) -> str | None:
    """The newest pushed version that carries warm-start files, or None."""
    newest = newest_numbered(serving_dir) if serving_dir else None
    if newest is None or not tf.io.gfile.exists(os.path.join(newest, WARM_START_DIR, SPEC_FILE)):
        return None
    return newest


def write_trained_through(directory: str, span: str) -> None:
    write_json(os.path.join(directory, TRAINED_THROUGH_FILE), {"span": span})


def trained_through(source: str) -> str | None:
    """The newest span the pushed model at `source` trained on; None when it does not say (trained on
    a whole log, or by an earlier version of mian)."""
    path = os.path.join(source, WARM_START_DIR, TRAINED_THROUGH_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)["span"]


def warm_start(model: keras.Model, model_name: str, vocabularies: dict, source: str | None) -> WarmStart:
    """Copy the weights of the pushed model at `source` into `model` (a `model_name` just built).

    `vocabularies` maps each embedded field to the token list of the new model's rows 1..V (as
    Transform wrote it). Nothing is copied unless every weight can be: a partial copy would be neither
    yesterday's model nor a fresh one.
    """
    if source is None:
        return WarmStart(None, "no pushed model to start from")
    files = os.path.join(source, WARM_START_DIR)
    old_name = model_name_in(files)
    if old_name != model_name:
        return WarmStart(None, f"the pushed model is {old_name!r}, this one {model_name!r}")
    try:
        old_model = rebuild_model(files)
    except (KeyError, TypeError, ValueError) as error:  # hyperparameters this version does not know
        return WarmStart(None, f"the pushed model cannot be rebuilt by this version of mian: {error}")
    # The SavedModel is the export's tf.Module, whose `model` attribute is the Keras model.
    tf.train.Checkpoint(model=old_model).read(os.path.join(source, "variables", "variables")).expect_partial()
    new_weights, old_weights = model.weights, old_model.weights
    if len(new_weights) != len(old_weights):
        return WarmStart(None, f"the model changed: {len(old_weights)} weights then, {len(new_weights)} now")
    plan, rows, old_vocabularies = [], {}, {}
    for new, previous in zip(new_weights, old_weights, strict=True):
        if _UID.sub("", new.name) != _UID.sub("", previous.name):
            return WarmStart(None, f"the model changed: {previous.name} then, {new.name} in its place now")
        table = _TABLE.search(new.name)
        if table and new.shape[1:] == previous.shape[1:]:
            field = table.group("field")
            if field not in old_vocabularies:  # a table's rows and its look-up counts share it
                old_vocabularies[field] = _vocabulary(source, field)
            value, rows[field] = _carried_rows(
                new.numpy(), previous.numpy(), vocabularies[field], old_vocabularies[field]
            )
        elif new.shape == previous.shape:
            value = previous.numpy()
        else:
            return WarmStart(None, f"the model changed: {new.name} is {new.shape}, was {previous.shape}")
        plan.append((new, value))
    for variable, value in plan:
        variable.assign(value)
    return WarmStart(source, rows=rows)


def _vocabulary(source: str, field: str) -> list[bytes]:
    with tf.io.gfile.GFile(os.path.join(source, ASSETS_DIR, field), "rb") as f:
        return f.read().splitlines()


def _carried_rows(fresh: np.ndarray, old: np.ndarray, tokens: list[bytes], old_tokens: list[bytes]):
    """The new table: `fresh` with the old rows moved to their tokens' new indices; and the counts.

    Row layout (mian.stages.transform): 0 padding, 1..V the vocabulary, then the OOV buckets.
    """
    table = fresh.copy()
    table[0] = old[0]
    old_index = {token: i for i, token in enumerate(old_tokens)}
    kept = 0
    for i, token in enumerate(tokens):
        j = old_index.get(token)
        if j is not None:
            table[1 + i] = old[1 + j]
            kept += 1
    oov, old_oov = len(table) - 1 - len(tokens), len(old) - 1 - len(old_tokens)
    if oov == old_oov:
        table[1 + len(tokens) :] = old[1 + len(old_tokens) :]
    return table, {"kept": kept, "new": len(tokens) - kept, "dropped": len(old_tokens) - kept}
