"""The daily pipeline, day by day, under LocalDagRunner on generated logs partitioned by day.

Day 1 backfills the window's spans and starts cold; day 2 ingests its own span only and trains warm
from day 1's pushed model; a repeated day 2 is served from the cache; a changed span is a new version;
a backfill of the two days in a fresh pipeline writes the same examples as the daily runs; a day whose
device column drifted stops at the drift gate, and `gates.drift: warn` lets it through.
"""

import csv
import dataclasses
import glob
import io
import json
import os
import shutil

import pytest
import yaml
from ml_metadata.metadata_store import metadata_store
from tfx.orchestration import metadata

from mian.cli.local_run import run_pipeline
from mian.cli.main import main
from mian.components.drift_gate import DRIFT_FILE
from mian.config.pipeline_config import PipelineConfig
from mian.data.ingest import accounting
from mian.data.ingest.pipeline import SPAN_SPLIT, split_dir
from mian.data.ingest.span_store import span_records
from mian.data.ingest.spans import parse_span, span_name
from mian.data.ingest.window import WINDOW_FILE
from mian.data.synthetic import GeneratorConfig, generate
from mian.names import UNTRANSFORMED_SPLITS_FILE
from mian.numbered_dirs import newest_numbered, numbers_under
from mian.pipeline.mian_pipeline import last_span_check
from mian.stages.trainer import WARM_START_FILE
from mian.stages.warm_start import TRAINED_THROUGH_FILE, WARM_START_DIR
from tests.ingest_helpers import read_examples

pytestmark = pytest.mark.e2e

GENERATED = GeneratorConfig(users=160, items=80, days=6, seed=0, partition_by_day=True)
DAYS = [span_name(parse_span(GENERATED.start) + d) for d in range(GENERATED.days)]


def pipeline_config(root, name: str) -> str:
    path = root / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "pipeline_name": name,
                "data_dir": str(root / "data"),
                "output_root": str(root / "runs"),
                "window": {"train_spans": 3, "eval_spans": 1},
                "training": {
                    "model": "mian",
                    # A window of ~700 examples looks an item up ~10 times an epoch: at the default
                    # count (100) every item would read the shared rows.
                    "hparams": {"id_admission_count": 5},
                    "epochs": 2,
                    "batch_size": 128,
                    "patience": 1,
                    "seed": 0,
                    "warm_start": {"enabled": True, "epochs": 1},
                },  # fmt: skip
                # 30-odd users a day: the day's user mix moves a category's share by up to 0.22.
                "gates": {"auc_floor": 0.5, "max_auc_drop": 0.1, "drift_infinity_norm": 0.35},
            }
        )
    )
    return str(path)


def root_of(root, name: str) -> str:
    return str(root / "runs" / "pipelines" / name)


def spans_ingested(root, name: str) -> list[tuple[str, int]]:
    return [
        (span_name(r.span), r.version)
        for r in span_records(f"{root_of(root, name)}/ClickLogExampleGen/examples")
    ]


def newest_json(directory: str, name: str) -> dict:
    with open(os.path.join(newest_numbered(directory), name)) as f:
        return json.load(f)


def pushed_json(root, name: str) -> dict:
    """A file of the newest pushed model's warm-start files."""
    return newest_json(str(root / "runs" / "serving" / "daily"), os.path.join(WARM_START_DIR, name))


def states(root, name: str) -> dict:
    from mian.cli.run_report import read_report

    report = read_report(str(root / "runs" / "metadata" / f"{name}.sqlite"), name)
    return {c.component: c.state for c in report.components}


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """Day 1 (a backfill of the first five days, the sixth not yet written) and day 2 (the sixth)."""
    root = tmp_path_factory.mktemp("daily")
    generate(str(root / "data"), GENERATED)
    held = root / "held"
    shutil.move(root / "data" / "impressions" / DAYS[-1], held)
    config = pipeline_config(root, "daily")
    assert main(["run", "--config", config, "--backfill", DAYS[0], DAYS[-2]]) == 0
    day1 = {
        "spans": spans_ingested(root, "daily"),
        "versions": numbers_under(str(root / "runs" / "serving" / "daily")),
        "window": newest_json(f"{root_of(root, 'daily')}/TrainingWindow/examples", WINDOW_FILE),
        "warm": newest_json(f"{root_of(root, 'daily')}/Trainer/model_run", WARM_START_FILE),
        "trained_through": pushed_json(root, TRAINED_THROUGH_FILE),
        "reports": sorted((root / "runs" / "reports" / "daily").glob("*.html")),
    }
    shutil.move(held, root / "data" / "impressions" / DAYS[-1])
    assert main(["run", "--config", config]) == 0
    return root, config, day1


