"""Runs the pipeline on this machine with TFX's LocalDagRunner (MLMD in SQLite, caching on).

    python pipeline/local_runner.py [PIPELINE_CONFIG]      # or: mian run
    tfx pipeline create --engine=local --pipeline_path=pipeline/local_runner.py
    tfx run create --engine=local --pipeline_name=mian

The pipeline config comes from the first argument or $MIAN_PIPELINE_CONFIG (default: configs/pipeline.yaml,
the synthetic data under runs/data).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from tfx import v1 as tfx

from mian.config.pipeline_config import PipelineConfig, default_config_path
from mian.pipeline.mian_pipeline import create_pipeline


def local_pipeline(config: PipelineConfig, until: str | None = None) -> tfx.dsl.Pipeline:
    return create_pipeline(
        config, tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path), until
    )


def run(config: PipelineConfig, until: str | None = None) -> None:
    """Run the pipeline with LocalDagRunner (up to the component `until`, when given)."""
    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    tfx.orchestration.LocalDagRunner().run(local_pipeline(config, until))


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MIAN_PIPELINE_CONFIG", default_config_path())
    run(PipelineConfig.load(path))
