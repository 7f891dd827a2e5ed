import os

import pytest

from mian.cli.main import main


def test_models_command_prints_a_row_per_model_and_epoch(capsys):
    assert main(["models", "--models", "din", "lr", "--steps", "30", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [r[0] for r in rows if not r[0].isdigit()] == ["din", "lr"]
    assert len(rows) == 6  # epochs 0, 1 and 2 of each model
    din_epochs = rows[1:3]  # epoch, AUC, logloss, seconds
    assert [r[0] for r in din_epochs] == ["1", "2"]
    # DIN's product of candidate and behaviors finds the planted "category already clicked" effect.
    assert float(din_epochs[-1][1]) > 0.55


def test_models_command_rejects_an_unknown_model(capsys):
    assert main(["models", "--models", "nope"]) == 2
    assert "unknown model" in capsys.readouterr().out


def test_models_command_needs_a_subcommand():
    with pytest.raises(SystemExit):
        main([])


def test_ingest_command_writes_examples_and_exits_1_on_too_many_rejects(tmp_path, capfd):
    from mian.data.synthetic import GeneratorConfig, generate

    data = tmp_path / "data"
    generate(str(data), GeneratorConfig(users=20, items=10, days=3, seed=1))
    with open(data / "dataset.yaml", "a") as f:
        f.write("min_split_examples: 20\n")  # a log of 104 impressions over 3 days
    assert main(["ingest", "--data", str(data), "--out", str(tmp_path / "ok")]) == 0
    assert "examples written:" in capfd.readouterr().out
    assert list((tmp_path / "ok" / "examples" / "Split-train").glob("data_tfrecord-*.gz"))

    with open(data / "impressions.csv", "a") as f:
        f.writelines(f"u1,i1,{n},2,ios,wifi\n" for n in range(40))  # label 2: rejected
    assert main(["ingest", "--data", str(data), "--out", str(tmp_path / "bad")]) == 1
    assert "impressions: 40 of" in capfd.readouterr().err


def test_ingest_command_fails_in_one_line_when_a_split_is_empty(tmp_path, capfd):
    from mian.data.synthetic import GeneratorConfig, generate

    data = tmp_path / "data"
    generate(str(data), GeneratorConfig(users=20, items=10, days=3, seed=1))
    config = (data / "dataset.yaml").read_text()
    config = config.replace("eval_days: 1", "eval_days: 3").replace("test_days: 1", "test_days: 3")
    (data / "dataset.yaml").write_text(config)
    assert main(["ingest", "--data", str(data), "--out", str(tmp_path / "out")]) == 1
    log_line, *err = capfd.readouterr().err.strip().splitlines()
    assert log_line.startswith("library logs: ")
    assert len(err) == 1 and "train 0, eval 0" in err[0] and "(2.7 days)" in err[0]


def test_generate_and_ingest_keep_the_libraries_output_in_their_log(tmp_path):
    # A fresh interpreter: TensorFlow's start-up lines and the FutureWarnings come once per process.
    import subprocess
    import sys

    from tests.model_helpers import REPO

    def mian(*args):
        return subprocess.run([sys.executable, "-m", "mian.cli.main", *args], cwd=REPO, capture_output=True,
                              text=True, check=True)  # fmt: skip

    data, out = tmp_path / "data", tmp_path / "out"
    generated = mian("generate", "--out", str(data), "--users", "300", "--days", "8")
    ingested = mian("ingest", "--data", str(data), "--out", str(out))
    assert generated.stdout.startswith("wrote ") and len(generated.stdout.splitlines()) == 1
    assert ingested.stdout.startswith("impressions: ") and len(ingested.stdout.splitlines()) == 5
    for command in (generated, ingested):
        (line,) = command.stderr.splitlines()
        log = line.removeprefix("library logs: ")
        assert os.path.exists(log)
    (log,) = (out / "logs").glob("mian-ingest-*.log")
    assert log.read_text().strip()  # what the libraries said went here


def test_run_without_a_schema_says_so_in_one_line_and_exits_1(tmp_path, capsys):
    from mian.data.synthetic import GeneratorConfig, generate

    data = tmp_path / "data"
    generate(str(data), GeneratorConfig(users=20, items=10, days=3, seed=1))
    config = (data / "dataset.yaml").read_text().replace("name: synthetic", "name: mine")
    (data / "dataset.yaml").write_text(config)
    assert main(["run", "--data", str(data), "--output-root", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no schema for dataset 'mine'" in err[0] and "schema/mine/schema.pbtxt" in err[0]
    assert f"mian init --data {data}" in err[0]
    assert not (tmp_path / "runs").exists()  # nothing ran

    assert main(["run", "--data", str(tmp_path / "absent")]) == 1
    assert "no data directory" in capsys.readouterr().err


def test_ingest_and_init_name_a_missing_directory_or_config_in_one_line(tmp_path, capfd):
    assert main(["init", "--data", str(tmp_path / "absent")]) == 1
    assert capfd.readouterr().err.strip() == f"mian init: no data directory {tmp_path / 'absent'}"
    assert not (tmp_path / "absent").exists()
    (tmp_path / "tables").mkdir()
    assert main(["ingest", "--data", str(tmp_path / "tables"), "--out", str(tmp_path / "out")]) == 1
    _, *err = capfd.readouterr().err.strip().splitlines()
    assert err == [
        f"mian ingest: no dataset config at {tmp_path / 'tables' / 'dataset.yaml'}: propose one with "
        f"`mian init --data {tmp_path / 'tables'}`"
    ]


def test_run_refuses_to_derive_a_column_the_impressions_carry_before_any_component(tmp_path, capsys):
    from mian.data.synthetic import GeneratorConfig, generate

    data = tmp_path / "data"
    generate(str(data), GeneratorConfig(users=20, items=10, days=3, seed=1))
    rows = (data / "impressions.csv").read_text().splitlines()
    with_hour = [rows[0] + ",hour"] + [row + ",local" for row in rows[1:]]
    (data / "impressions.csv").write_text("\n".join(with_hour) + "\n")
    assert main(["run", "--data", str(data), "--output-root", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "derived_context ['hour'] are also columns of the impressions" in err[0]
    assert not (tmp_path / "runs" / "pipelines").exists()  # refused before the first component

    (data / "impressions.csv").unlink()
    assert main(["run", "--data", str(data), "--output-root", str(tmp_path / "runs")]) == 1
    assert "no file matches" in capsys.readouterr().err