def test_day_one_backfills_the_window_and_starts_cold(days):
    _, _, day1 = days
    assert day1["spans"] == [(d, 0) for d in DAYS[:-1]]
    assert len(day1["versions"]) == 1
    window = {split: [s["span"] for s in day1["window"][split]] for split in ("train", "eval", "test")}
    assert window == {"train": DAYS[0:3], "eval": [DAYS[3]], "test": [DAYS[4]]}
    assert day1["window"]["fresh"] == [DAYS[2]]  # no base: the newest train span
    assert day1["window"]["warm_start_base"] is False
    assert day1["warm"] == {
        "source": None, "reason": "no pushed model to start from", "rows": {}, "trained_on": "the train split"
    }  # fmt: skip
    # The pushed model says through which span it trained: the next day's window reads it.
    assert day1["trained_through"] == {"span": DAYS[2]}
    # One report: the run that trained; the earlier spans' runs only ingested and checked.
    assert len(day1["reports"]) == 1


def test_day_two_ingests_its_own_span_and_trains_warm_from_day_one(days):
    root, _, day1 = days
    assert spans_ingested(root, "daily") == [(d, 0) for d in DAYS]
    # The one new Examples artifact holds the sixth day's impressions, and only them.
    newest = newest_numbered(f"{root_of(root, 'daily')}/ClickLogExampleGen/examples")
    with open(glob.glob(str(root / "data" / "impressions" / DAYS[-1] / "*.csv"))[0]) as f:
        rows = sum(1 for line in f) - 1
    stats = accounting.load_stats(newest_numbered(f"{root_of(root, 'daily')}/ClickLogExampleGen/rejected"))
    assert stats["impressions.read"] == rows == len(read_examples(split_dir(newest, SPAN_SPLIT)))
    window = newest_json(f"{root_of(root, 'daily')}/TrainingWindow/examples", WINDOW_FILE)
    assert [s["span"] for s in window["train"]] == DAYS[1:4]
    assert [s["span"] for s in window["eval"]] == [DAYS[4]] and [s["span"] for s in window["test"]] == [
        DAYS[5]
    ]
    warm = newest_json(f"{root_of(root, 'daily')}/Trainer/model_run", WARM_START_FILE)
    # Warm, it trained on the one span its base had not: the window's newest train span, a split of
    # its own; and its pushed model says so for the next day.
    assert window["fresh"] == [DAYS[3]] and warm["trained_on"] == [DAYS[3]]
    assert window["warm_start_base"] is True
    # Transform wrote what the warm Trainer reads, the fresh span and the eval split, and left the train
    # split (for a Trainer falling back to a cold start) and the test split (the Evaluator's) raw.
    transformed = newest_numbered(f"{root_of(root, 'daily')}/Transform/transformed_examples")
    assert sorted(os.listdir(transformed)) == sorted(
        ["Split-eval", f"Split-fresh-{DAYS[3]}", UNTRANSFORMED_SPLITS_FILE]
    )
    window_uri = newest_numbered(f"{root_of(root, 'daily')}/TrainingWindow/examples")
    with open(os.path.join(transformed, UNTRANSFORMED_SPLITS_FILE)) as f:
        assert json.load(f) == {s: [os.path.join(split_dir(window_uri, s), "*")] for s in ("train", "test")}
    assert pushed_json(root, TRAINED_THROUGH_FILE) == {"span": DAYS[3]}
    versions = numbers_under(str(root / "runs" / "serving" / "daily"))
    assert warm["source"] == os.path.join(str(root / "runs" / "serving" / "daily"), str(day1["versions"][0]))
    assert warm["rows"]["item_id"]["kept"] > 0 and "user_id" not in warm["rows"]
    assert len(versions) == 2 and versions[0] == day1["versions"][0]
    # MLMD holds TFX's span and version properties of every span's Examples.
    connection = metadata.sqlite_metadata_connection_config(str(root / "runs" / "metadata" / "daily.sqlite"))
    store = metadata_store.MetadataStore(connection)
    ingested = [a for a in store.get_artifacts_by_type("Examples") if "/ClickLogExampleGen/" in a.uri]
    assert sorted(a.properties["span"].int_value for a in ingested) == [parse_span(d) for d in DAYS]
    assert {a.properties["version"].int_value for a in ingested} == {0}


