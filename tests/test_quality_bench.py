"""A smoke run of the quality benchmark (bench/quality.py), so that the script cannot rot: one tiny
synthetic dataset through the pipeline, LR, DLRM and MIAN, one seed, 3 steps, run as the script; then
the same arguments with --resume, which reports those models without training them again, and a search.
The later invocations call the script's `main` in this process: the script's start-up is proven once, and
starting TensorFlow again would cost more than their training."""

import csv
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from mian.config.pipeline_config import DEFAULT_SEARCH_SPACE
from mian_keras import ABLATIONS, MIANParams

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quality_module():
    """bench/quality.py as a module (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("quality", os.path.join(REPO, "bench", "quality.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


quality = _quality_module()
variants, PAPER_ROW = quality.variants, quality.PAPER_ROW


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One work directory for every run of this module: the smoke data and its pipeline run are made
    once."""
    return tmp_path_factory.mktemp("quality") / "work"


def test_the_rows_are_the_models_section_4_3s_mian_and_the_ablations():
    rows = variants(["lr", "mian"], ablations=True)
    assert list(rows) == ["lr", "mian", PAPER_ROW] + [f"mian {name}" for name in ABLATIONS]
    paper = dataclasses.asdict(MIANParams.paper())
    assert rows[PAPER_ROW] == ("mian", {k: list(v) if isinstance(v, tuple) else v for k, v in paper.items()})
    for name, changes in ABLATIONS.items():
        assert rows[f"mian {name}"] == ("mian", changes)
    assert list(variants(["lr", "mian"], ablations=False)) == ["lr", "mian", PAPER_ROW]
    assert list(variants(["lr", "din"], ablations=True)) == ["lr", "din"]
    assert list(variants(["lr", "mian"], ablations=False, paper=False)) == ["lr", "mian"]


def test_overrides_reach_every_row_but_section_4_3s():
    overrides = {"cross_projection_dim": None, "dropout": 0.3}
    rows = variants(["lr", "mian"], ablations=True, overrides=overrides)
    assert rows["lr"] == ("lr", overrides)
    assert rows["mian"] == ("mian", overrides)
    assert rows[PAPER_ROW] == variants(["mian"], ablations=False)[PAPER_ROW]
    # An ablation keeps its own switch on top of the overrides.
    assert rows["mian w/o GIM"] == ("mian", {**overrides, **ABLATIONS["w/o GIM"]})


def test_smoke_run_writes_the_table_the_csv_and_the_pictures(tmp_path, work, capsys):
    # The ablations train as MIAN does (their rows: the test above; their models: tests/test_models.py).
    out = tmp_path / "out"
    # A TF Recommenders baseline (DLRM) trains beside LR and MIAN; every model's training:
    # tests/test_models.py.
    trained = ["lr", "dlrm", "mian"]
    arguments = ["--smoke", "--models", *trained, "--no-ablations", "--seeds", "1"]
    arguments += ["--work", str(work), "--out", str(out)]
    command = [sys.executable, os.path.join(REPO, "bench", "quality.py"), *arguments]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]

    with open(out / "quality.csv") as f:
        rows = list(csv.DictReader(f))
    models = [*trained, PAPER_ROW]
    assert [r["model"] for r in rows] == models
    for row in rows:
        assert 0.0 <= float(row["auc"]) <= 1.0 and float(row["logloss"]) > 0
        assert row["epochs"] == "1" and float(row["seconds"]) > 0
    table = (out / "quality.md").read_text()
    assert all(f"| {m} |" in table for m in models)
    auc = {r["model"]: float(r["auc"]) for r in rows}
    best = max((m for m in trained if m != "mian"), key=auc.__getitem__)
    assert f"MIAN against the best baseline ({best})" in table
    with open(out / "curves.csv") as f:
        curves = list(csv.DictReader(f))
    # One epoch each, at the AUC the run's early stopping saw.
    assert sorted(r["model"] for r in curves) == sorted(models) and {r["epoch"] for r in curves} == {"1"}
    for picture in ("quality.png", "curves.png"):
        assert Image.open(out / picture).format == "PNG"
        (out / picture).unlink()
    # The figures are drawn again from the CSVs alone.
    quality.main(["--redraw", "--out", str(out)])
    for picture in ("quality.png", "curves.png"):
        assert Image.open(out / picture).size[0] > 400

    # Run again with --resume: the models already trained in --work are reported, not retrained.
    first_csv = (out / "quality.csv").read_text()
    capsys.readouterr()
    quality.main([*arguments, "--resume"])
    assert " seed 0: test AUC" not in capsys.readouterr().out  # nothing trained
    assert (out / "quality.csv").read_text() == first_csv
    # Nothing trained: the report does not pass this invocation's seconds off as the run's.
    assert "every model's result read from earlier invocations" in (out / "quality.md").read_text()


def test_tune_gives_each_model_a_search_whose_best_values_train_its_seeds(tmp_path, work, capsys):
    # The search and the seeds on shuffled batches (bench/results/shuffled/ was made so).
    arguments = ["--smoke", "--models", "din", "--shuffle-buffer", "64", "--no-ablations", "--seeds", "1"]
    quality.main([*arguments, "--tune", "2", "--work", str(work), "--out", str(tmp_path / "o")])
    # What the resumed run above must not print, printed by a run that trains.
    assert "smoke din seed 0: test AUC" in capsys.readouterr().out
    model_dir = work / "models" / "smoke" / "din"
    with open(model_dir / "tuned.json") as f:
        best = json.load(f)
    assert set(best) == set(DEFAULT_SEARCH_SPACE)
    rate = DEFAULT_SEARCH_SPACE["learning_rate"]
    assert rate["min"] <= best["learning_rate"] <= rate["max"]
    assert best["dropout"] in DEFAULT_SEARCH_SPACE["dropout"]
    assert best["init_stddev"] in DEFAULT_SEARCH_SPACE["init_stddev"]
    with open(model_dir / "0" / "hparams.json") as f:
        trained = json.load(f)
    assert {k: trained[k] for k in best} == best
    # The report says which values each model trained with.
    row = next(
        line for line in (tmp_path / "o" / "quality.md").read_text().splitlines() if line.startswith("| din ")
    )
    assert f"learning_rate {best['learning_rate']:.2g}" in row and f"dropout {best['dropout']:.2g}" in row


def test_an_ablation_trains_with_mians_searched_values_and_searches_nothing(tmp_path, work, monkeypatch):
    # One ablation is enough to show the rule (every ablation row takes the same path).
    monkeypatch.setattr(quality, "ABLATIONS", {"w/o GIM": ABLATIONS["w/o GIM"]})
    arguments = ["--smoke", "--models", "mian", "--seeds", "1", "--tune", "2", "--work", str(work)]
    quality.main([*arguments, "--out", str(tmp_path / "o")])
    models = work / "models" / "smoke"
    with open(models / "mian" / "tuned.json") as f:
        best = json.load(f)
    with open(models / "mian-w-o-GIM" / "0" / "hparams.json") as f:
        trained = json.load(f)
    assert {k: trained[k] for k in best} == best and trained["use_gim"] is False
    assert not (models / "mian-w-o-GIM" / "search").exists()
    assert not (models / "mian-w-o-GIM" / "tuned.json").exists()
