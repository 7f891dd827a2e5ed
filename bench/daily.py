"""A daily run against a from-scratch run over the same days, side by side in one invocation.

Generates DAYS days of synthetic logs partitioned by day (`--users` sets the size: the default makes
about 150,000 impressions a day), then runs the daily pipeline (configs/daily.yaml's settings: a
7-day train window, one eval day, the newest day tested, the Trainer warm) two ways:
- full: a fresh pipeline root ingests every day (`mian run --backfill FIRST LAST`) and trains cold on
  the window that tests on the last day;
- daily: a pipeline root that already ran the days before the last (ingested, trained, pushed: not
  timed) runs the last day alone: one span ingested, the Trainer warm from the newest pushed model.
Prints each run's wall seconds, their ratio, each component's seconds and the test AUC on the last day.

Usage: python bench/daily.py [--users N] [--days 8] [--work runs/bench/daily]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from mian.cli.local_run import run_pipeline  # noqa: E402
from mian.config.pipeline_config import PipelineConfig  # noqa: E402
from mian.data.ingest.spans import parse_span, span_name  # noqa: E402
from mian.data.synthetic import GeneratorConfig, generate  # noqa: E402
from mian.pipeline.mian_pipeline import last_span_check  # noqa: E402


def timed_backfill(config: PipelineConfig, days: list[str]):
    """`mian run --backfill days[0] days[-1]` in process: (seconds, the last run's report)."""
    started = time.monotonic()
    for day in days[:-1]:
        _, error, log = run_pipeline(
            config.replace(span=day), out=io.StringIO(), until=last_span_check(config)
        )
        if error:
            raise SystemExit(f"{day}: {error} (see {log})")
    report, error, log = run_pipeline(config.replace(span=days[-1]), out=io.StringIO())
    if error:
        raise SystemExit(f"{days[-1]}: {error} (see {log})")
    return time.monotonic() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=112_000, help="about 1.3 impressions per user a day")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--work", default="runs/bench/daily")
    args = parser.parse_args()
    work = os.path.abspath(args.work)
    data = os.path.join(work, "data")
    generated = GeneratorConfig(
        users=args.users, items=args.items, days=args.days, seed=0, partition_by_day=True
    )
    if not os.path.exists(os.path.join(data, "dataset.yaml")):
        counts = generate(data, generated)
        print(f"generated {counts['impressions']:,} impressions over {args.days} days into {data}")
    days = [span_name(parse_span(generated.start) + d) for d in range(args.days)]
    shipped = PipelineConfig.load(os.path.join(REPO, "configs", "daily.yaml"))
    base = shipped.replace(data_dir=data, synthetic_data=None, output_root=os.path.join(work, "runs"))

    daily = base.replace(pipeline_name="daily")
    timed_backfill(daily, days[:-1])  # the days before: as they would have run, not timed
    started = time.monotonic()
    daily_report, error, log = run_pipeline(daily.replace(span=days[-1]), out=io.StringIO())
    daily_seconds = time.monotonic() - started
    if error:
        raise SystemExit(f"daily run: {error} (see {log})")

    full_seconds, full_report = timed_backfill(base.replace(pipeline_name="full"), days)

    print(f"\nthe last day, {days[-1]}, tested; window: {base.window}")
    print(f"{'component':<32} {'daily s':>9} {'full s':>9}")
    full_states = {c.component: c for c in full_report.components}
    for component in daily_report.components:
        other = full_states.get(component.component)
        print(f"{component.component:<32} {component.seconds:>9.1f} {other.seconds if other else 0.0:>9.1f}")
    print(f"{'wall (full: every span ingested)':<32} {daily_seconds:>9.1f} {full_seconds:>9.1f}")
    print(f"daily / full wall: {daily_seconds / full_seconds:.3f} (bound 0.35)")
    daily_auc, full_auc = daily_report.overall["auc"], full_report.overall["auc"]
    print(f"test AUC on {days[-1]}: daily {daily_auc:.4f}, full {full_auc:.4f} (bound: full - 0.002)")


if __name__ == "__main__":
    main()
