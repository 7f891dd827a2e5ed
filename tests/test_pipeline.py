"""The whole pipeline under LocalDagRunner on small synthetic click logs (a few minutes).

One pipeline root serves three runs in order: the first blesses and pushes MIAN, the second (unchanged
inputs) comes from the cache, the third trains a deliberately bad candidate that must not be pushed.
A separate run with injected anomalies must stop before Transform.
"""

import csv
import dataclasses
import glob
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
import tf_keras as keras
import yaml
from google.protobuf import json_format

from mian.cli.local_run import run_pipeline
from mian.cli.main import main
from mian.cli.report_page import report_path
from mian.cli.run_report import evaluation_outputs
from mian.cli.train_worker import localhost_tf_configs
from mian.config.pipeline_config import PipelineConfig, TrainingConfig, TuningConfig
from mian.data.ingest.examples import feature_values
from mian.data.synthetic import generate_if_requested
from mian.names import (
    ATTENTION_SIGNATURE,
    AUC,
    EXAMPLES_INPUT,
    GAUC,
    HISTORY_LENGTH_FEATURE,
    LOGLOSS,
    PROBABILITY,
    RAW_SIGNATURE,
    SLICES_EVALUATION_DIR,
    TIMESTAMP_FEATURE,
    USER_ID_FEATURE,
)
from mian.numbered_dirs import newest_numbered
from mian.pipeline.mian_pipeline import COMPONENTS, TUNER
from mian.serving.process import ServerProcess
from mian.stages.eval_config import eval_config, report_config
from mian.stages.export import raw_input_fields
from mian.stages.model_files import HPARAMS_FILE
from mian.stages.trainer import HISTORY_FILE, WARM_START_FILE, load_trained_model
from mian.tools.score import HISTORY_SEPARATOR

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAINING = TrainingConfig(epochs=4, batch_size=128, patience=1, hparams={"learning_rate": 0.005})
# A 2-trial search whose choices the configured learning rate is not among: the Trainer's value shows
# where it came from.
TUNING = TuningConfig(
    enabled=True, trials=2, epochs=1, steps_per_epoch=5, search_space={"learning_rate": [0.004, 0.006]}
)


def pipeline_config(root, data=None, **changes) -> PipelineConfig:
    config = PipelineConfig(
        data_dir=str(data or root / "data"),
        synthetic_data={"users": 500, "items": 200, "days": 20, "seed": 0},
        output_root=str(root / "runs"),
        pipeline_name="mian-test",
        training=TRAINING,
        tuning=TUNING,
    )
    return config.replace(**changes)


def run(config):
    report, error, log_path = run_pipeline(config, out=io.StringIO())
    return report, error, log_path


def states(report) -> dict:
    return {c.component: c.state for c in report.components}


def versions(config) -> list[str]:
    return sorted(os.listdir(config.model_serving_dir), key=int)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("pipeline")


@pytest.fixture(scope="module")
def first_run(root):
    config = pipeline_config(root)
    report, error, log_path = run(config)
    assert error is None, open(log_path).read()[-5000:]
    return config, report, versions(config)


@pytest.fixture(scope="module")
def second_run(first_run):
    config, _, first_versions = first_run
    report, error, _ = run(config)
    return config, report, error, first_versions


@pytest.fixture(scope="module")
def bad_run(second_run):
    config = second_run[0]
    before = versions(config)
    bad = config.replace(training=TrainingConfig(model="lr", epochs=1, steps_per_epoch=1, batch_size=16))
    report, error, _ = run(bad)
    return config, report, error, before


