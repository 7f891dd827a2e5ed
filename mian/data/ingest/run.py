"""Running the ingestion on its own (the command line, benchmarks, tests), outside a TFX pipeline."""

from __future__ import annotations

import os

import apache_beam as beam

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest import accounting
from mian.data.ingest.passes import ingest_in_passes
from mian.data.ingest.spans import SpanInputs


def examples_dir(out_dir: str) -> str:
    return os.path.join(out_dir, "examples")


def rejected_dir(out_dir: str) -> str:
    return os.path.join(out_dir, "rejected")


def run_to_directory(
    config: DatasetConfig, data_dir: str, out_dir: str, beam_args=(), span: SpanInputs | None = None
) -> dict[str, int]:
    """Run the ingestion (of one `span`, for daily partitions) in a Beam pipeline of its own, into
    out_dir/examples and out_dir/rejected; return the counts it wrote (see accounting)."""
    ingest_in_passes(
        lambda: beam.Pipeline(argv=list(beam_args)),
        config,
        data_dir,
        examples_dir(out_dir),
        rejected_dir(out_dir),
        beam_args,
        span,
    )
    return accounting.load_stats(rejected_dir(out_dir))
