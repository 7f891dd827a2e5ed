"""Compiles the pipeline to a Kubeflow Pipelines v2 spec (JSON) for Vertex AI Pipelines or KFP 2.

    python pipeline/kubeflow_v2_runner.py PIPELINE_CONFIG --image REGISTRY/mian:TAG [--out mian_pipeline.json]

Every component runs in the image built from the repo's Dockerfile (the mian package installed, so
the module file's functions and the custom components import by name). In the pipeline config,
data_dir, output_root and serving_dir should be storage all workers reach (gs://...), and beam_args
can send the Beam components to Dataflow (see BUILD.md). No metadata connection is set: the
orchestrator brings its own ML Metadata.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tfx import v1 as tfx

from mian.config.pipeline_config import PipelineConfig
from mian.pipeline.mian_pipeline import create_pipeline

PIPELINE_FILE = "mian_pipeline.json"


def compile_pipeline(config: PipelineConfig, image: str, output_path: str) -> str:
    """Writes the pipeline's KFP v2 spec to `output_path` and returns the path."""
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(os.path.abspath(output_path)),
        output_filename=os.path.basename(output_path),
    )
    runner.run(create_pipeline(config))
    return output_path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="pipeline config YAML")
    parser.add_argument("--image", required=True, help="container image built from the Dockerfile")
    parser.add_argument("--out", default=PIPELINE_FILE)
    args = parser.parse_args()
    print(compile_pipeline(PipelineConfig.load(args.config), args.image, args.out))


if __name__ == "__main__":
    main()