def test_every_component_runs_and_mian_is_blessed_and_pushed(first_run):
    config, report, pushed_versions = first_run
    assert states(report) == {name: "COMPLETE" for name in (*COMPONENTS, TUNER)}
    assert report.blessed is True
    assert report.overall["auc"] > config.gates.auc_floor
    # Within users too, MIAN ranks clicks above non-clicks (GAUC: tests/test_gauc.py).
    assert 0.5 < report.overall[GAUC] < 1
    assert report.overall["example_count"] > 0
    # Slices: history buckets, the first user field and the hour of day, each with its own metrics.
    sliced = {key[0][0] for key in report.metrics if key}
    assert sliced == {"hist_len_bucket", "gender", "hour"}
    # The Evaluator's gate ran on the overall slice, its report run on the others.
    evaluation = report.outputs["Evaluator"]["evaluation"].uri
    gate, slices = evaluation_outputs(evaluation)
    assert slices == os.path.join(evaluation, SLICES_EVALUATION_DIR)
    assert [m.slice_key.single_slice_keys for m in tfma.load_metrics(gate)] == [[]]
    assert all(m.slice_key.single_slice_keys for m in tfma.load_metrics(slices))
    # TF Serving's layout: <serving_dir>/<model>/<numeric version>/saved_model.pb
    (version,) = pushed_versions
    assert report.pushed_path == os.path.join(config.model_serving_dir, version)
    assert os.path.exists(os.path.join(report.pushed_path, "saved_model.pb"))
    assert _warm_start_record(config)["reason"] == "no pushed model to start from"


def test_the_evaluators_report_runs_as_a_process_of_its_own(first_run, tmp_path):
    """A large split's report runs beside the gate in a process of its own (the test split here is
    small, so the pipeline ran it in process): the same module, started as the Evaluator starts it."""
    config, report, _ = first_run
    examples = newest_numbered(os.path.join(config.pipeline_root, "ClickLogExampleGen", "examples"))
    slices = report_config(eval_config(config.dataset(), config.gates))
    config_path = tmp_path / "report_config.json"
    config_path.write_text(json_format.MessageToJson(slices))
    output = tmp_path / "slices"
    command = [sys.executable, "-m", "mian.stages.slice_evaluation", report.pushed_path]
    command += [os.path.join(examples, "Split-test", "*"), str(output), str(config_path)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    features = {m.slice_key.single_slice_keys[0].column for m in tfma.load_metrics(str(output))}
    assert features == {"hist_len_bucket", "gender", "hour"}


# Debian's Chromium, headless, as root and without the network (its background connections refused).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)",
)
def test_the_run_report_opens_in_a_browser_with_every_section_filled(first_run, tmp_path):
    config, report, _ = first_run
    path = report_path(config.output_root, config.pipeline_name, report.run_id)
    page = open(path).read()
    assert "http://" not in page and "https://" not in page  # self-contained: sent as one file
    browser = [shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*browser, "--dump-dom", f"file://{path}"], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    for section in ("Decision", "Components", "Ingestion", "Statistics of the splits", "Test metrics",
                    "Calibration", "Learning curve", "MIAN's attention"):  # fmt: skip
        assert f">{section}</h2>" in dom.replace("&#x27;", "'").replace("&#39;", "'"), section
    # The gate's decision, the pushed version, the metrics as the terminal shows them.
    assert ">BLESSED</p>" in dom and report.pushed_path in dom
    for metric in (AUC, GAUC, LOGLOSS):
        assert f">{report.overall[metric]:.4f}</td>" in dom, metric
    assert ">gender=F</td>" in dom and ">hist_len_bucket=0</td>" in dom
    assert "did not run" not in dom and "No trained model" not in dom  # every section filled
    # Four figures (calibration, eval AUC, losses, attention), each a picture the browser decoded.
    assert dom.count('src="data:image/png;base64,') == 4
    screenshot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1100,5200", f"--screenshot={screenshot}", f"file://{path}"],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert screenshot.stat().st_size > 100_000  # a blank or error page is a few kB


def test_mian_report_writes_an_earlier_runs_page_again(first_run, second_run, tmp_path, capfd):
    config, first, _ = first_run
    config_file = tmp_path / "pipeline.yaml"
    config_file.write_text(yaml.safe_dump(dataclasses.asdict(config)))
    page = report_path(config.output_root, config.pipeline_name, first.run_id)
    os.remove(page)
    capfd.readouterr()
    # The first run, though a second one (from the cache) came after it.
    assert main(["report", first.run_id, "--config", str(config_file)]) == 0
    assert capfd.readouterr().out.strip() == f"report: {page}"
    assert f">{first.overall[AUC]:.4f}</td>" in open(page).read()
    assert main(["report", "no-such-run", "--config", str(config_file)]) == 1
    (line,) = [ln for ln in capfd.readouterr().err.splitlines() if not ln.startswith("library logs: ")]
    assert "no run 'no-such-run'" in line and first.run_id in line and second_run[1].run_id in line


