"""Multi-process Beam against in-memory Beam: the same examples, vocabularies and model inputs.

Runs the pipeline (LocalDagRunner) up to Transform twice on one data directory: with the DirectRunner
in one process (no Beam options, what `mian run` ships with) and in its multi-processing mode
on 2 workers, the mode that stands in for a distributed runner on one machine (work split into
bundles, run in other processes, outputs merged). Then compares, split by split, ExampleGen's examples
and Transform's transformed examples as multisets of records (the order of records in the output
files is not part of the contract): ids, strings and counts exactly, float features within 1e-5 (a
scaling's mean and variance are sums whose order follows the bundles, so the last float bit may
differ), and Transform's vocabulary files byte for byte. Prints the counts and the largest float
difference, and exits 1 on any difference.

Usage: python bench/pipeline_equivalence.py [--data DIR] [--work DIR]
(without --data: a generated synthetic log of --users users over --days days)
"""

from __future__ import annotations

import argparse
import filecmp
import glob
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from pipeline_speed import MULTI_PROCESS  # noqa: E402

from mian.config.dataset_config import config_path  # noqa: E402
from mian.config.pipeline_config import PipelineConfig  # noqa: E402
from mian.data.synthetic import GeneratorConfig, generate  # noqa: E402
from mian.numbered_dirs import newest_numbered  # noqa: E402
from mian.pipeline.local_runner import run  # noqa: E402

MODES = {"in-memory": (), "multi-process": tuple(MULTI_PROCESS)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="a data directory with its dataset.yaml")
    parser.add_argument("--work", default="runs/scale/equivalence")
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--compare-only", action="store_true", help="compare the outputs of an earlier run")
    args = parser.parse_args()
    work = os.path.abspath(args.work)
    data = os.path.abspath(args.data) if args.data else os.path.join(work, "data")
    if not os.path.exists(config_path(data)):
        generate(data, GeneratorConfig(users=args.users, items=args.users // 2, days=args.days, seed=11))
    roots = {}
    for mode, beam_args in MODES.items():
        config = PipelineConfig(
            data_dir=data,
            pipeline_name=mode,
            output_root=work,
            beam_args=beam_args,
            enable_cache=False,
        )
        if not args.compare_only:
            run(config, until="Transform")
        roots[mode] = config.pipeline_root

    differences = 0
    print(f"{'output':<42} {'in-memory':>10} {'multi-process':>14}  same (largest float difference)")
    for output, component in (("examples", "ClickLogExampleGen"), ("transformed_examples", "Transform")):
        splits = {mode: _records_by_split(root, component, output) for mode, root in roots.items()}
        for split in sorted(set().union(*splits.values())):
            one, many = (splits[mode].get(split, []) for mode in MODES)
            same, largest = _same_records(one, many)
            differences += not same
            name = f"{component} {output} {split}"
            print(f"{name:<42} {len(one):>10,} {len(many):>14,}  {'yes' if same else 'NO'} ({largest:.1e})")
    vocabularies = {mode: _assets(root) for mode, root in roots.items()}
    one, many = vocabularies.values()
    for name in sorted(set(one) | set(many)):
        same = name in one and name in many and filecmp.cmp(one[name], many[name], shallow=False)
        differences += not same
        print(f"{'Transform vocabulary ' + name:<42} {'':>10} {'':>14}  {'yes' if same else 'NO'}")
    print("equivalent" if not differences else f"{differences} outputs differ")
    return 1 if differences else 0


Record = tuple[tuple, np.ndarray]


def _records_by_split(root: str, component: str, output: str) -> dict[str, list[Record]]:
    """The records of each split of the newest output of `component`, as (exact part, floats), sorted."""
    newest = newest_numbered(os.path.join(root, component, output))
    splits = {}
    for directory in sorted(glob.glob(os.path.join(newest, "Split-*"))):
        files = sorted(glob.glob(os.path.join(directory, "*")))
        records = [_parse(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
        splits[os.path.basename(directory)] = sorted(records, key=lambda r: (r[0], tuple(np.round(r[1], 4))))
    return splits


def _parse(serialized: bytes) -> Record:
    """An Example's ids, strings and float counts (compared exactly), and its float values."""
    exact, floats = [], []
    for name, feature in sorted(tf.train.Example.FromString(serialized).features.feature.items()):
        values = list(feature.int64_list.value) or list(feature.bytes_list.value)
        exact.append((name, tuple(values), len(feature.float_list.value)))
        floats.extend(feature.float_list.value)
    return tuple(exact), np.array(floats, np.float64)


def _same_records(one: list[Record], many: list[Record]) -> tuple[bool, float]:
    """Whether two sorted record lists agree (floats within 1e-5), and the largest float difference."""
    if len(one) != len(many) or any(a[0] != b[0] for a, b in zip(one, many, strict=True)):
        return False, float("nan")
    largest = max(
        (float(np.max(np.abs(a[1] - b[1]), initial=0.0)) for a, b in zip(one, many, strict=True)), default=0.0
    )
    return largest <= 1e-5, largest


def _assets(root: str) -> dict[str, str]:
    newest = newest_numbered(os.path.join(root, "Transform", "transform_graph"))
    return {os.path.basename(p): p for p in glob.glob(os.path.join(newest, "transform_fn", "assets", "*"))}


if __name__ == "__main__":
    sys.exit(main())
