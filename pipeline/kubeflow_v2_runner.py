"""Compiles the pipeline to a Kubeflow Pipelines v2 spec for Vertex AI Pipelines or open-source KFP 2.

    python pipeline/kubeflow_v2_runner.py PIPELINE_CONFIG --image REGISTRY/mian:TAG [--out mian_pipeline.json]

`--out *.json` writes the PipelineJob Vertex AI Pipelines reads; `--out *.yaml` the bare PipelineSpec
open-source KFP reads. The spec holds no resolver (the Evaluator's baseline and the warm start read
the push destination when they run) and nothing decided from the data: the components that resolve
the span and the served model when they run (mian_pipeline.RESOLVED_AT_RUN_TIME) are compiled
uncached, since Kubeflow runs no custom driver to put what they found into their cache key.

Every component runs in the image built from the repo's Dockerfile (the mian package installed, so
the module file's functions and the custom components import by name). In the pipeline config,
data_dir, output_root and serving_dir should be storage all workers reach (gs://...), and beam_args
can send the Beam components to Dataflow (see BUILD.md). No metadata connection is set: the
orchestrator brings its own ML Metadata.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf
import yaml  # type: ignore[import-untyped]  # (no stubs installed)
from tfx import v1 as tfx

from mian.config.pipeline_config import PipelineConfig
from mian.pipeline.mian_pipeline import RESOLVED_AT_RUN_TIME, create_pipeline

PIPELINE_FILE = "mian_pipeline.json"


def compile_pipeline(config: PipelineConfig, image: str, output_path: str) -> str:
    """Writes the pipeline's KFP v2 spec to `output_path` (a PipelineJob JSON, or a bare PipelineSpec
    YAML when the path ends in .yaml or .yml) and returns the path."""
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(os.path.abspath(output_path)),
    )
    job = runner.run(create_pipeline(config), write_out=False)
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    for name in RESOLVED_AT_RUN_TIME:
        tasks.get(name, {}).pop("cachingOptions", None)
    tf.io.gfile.makedirs(os.path.dirname(os.path.abspath(output_path)))
    with tf.io.gfile.GFile(output_path, "w") as f:
        if output_path.endswith((".yaml", ".yml")):
            yaml.safe_dump(job["pipelineSpec"], f, sort_keys=True)
        else:
            json.dump(job, f, sort_keys=True, indent=1)
    return output_path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="pipeline config YAML")
    parser.add_argument("--image", required=True, help="container image built from the Dockerfile")
    parser.add_argument(
        "--out", default=PIPELINE_FILE, help="*.json: Vertex AI's PipelineJob; *.yaml: KFP's PipelineSpec"
    )
    args = parser.parse_args()
    print(compile_pipeline(PipelineConfig.load(args.config), args.image, args.out))


if __name__ == "__main__":
    main()