def _test_examples(config) -> list[bytes]:
    split = newest_numbered(os.path.join(config.pipeline_root, "ClickLogExampleGen", "examples"))
    files = glob.glob(os.path.join(split, "Split-test", "*.gz"))
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def test_pushed_model_serves_raw_examples_like_the_in_process_model(first_run):
    config, report, _ = first_run
    served = tf.saved_model.load(report.pushed_path)
    examples = _test_examples(config)
    probabilities = served.signatures["serving_default"](**{EXAMPLES_INPUT: tf.constant(examples)})[
        PROBABILITY
    ]

    # In process: the Trainer's model (rebuilt from its run directory) on Transform's own output.
    model = load_trained_model(newest_numbered(os.path.join(config.pipeline_root, "Trainer", "model_run")))
    transform_dir = newest_numbered(os.path.join(config.pipeline_root, "Transform", "transform_graph"))
    tft_output = tft.TFTransformOutput(transform_dir)
    transformed_dir = newest_numbered(os.path.join(config.pipeline_root, "Transform", "transformed_examples"))
    files = glob.glob(os.path.join(transformed_dir, "Split-test", "*.gz"))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(4096).get_single_element()
    features = tf.io.parse_example(records, tft_output.transformed_feature_spec())
    in_process = tf.sigmoid(model({k: features[k] for k in model.input}, training=False))
    # Transform writes its split in its own order: compare the two sets of probabilities sorted.
    assert len(examples) == int(in_process.shape[0])
    np.testing.assert_allclose(
        np.sort(probabilities.numpy().ravel()), np.sort(in_process.numpy().ravel()), atol=1e-5
    )

    # The same examples through the in-process Transform layer, example by example.
    dataset = config.dataset()
    parse_spec = {k: v for k, v in tft_output.raw_feature_spec().items() if k in raw_input_fields(dataset)}
    raw = tf.io.parse_example(tf.constant(examples), parse_spec)
    expected = tf.sigmoid(model(tft_output.transform_features_layer()(raw), training=False))
    np.testing.assert_allclose(probabilities.numpy(), expected.numpy(), atol=1e-5)


