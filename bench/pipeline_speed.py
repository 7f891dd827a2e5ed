"""The pipeline's data stages at scale: seconds per component, examples/s and peak memory, up to Transform.

Runs `mian run`'s pipeline (LocalDagRunner) on a data directory up to the Transform component, with
the given Beam arguments (by default the DirectRunner's multi-processing mode on 2 workers), and prints
each component's seconds from ML Metadata, the examples/s of ingestion and Transform on the examples
ingestion wrote, and the peak resident memory of the whole process tree (sampled every 0.2 s), over
the whole run and within each component's window (from its execution's creation to its last update).
Generate the data first, e.g. with `bench/ingest_speed.py --work DIR` (its DIR/data).

Usage: python bench/pipeline_speed.py --data DIR [--work DIR] [-- <Beam options>]
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import tensorflow as tf  # noqa: E402
from ingest_speed import TreeMemory  # noqa: E402

from mian.cli.run_report import read_report  # noqa: E402
from mian.config.pipeline_config import PipelineConfig  # noqa: E402
from mian.pipeline.local_runner import run  # noqa: E402

MULTI_PROCESS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="a data directory with its dataset.yaml")
    parser.add_argument("--work", default="runs/scale/pipeline")
    args, beam_args = parser.parse_known_args()
    beam_args = [a for a in beam_args if a != "--"] or MULTI_PROCESS
    config = PipelineConfig(
        data_dir=os.path.abspath(args.data),
        pipeline_name="scale",
        output_root=os.path.abspath(args.work),
        beam_args=tuple(beam_args),
        enable_cache=False,
    )
    memory = TreeMemory()
    memory.start()
    started = time.perf_counter()
    run(config, until="Transform")
    seconds = time.perf_counter() - started
    report = read_report(config.metadata_path, config.pipeline_name)
    examples = _count_examples(config)
    print(f"Beam: {' '.join(beam_args)}; {examples:,} examples written by ingestion")
    print(f"{'component':<22} {'seconds':>8} {'examples/s':>11} {'peak RSS MiB':>12}")
    for component in report.components:
        rate = examples / component.seconds if component.seconds else 0
        peak = memory.peak_between(component.started, component.started + component.seconds)
        shown = "-" if peak is None else f"{peak:,.0f}"  # a window shorter than the sampling period
        print(f"{component.component:<22} {component.seconds:>8.1f} {rate:>11,.0f} {shown:>12}")
    print(f"whole run to Transform: {seconds:.0f} s; peak RSS of the process tree {memory.peak_mib:,.0f} MiB")


def _count_examples(config: PipelineConfig) -> int:
    root = os.path.join(config.pipeline_root, "ClickLogExampleGen", "examples")
    files = glob.glob(os.path.join(root, "*", "Split-*", "*"))
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))


if __name__ == "__main__":
    main()
