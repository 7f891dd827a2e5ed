"""`mian init`: a dataset config and a schema from the raw tables alone, good enough for `mian run`."""

import csv
import json
import os
import re
import subprocess
import sys

import pytest
import tensorflow_data_validation as tfdv
import yaml

from mian.cli.dataset_init import SAMPLE_ROWS
from mian.cli.main import main
from mian.data.synthetic import GeneratorConfig, generate
from mian.pipeline.mian_pipeline import COMPONENTS, DRIFT_GATE, TUNER, WINDOW

RENAMED = {"user_id": "uid", "item_id": "iid", "timestamp": "ts", "clicked": "click"}


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def own_logs(directory, users=300, days=10):
    """Generated logs as another team's export: renamed columns, impressions as JSON Lines with a
    request id and a constant column, items with a free-text title; no dataset.yaml."""
    generate(str(directory), GeneratorConfig(users=users, items=120, days=days, seed=5))
    (directory / "dataset.yaml").unlink()

    def renamed(row):
        return {RENAMED.get(k, k): v for k, v in row.items()}

    impressions = _read(directory / "impressions.csv")
    (directory / "impressions.csv").unlink()
    with open(directory / "impressions.jsonl", "w") as f:
        for n, row in enumerate(impressions):
            row = renamed(row)
            row.update(ts=int(row["ts"]), click=int(row["click"]), request_id=f"r{n:07d}", source="app")
            f.write(json.dumps(row) + "\n")
    items = [
        {**renamed(r), "title": f"item number {n}"} for n, r in enumerate(_read(directory / "items.csv"))
    ]
    _write_csv(directory / "items.csv", items)
    _write_csv(directory / "users.csv", [renamed(r) for r in _read(directory / "users.csv")])
    return directory


def _one_error_line(capfd):
    captured = capfd.readouterr()
    return [line for line in captured.err.splitlines() if not line.startswith("library logs: ")]


def test_init_decides_ids_time_label_and_groups_by_content(tmp_path, capfd):
    # Fewer users than TFDV enumerates (max_string_domain_size, 100): the user id's domain stays open.
    data = own_logs(tmp_path / "mine", users=80, days=10)
    assert main(["init", "--data", str(data)]) == 0
    config = yaml.safe_load((data / "dataset.yaml").read_text())
    assert (config["user_id"], config["item_id"], config["timestamp"], config["label"]) == (
        "uid",
        "iid",
        "ts",
        "click",
    )
    assert config["impressions"] == "impressions.jsonl" and config["timestamp_unit"] == "s"
    assert config["item_columns"] == {"category": "categorical", "brand": "categorical", "price": "numerical"}
    assert config["user_columns"] == {
        "uid": "categorical",
        "gender": "categorical",
        "age": "categorical",
        "occupation": "categorical",
    }
    assert config["context_columns"] == {"device": "categorical", "network": "categorical"}
    assert config["history_columns"] == ["iid", "category", "brand"]
    assert config["derived_context"] == ["hour", "weekday", "season"]
    assert config["split"] == {"eval_days": 1, "test_days": 1}
    out = capfd.readouterr().out
    for unused in ("request_id", "source", "title"):
        assert f"'{unused}' not used" in out
    schema = (data / "schema.pbtxt").read_text()
    assert 'name: "hist_iid"' in schema and 'not_in_environment: "SERVING"' in schema
    # The drift gate's comparators: the log's categorical columns by L-infinity, numerical ones by
    # Jensen-Shannon; not the histories, the timestamp or the user id.
    drafted = {f.name: f for f in tfdv.load_schema_text(str(data / "schema.pbtxt")).feature}
    assert drafted["device"].drift_comparator.HasField("infinity_norm")
    assert drafted["price"].drift_comparator.HasField("jensen_shannon_divergence")
    for name in ("hist_iid", "hist_len", "timestamp", "user_id", "uid"):
        assert not drafted[name].HasField("drift_comparator"), name
    # The user id as a field: in every example, of no closed domain (new users arrive every day),
    # unlike the profile's columns.
    assert drafted["uid"].value_count.min == 1 and not drafted["uid"].HasField("domain")
    assert drafted["gender"].domain == "gender"


