"""`mian train-worker`: one worker of a training job on a pipeline's Transform output, outside TFX.

The pipeline's Trainer calls `run_fn` in one process. A training job over several machines (a Vertex AI
or Kubeflow worker pool, a Kubernetes job: deploy/train-workers.yaml) runs this command in every one of
them with TF_CONFIG naming the cluster and the process's own task: the same `run_fn` then trains under
MultiWorkerMirroredStrategy, and the chief writes the run directory and the serving SavedModel.
"""

from __future__ import annotations

import glob
import json
import os
import socket

from tfx import v1 as tfx

from mian.config.pipeline_config import PipelineConfig
from mian.stages.trainer import run_fn, trainer_custom_config
from mian.stages.transform import transform_custom_config


def localhost_tf_configs(workers: int) -> list[str]:
    """The TF_CONFIG of each of `workers` processes that train as one job on this machine (free
    localhost ports): a cluster to try multi-worker training on before the real one."""
    sockets = [socket.socket() for _ in range(workers)]
    for s in sockets:
        s.bind(("localhost", 0))
    cluster = {"worker": [f"localhost:{s.getsockname()[1]}" for s in sockets]}
    for s in sockets:
        s.close()
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(workers)]


def split_files(transformed_examples: str, split: str) -> list[str]:
    """The files of one split of a Transform output (TFX's Split-<name> layout)."""
    files = sorted(glob.glob(os.path.join(transformed_examples, f"Split-{split}", "*")))
    if not files:
        raise ValueError(f"{transformed_examples} has no Split-{split}/ files: is it Transform's output?")
    return files


def train_worker(
    config: PipelineConfig, transform_graph: str, transformed_examples: str, run_dir: str, serving_dir: str
) -> None:
    """Train as the pipeline's Trainer does, on `config`'s dataset and training settings."""
    transform_config = transform_custom_config(config.dataset(), config.vocabulary)
    custom_config = trainer_custom_config(transform_config, config.training, os.path.join(run_dir, "backup"))
    run_fn(
        tfx.components.FnArgs(
            train_files=split_files(transformed_examples, "train"),
            eval_files=split_files(transformed_examples, "eval"),
            transform_output=transform_graph,
            transform_graph_path=transform_graph,
            model_run_dir=run_dir,
            serving_model_dir=serving_dir,
            custom_config=custom_config,
        )
    )