def test_a_repeated_day_is_served_from_the_cache_and_a_changed_span_is_a_new_version(days):
    root, config, _ = days
    before = numbers_under(str(root / "runs" / "serving" / "daily"))
    assert main(["run", "--config", config]) == 0
    cached = states(root, "daily")
    for name in ("ClickLogExampleGen", "StatisticsGen", "TrainingWindow", "Transform", "Trainer"):
        assert cached[name] == "CACHED", cached
    assert numbers_under(str(root / "runs" / "serving" / "daily")) == before

    # A backfill of the two daily runs' days in a fresh pipeline ingests what they ingested, span by
    # span (the backfill's runs up to the anomalies gate; its last run's training is the daily one's).
    fresh = PipelineConfig.load(pipeline_config(root, "fresh"))
    for day in DAYS[-2:]:
        assert ingested(fresh.replace(span=day)) is None
    for daily, backfilled in zip(
        span_records(f"{root_of(root, 'daily')}/ClickLogExampleGen/examples")[-2:],
        span_records(f"{root_of(root, 'fresh')}/ClickLogExampleGen/examples"),
        strict=True,
    ):
        assert daily.span == backfilled.span
        key = lambda e: (e["user_id"], e["item_id"], e["timestamp"])  # noqa: E731
        assert sorted(read_examples(split_dir(daily.uri, SPAN_SPLIT)), key=key) == sorted(
            read_examples(split_dir(backfilled.uri, SPAN_SPLIT)), key=key
        )

    # The sixth day's files change: its next ingestion is version 1.
    path = glob.glob(str(root / "data" / "impressions" / DAYS[-1] / "*.csv"))[0]
    with open(path) as f:
        header, *rows = f.read().splitlines()
    with open(path, "w") as f:
        f.write("\n".join([header, *rows[:-5]]) + "\n")
    assert ingested(PipelineConfig.load(config).replace(span=DAYS[-1])) is None
    assert spans_ingested(root, "daily")[-2:] == [(DAYS[-1], 0), (DAYS[-1], 1)]


def ingested(config: PipelineConfig):
    """Run the pipeline up to the anomalies gate (a span ingested and validated); the error or None."""
    return run_pipeline(config, out=io.StringIO(), until=last_span_check(config))[1]


def test_a_drifted_span_stops_at_the_drift_gate_and_warn_lets_it_through(days):
    root, config, _ = days
    # Every day so far passed the gate, each compared with the day before.
    day2_gate = next(r for r in drift_records(root) if r["span"] == parse_span(DAYS[-1]))
    assert day2_gate["compared_with"] == parse_span(DAYS[-2]) and day2_gate["drift"] == []
    # The seventh day: the sixth's impressions a day later, every device logged as "web".
    seventh = span_name(parse_span(DAYS[-1]) + 1)
    source = glob.glob(str(root / "data" / "impressions" / DAYS[-1] / "*.csv"))[0]
    with open(source) as f:
        rows = list(csv.DictReader(f))
    os.makedirs(root / "data" / "impressions" / seventh)
    with open(root / "data" / "impressions" / seventh / "impressions.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "timestamp": int(r["timestamp"]) + 86_400, "device": "web"} for r in rows)
    serving = str(root / "runs" / "serving" / "daily")
    before = numbers_under(serving)

    stopped = PipelineConfig.load(config).replace(span=seventh)
    report, error, _ = run_pipeline(stopped, out=io.StringIO())
    assert error and error.startswith("DriftFound: 1 features drifted")
    assert f"{seventh} against {DAYS[-1]}: feature 'device': L-infinity distance" in error
    ran = states(root, "daily")
    assert ran["DriftGate"] == "FAILED" and "Transform" not in ran and "Trainer" not in ran
    assert numbers_under(serving) == before  # the served model stays

    warned = stopped.replace(gates=dataclasses.replace(stopped.gates, drift="warn"))
    out = io.StringIO()
    report, error, _ = run_pipeline(warned, out=out, until=last_span_check(warned))
    assert error is None and len(report.drift) == 1 and "feature 'device'" in report.drift[0]
    assert f"drift (let through, gates.drift: warn): {report.drift[0]}" in out.getvalue()


def drift_records(root) -> list[dict]:
    records = []
    for path in glob.glob(f"{root_of(root, 'daily')}/DriftGate/drift_record/*/{DRIFT_FILE}"):
        with open(path) as f:
            records.append(json.load(f))
    return sorted(records, key=lambda r: r["span"])