def test_init_refuses_a_log_without_a_time_column_in_one_line(tmp_path, capfd):
    data = own_logs(tmp_path / "mine", users=60, days=4)
    rows = [json.loads(line) for line in (data / "impressions.jsonl").read_text().splitlines()]
    timeless = [{k: v for k, v in r.items() if k != "ts"} for r in rows]
    (data / "impressions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in timeless))
    assert main(["init", "--data", str(data)]) == 1
    (line,) = _one_error_line(capfd)
    assert "impressions.jsonl" in line and "no timestamp-like column" in line
    assert not (data / "dataset.yaml").exists()


def test_init_refuses_a_label_that_is_not_0_or_1(tmp_path, capfd):
    data = own_logs(tmp_path / "mine", users=60, days=4)
    rows = [json.loads(line) for line in (data / "impressions.jsonl").read_text().splitlines()]
    rows[3]["click"] = 5
    (data / "impressions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["init", "--data", str(data)]) == 1
    (line,) = _one_error_line(capfd)
    assert "impressions.jsonl" in line and "'click' must hold 0/1" in line and "5" in line


def time_ordered_log_with_late_values(directory, users=1200, days=20):
    """`own_logs` as a time-ordered export of at least 30,000 impressions with a `weekday` column of its
    own (w0..w6), whose rows after the first SAMPLE_ROWS bring what those lack: a new device and new
    items."""
    data = own_logs(directory, users=users, days=days)
    path = data / "impressions.jsonl"
    rows = sorted((json.loads(line) for line in path.read_text().splitlines()), key=lambda r: r["ts"])
    assert len(rows) >= 30_000
    for n, row in enumerate(rows):
        row["weekday"] = f"w{(row['ts'] // 86_400 + 4) % 7}"
        if n >= SAMPLE_ROWS and n % 4 == 0:
            row["device"] = "tablet"
        if n >= SAMPLE_ROWS and n % 5 == 0:
            row["iid"] = f"late{n % 40}"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = _read(data / "items.csv")
    late = [{**items[0], "iid": f"late{n}", "title": f"late item {n}"} for n in range(40)]
    _write_csv(data / "items.csv", items + late)
    return data


@pytest.mark.e2e
def test_mian_run_pushes_a_model_on_what_init_proposed_from_the_whole_log(tmp_path, capfd):
    data = time_ordered_log_with_late_values(tmp_path / "mine")
    head = [json.loads(line) for line in (data / "impressions.jsonl").read_text().splitlines()[:SAMPLE_ROWS]]
    assert "tablet" not in {r["device"] for r in head} and not any(r["iid"].startswith("late") for r in head)

    assert main(["init", "--data", str(data), "--name", "mine"]) == 0
    config = yaml.safe_load((data / "dataset.yaml").read_text())
    # The log's own weekday is a context column, never derived over.
    assert config["context_columns"]["weekday"] == "categorical"
    assert config["derived_context"] == ["hour", "season"]
    coverage = next(line for line in capfd.readouterr().out.splitlines() if "schema statistics" in line)
    rows = int(coverage.split(" impression rows")[0].rsplit(" ", 1)[1])
    assert rows >= 30_000 and "every row of the log" in coverage
    assert 'value: "tablet"' in (data / "schema.pbtxt").read_text()

    # A fresh interpreter, as a user runs it: TensorFlow's start-up lines come once per process.
    runs = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    ran = subprocess.run(
        [sys.executable, "-m", "mian.cli.main", "run", "--data", str(data), "--output-root", str(runs),
         "--pipeline-name", "mine", "--model", "lr", "--epochs", "3", "--hparams", '{"learning_rate": 0.02}'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert list((runs / "serving" / "mine").iterdir())
    assert_only_mians_lines(ran.stdout, ran.stderr)
    # The phases say what they did as they go: the books of ingestion, what Transform read, each epoch.
    assert re.search(r"^    ClickLogExampleGen: impressions: \d+ read, rejected: none$", ran.stdout, re.M)
    assert re.search(
        r"^    Transform: analyzing train \([\d,]+ examples\); transforming train \(", ran.stdout, re.M
    )
    epochs = re.findall(
        r"^    Trainer: epoch (\d)/3 in [\d.]+ s, loss [\d.]+, eval AUC ([\d.]+)$", ran.stdout, re.M
    )
    assert [int(n) for n, _ in epochs] == list(range(1, len(epochs) + 1)) and epochs


def assert_only_mians_lines(stdout: str, stderr: str) -> None:
    """`mian run`'s terminal: its own lines (the run's header, the components as they start and end with
    their progress lines, the summary table and metrics, the gate and the push), nothing the libraries
    print (those go to the log file the header names)."""
    assert stderr == ""
    starts = (
        "mian run: ",
        "  library logs: ",
        "component ",
        "test split:",
        "gate: ",
        "pushed: ",
        "total: ",
        "report: ",
    )
    components = (*COMPONENTS, TUNER, WINDOW, DRIFT_GATE)
    for line in stdout.splitlines():
        if not line or line.startswith(starts):
            continue
        if line.startswith("    "):  # a component's progress line
            assert line.strip().split(":")[0] in components, line
        elif line.startswith("  "):  # a component starting or ending, or a slice's metrics
            assert line.split()[0] in components or " AUC " in line or "slices under" in line, line
        else:  # the summary table
            assert line.split()[0] in components, line
