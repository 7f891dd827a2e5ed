"""The served model: the newest version under the push destination, which the Evaluator's baseline is.

The Pusher pushes only blessed models, so the newest pushed version is the last blessed one: what
TFX's LatestBlessedModelStrategy resolver finds in ML Metadata, read here from the push destination
instead, because open-source Kubeflow Pipelines v2 does not run resolver executors.
"""

from __future__ import annotations

import os

import tensorflow as tf

from mian.numbered_dirs import newest_numbered

# The Model artifact's custom property that says the pipeline had no served model yet.
ABSENT = "absent"
# Where TFX's Evaluator reads a Model artifact's SavedModel.
SERVING_FORMAT = "Format-Serving"


def served_version(push_dir: str) -> str:
    """The newest version under `push_dir` that holds a SavedModel, or "" when none does."""
    newest = newest_numbered(push_dir) if push_dir else None
    if newest is None or not tf.io.gfile.exists(os.path.join(newest, "saved_model.pb")):
        return ""
    return newest