def test_raw_tensor_and_attention_signatures_agree_with_serving_default(first_run):
    config, report, _ = first_run
    served = tf.saved_model.load(report.pushed_path)
    examples = _test_examples(config)[:64]
    expected = served.signatures["serving_default"](**{EXAMPLES_INPUT: tf.constant(examples)})[PROBABILITY]

    dataset = config.dataset()
    fields = raw_input_fields(dataset)
    parsed = [tf.train.Example.FromString(e).features.feature for e in examples]
    histories = {dataset.history_feature(c) for c in dataset.history_columns}
    raw = {}
    for name, dtype in fields.items():
        values = [feature_values(f[name], dtype) for f in parsed]
        if name in histories:  # padded with junk beyond hist_len, which must be ignored
            width = max(len(v) for v in values) + 2
            pad = 7.0 if dtype == tf.float32 else "junk"
            values = [v + [pad] * (width - len(v)) for v in values]
        else:
            values = [v[0] for v in values]
        raw[name] = tf.constant(values, dtype)
    raw[HISTORY_LENGTH_FEATURE] = tf.constant(
        [f[HISTORY_LENGTH_FEATURE].int64_list.value[0] for f in parsed], tf.int64
    )
    from_tensors = served.signatures[RAW_SIGNATURE](**raw)[PROBABILITY]
    np.testing.assert_allclose(from_tensors.numpy(), expected.numpy(), atol=1e-5)

    attention = served.signatures[ATTENTION_SIGNATURE](**{EXAMPLES_INPUT: tf.constant(examples)})
    np.testing.assert_allclose(attention[PROBABILITY].numpy(), expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(attention["gim_weights"].numpy().sum(axis=1), 1.0, atol=1e-5)
    assert attention["ibim_weights"].shape == (64, dataset.history_length)


def _table(path: str, key: str | None = None):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows if key is None else {r[key]: r for r in rows}


def _client_rows(dataset, data_dir: str, keys: list[tuple]) -> list[dict]:
    """What a production client sends for each impression (user, item, timestamp): the impression's own
    columns and time, its user's and item's rows, and the user's clicks of the window before it (newest
    first, as the client's behavior store keeps them), joined by column name, histories as `a|b|c`."""
    impressions = _table(os.path.join(data_dir, dataset.impressions.path))
    users = _table(os.path.join(data_dir, dataset.users.path), dataset.user_id)
    items = _table(os.path.join(data_dir, dataset.items.path), dataset.item_id)
    by_key = {(r[dataset.user_id], r[dataset.item_id], int(r[dataset.timestamp])): r for r in impressions}
    clicks = {}
    for r in impressions:
        if r[dataset.label] == "1":
            clicks.setdefault(r[dataset.user_id], []).append((int(r[dataset.timestamp]), r[dataset.item_id]))
    rows = []
    for user, item, ts in keys:
        impression = by_key[(user, item, ts)]
        row = {c: impression[c] for c in dataset.context_columns}
        row[TIMESTAMP_FEATURE] = impression[dataset.timestamp]
        row.update({c: users[user][c] for c in dataset.user_columns})
        row.update({c: items[item][c] for c in dataset.item_columns})
        window = ts - dataset.history_window_days * 86_400
        earlier = sorted((c for c in clicks.get(user, []) if window <= c[0] < ts), reverse=True)
        clicked = [items[i] for _, i in earlier[: dataset.history_length]]
        for column in dataset.history_columns:
            row[dataset.history_feature(column)] = HISTORY_SEPARATOR.join(r[column] for r in clicked)
        rows.append(row)
    return rows


def _example_of_row(row: dict, fields: dict) -> bytes:
    """The raw tf.Example a client builds from the same columns, by the served inputs' dtypes."""
    features = {}
    for name, dtype in fields.items():
        values = row[name].split(HISTORY_SEPARATOR) if name.startswith("hist_") else [row[name]]
        values = [v for v in values if v != ""]
        if dtype == tf.int64:
            features[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))
        elif dtype == tf.float32:
            features[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))
        else:
            features[name] = tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[v.encode() for v in values])
            )
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def test_one_impression_one_prediction_from_raw_rows_as_a_client_sends_them(first_run, tmp_path):
    """Scored through the server from the raw impression, user and item rows (by `mian score`, from
    joined CSV and from tf.Examples a client builds), an impression gets the prediction the pushed model
    gives the pipeline's own example of it: any feature built differently on the two paths fails."""
    config, report, _ = first_run
    dataset = config.dataset()
    own = _test_examples(config)[:150]
    parsed = [tf.train.Example.FromString(e).features.feature for e in own]
    keys = [
        (f[USER_ID_FEATURE].bytes_list.value[0].decode(), f[dataset.item_id].bytes_list.value[0].decode(),
         f[TIMESTAMP_FEATURE].int64_list.value[0])
        for f in parsed
    ]  # fmt: skip
    served = tf.saved_model.load(report.pushed_path)
    expected = served.signatures["serving_default"](**{EXAMPLES_INPUT: tf.constant(own)})[PROBABILITY]

    rows = _client_rows(dataset, config.data_dir, keys)
    joined = tmp_path / "impressions.csv"
    with open(joined, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    fields = raw_input_fields(dataset)
    assert fields[TIMESTAMP_FEATURE] == tf.int64 and not set(dataset.derived_context) & set(fields)
    records = tmp_path / "impressions.tfrecord"
    with tf.io.TFRecordWriter(str(records)) as writer:
        for row in rows:
            writer.write(_example_of_row(row, fields))

    server = ServerProcess(os.path.dirname(config.model_serving_dir), "--model-name", config.pipeline_name,
                           python_path=REPO)  # fmt: skip
    try:
        for source in (joined, records):
            out = tmp_path / f"{source.name}.scores"
            command = ["score", "--target", server.target, "--model-name", config.pipeline_name]
            assert main([*command, "--input", str(source), "--out", str(out)]) == 0
            scored = np.array([float(line) for line in out.read_text().split()])
            np.testing.assert_allclose(scored, expected.numpy().ravel(), atol=1e-5, err_msg=source.name)
    finally:
        assert server.stop() == 0


def test_the_tuners_best_hyperparameters_reach_the_trainer(first_run):
    config, _, _ = first_run
    best = newest_numbered(os.path.join(config.pipeline_root, "Tuner", "best_hyperparameters"))
    with open(os.path.join(best, "best_hyperparameters.txt")) as f:
        chosen = json.load(f)["values"]["learning_rate"]
    results = newest_numbered(os.path.join(config.pipeline_root, "Tuner", "tuner_results"))
    with open(os.path.join(results, "tuner_results.json")) as f:
        trials = json.load(f)
    # Both choices were tried, and the better eval AUC was chosen.
    assert sorted(t["learning_rate"] for t in trials) == TUNING.search_space["learning_rate"]
    assert chosen == max(trials, key=lambda t: t["score"])["learning_rate"]
    run_dir = newest_numbered(os.path.join(config.pipeline_root, "Trainer", "model_run"))
    with open(os.path.join(run_dir, HPARAMS_FILE)) as f:
        assert json.load(f)["learning_rate"] == chosen  # not the configured 0.005


def test_second_run_with_unchanged_inputs_is_served_from_the_cache(second_run):
    config, report, error, first_versions = second_run
    assert error is None
    cached = states(report)
    for name in ("ClickLogExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "Transform"):
        assert cached[name] == "CACHED", cached
    assert cached["Trainer"] == "CACHED", cached
    # The Evaluator runs again (its baseline is now the first run's model, the same model) and
    # blesses it; the Pusher finds it already served and copies nothing.
    assert report.blessed is True
    assert versions(config) == first_versions
    assert report.pushed_path == os.path.join(config.model_serving_dir, first_versions[-1])


def test_a_bad_candidate_is_not_blessed_and_not_pushed(bad_run):
    config, report, error, before = bad_run
    assert error is None
    assert states(report)["Trainer"] == "COMPLETE"
    assert report.blessed is False and report.pushed_path is None
    assert report.gate_failures
    assert versions(config) == before  # the blessed MIAN stays the newest version
    # Its Trainer found the pushed MIAN and, being another model, started cold and said why.
    assert _warm_start_record(config) == {
        "source": None, "reason": "the pushed model is 'mian', this one 'lr'", "rows": {},
        "trained_on": "the train split",
    }  # fmt: skip


def _warm_start_record(config) -> dict:
    run_dir = newest_numbered(os.path.join(config.pipeline_root, "Trainer", "model_run"))
    with open(os.path.join(run_dir, WARM_START_FILE)) as f:
        return json.load(f)


def test_anomalies_stop_the_run_before_transform(tmp_path):
    data = tmp_path / "data"
    config = pipeline_config(
        tmp_path, data=data, synthetic_data={"users": 80, "items": 40, "days": 4, "seed": 3}
    )
    generate_if_requested(config)
    with open(data / "dataset.yaml", "a") as f:
        f.write("min_split_examples: 20\n")  # a small log: its anomalies, not its size, must stop the run
    _rewrite(data / "impressions.csv", "device", lambda i, v: "toaster" if i % 10 == 0 else v)
    _rewrite(data / "users.csv", "gender", lambda i, v: "" if i % 4 == 0 else v)

    report, error, _ = run(config)
    assert error is not None and "AnomaliesFound" in error
    assert "feature 'device'" in error and "feature 'gender'" in error
    ran = states(report)
    assert ran["AnomaliesGate"] == "FAILED"
    assert "Transform" not in ran and "Trainer" not in ran and report.pushed_path is None


def _rewrite(path, column: str, change) -> None:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        row[column] = change(i, row[column])
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_two_workers_train_like_one_and_a_killed_worker_resumes(first_run, tmp_path):
    """`mian train-worker` as a job of two worker processes on localhost (TF_CONFIG), against one
    process alone: both workers in one job (2 replicas), the same test AUC within 0.01, one export.

    Both jobs take the same global batch (the two workers half of it each), start from the same seed
    and train every epoch (patience as long as the run), so they take the same steps on the same
    batches. The lone worker is killed (SIGKILL) once it has backed up an epoch and started again with
    the same arguments: it resumes after the backed-up epochs instead of starting over, and must still
    match.
    """
    config, _, _ = first_run
    transform_graph, examples = _transform_outputs(config)
    epochs = 2
    command = _train_worker_command(config, epochs=epochs, patience=epochs)
    env = _worker_env()
    jobs = {
        "one": [dict(env)],
        "two": [{**env, "TF_CONFIG": tf_config} for tf_config in localhost_tf_configs(2)],
    }
    global_batch = 2 * (config.training.batch_size // 2)
    batch_sizes = {"one": global_batch, "two": global_batch // 2}

    def start(name: str, worker_env: dict) -> subprocess.Popen:
        out = tmp_path / name
        return subprocess.Popen(
            [
                *command,
                "--batch-size",
                str(batch_sizes[name]),
                "--run-dir",
                str(out / "run"),
                "--serving-dir",
                str(out / "serving"),
            ],
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    two = [start("two", worker_env) for worker_env in jobs["two"]]
    one = start("one", jobs["one"][0])
    # BackupAndRestore writes a checkpoint at each epoch's end; kill the worker in the epoch after.
    while not glob.glob(str(tmp_path / "one" / "run" / "backup" / "**" / "checkpoint"), recursive=True):
        assert one.poll() is None, one.communicate()[1][-4000:]
        time.sleep(0.05)
    one.send_signal(signal.SIGKILL)
    one.wait()
    assert not (tmp_path / "one" / "serving" / "saved_model.pb").exists()
    one = start("one", jobs["one"][0])
    for process in [*two, one]:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-4000:]
    with open(tmp_path / "one" / "run" / HISTORY_FILE) as f:
        resumed_epochs = len(json.load(f)["epochs"]["loss"])
    assert 1 <= resumed_epochs < epochs

    tft_output = tft.TFTransformOutput(transform_graph)
    test_files = glob.glob(os.path.join(examples, "Split-test", "*.gz"))
    records = tf.data.TFRecordDataset(test_files, compression_type="GZIP").batch(100_000).get_single_element()
    features = tf.io.parse_example(records, tft_output.transformed_feature_spec())
    labels = features[config.dataset().label]
    aucs = {}
    for name in jobs:
        with open(tmp_path / name / "run" / HISTORY_FILE) as f:
            history = json.load(f)
        assert history["replicas"] == len(jobs[name]) and history["global_batch_size"] == global_batch
        model = load_trained_model(str(tmp_path / name / "run"))
        auc = keras.metrics.AUC(from_logits=True)
        auc.update_state(labels, model({k: features[k] for k in model.input}, training=False))
        aucs[name] = float(auc.result())
        assert os.path.exists(tmp_path / name / "serving" / "saved_model.pb")
    assert aucs["one"] > 0.6 and abs(aucs["two"] - aucs["one"]) <= 0.01, aucs


def _transform_outputs(config) -> tuple[str, str]:
    """The newest transform_graph and transformed_examples of the pipeline's Transform."""
    transform = os.path.join(config.pipeline_root, "Transform")
    return (
        newest_numbered(os.path.join(transform, "transform_graph")),
        newest_numbered(os.path.join(transform, "transformed_examples")),
    )


def _train_worker_command(config, epochs: int, patience: int) -> list[str]:
    """`mian train-worker` on the pipeline's Transform output: LR, seeded, without --run-dir."""
    transform_graph, examples = _transform_outputs(config)
    command = [sys.executable, "-m", "mian.cli.main", "train-worker", "--data", config.data_dir]
    command += [
        "--model",
        "lr",
        "--epochs",
        str(epochs),
        "--hparams",
        '{"learning_rate": 0.05}',
        "--seed",
        "0",
    ]
    command += ["--transform-graph", transform_graph, "--transformed-examples", examples]
    return command + ["--patience", str(patience)]


def _worker_env() -> dict:
    env = {**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    return env
