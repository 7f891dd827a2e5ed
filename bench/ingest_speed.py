"""Examples per second and peak memory of the ingestion pipeline, single- and multi-process.

Generates synthetic click logs of about --impressions impressions once (kept in WORK/data and reused
by a later run on the same --work), then runs the Beam pipeline on them with DirectRunner in-process
and with --direct_running_mode=multi_processing, each in its own child process, in the passes over
parts of the users that the dataset config's `passes` ("auto") gives the DirectRunner. Peak memory
is the largest sum of resident memory over the child and all its worker processes, sampled every 0.2 s.

Usage: python bench/ingest_speed.py [--impressions 1000000] [--workers 2] [--work DIR] [--modes single multi]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import psutil


def _child(data_dir: str, out_dir: str, beam_args: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mian.config.dataset_config import DatasetConfig, config_path
    from mian.data.ingest import accounting
    from mian.data.ingest.passes import pass_count
    from mian.data.ingest.run import rejected_dir, run_to_directory

    config = DatasetConfig.load(config_path(data_dir))
    memory = TreeMemory()
    memory.start()
    start = time.perf_counter()
    stats = run_to_directory(config, data_dir, out_dir, beam_args)
    seconds = time.perf_counter() - start
    examples = accounting.examples_written(stats)
    try:
        accounting.check_books(stats, config.max_reject_share, rejected_dir(out_dir))
        books = "balanced"
    except accounting.BooksDoNotBalance as error:
        books = str(error)
    passes = pass_count(config, data_dir, beam_args)
    report = {"seconds": seconds, "examples": examples, "peak_mib": memory.peak_mib, "books": books,
              "passes": passes}  # fmt: skip
    print(json.dumps(report))


class TreeMemory(threading.Thread):
    """Samples the resident memory of this process and all its descendants every 0.2 s, each sample as
    (seconds since the epoch, MiB): the peak of the whole run and of parts of it (`peak_between`)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []

    def run(self):
        me = psutil.Process()
        while True:
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.samples.append((time.time(), total / 2**20))
            time.sleep(0.2)

    @property
    def peak_mib(self) -> float:
        return max((mib for _, mib in self.samples), default=0.0)

    def peak_between(self, start: float, end: float) -> float | None:
        """The largest sample taken from `start` to `end` (seconds since the epoch), or None if the
        window fell between two samples."""
        return max((mib for at, mib in self.samples if start <= at <= end), default=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--impressions", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    parser.add_argument("--modes", nargs="+", choices=("single", "multi"), default=["single", "multi"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args, beam_args = parser.parse_known_args()
    if args.child:
        _child(*args.child, beam_args)
        return

    from mian.config.dataset_config import config_path
    from mian.data.synthetic import GeneratorConfig, generate

    work = args.work or tempfile.mkdtemp(prefix="mian-ingest-bench-")
    data_dir = os.path.join(work, "data")
    # About 4.8 impressions per user per day at the generator's defaults (0.4 activity x 4 + new users).
    users = max(10, args.impressions // (30 * 1.3))
    if os.path.exists(config_path(data_dir)):
        print(f"reusing the logs generated in {data_dir}")
    else:
        start = time.perf_counter()
        counts = generate(data_dir, GeneratorConfig(users=int(users), items=20_000, days=30, seed=0))
        print(
            f"generated {counts['impressions']:,} impressions ({counts['clicks']:,} clicks) of "
            f"{counts['users']:,} users in {time.perf_counter() - start:.0f} s into {data_dir}"
        )

    modes = {
        "single": ("single process (in_memory)", []),
        "multi": (
            f"multi_processing x{args.workers}",
            ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"],
        ),
    }
    print(
        f"{'runner':<28} {'passes':>6} {'examples':>10} {'seconds':>8} {'examples/s':>11}"
        f" {'peak RSS MiB':>12}  books"
    )
    for mode in args.modes:
        name, beam_args = modes[mode]
        out_dir = os.path.join(work, mode)
        shutil.rmtree(out_dir, ignore_errors=True)  # a rerun must not count an earlier run's files
        command = [sys.executable, __file__, "--child", data_dir, out_dir, *beam_args]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        # A part the runner lost impressions of is written again (mian/data/ingest/passes.py): say so.
        for line in result.stderr.splitlines():
            if "the runner lost" in line:
                print(f"  {line.strip()}")
        rate = report["examples"] / report["seconds"]
        print(
            f"{name:<28} {report['passes']:>6} {report['examples']:>10,} {report['seconds']:>8.1f}"
            f" {rate:>11,.0f} {report['peak_mib']:>12,.0f}  {report['books']}"
        )


if __name__ == "__main__":
    main()
