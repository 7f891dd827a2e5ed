"""`mian run` checks every setting before its first component: a bad one is one line naming the key and
what it may be, exit code 2, and nothing written (mian.config.settings_check)."""

import dataclasses
import json

import pytest
import yaml

from mian.cli.main import USAGE_ERROR, main
from mian.config.pipeline_config import PipelineConfig, TuningConfig, default_config_path
from mian.config.settings_check import settings_problems
from mian_keras import ABLATIONS, MODELS, MIANParams


def refused(tmp_path, capsys, *arguments) -> str:
    """The one line `mian run ARGUMENTS` prints before refusing to start; nothing was written."""
    runs = tmp_path / "runs"
    assert main(["run", "--output-root", str(runs), *arguments]) == USAGE_ERROR
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mian run: ")
    assert not runs.exists()  # no data generated, no component run
    return line


def test_hparams_that_are_not_json_name_the_flag(tmp_path, capsys):
    line = refused(tmp_path, capsys, "--hparams", "{bad")
    assert "--hparams is not JSON" in line and "{bad" in line
    assert "JSON object" in refused(tmp_path, capsys, "--hparams", "[1, 2]")


def test_an_unknown_model_names_the_models(tmp_path, capsys):
    line = refused(tmp_path, capsys, "--model", "nosuchmodel")
    assert "training.model: 'nosuchmodel' is not a model" in line
    assert all(name in line for name in MODELS)


def test_an_unknown_or_mistyped_hyperparameter_names_the_key(tmp_path, capsys):
    line = refused(tmp_path, capsys, "--hparams", '{"bogus": 1}')
    assert "'bogus' is not a setting of model 'mian'" in line
    assert "learning_rate" in line and "dropout" in line and "num_heads" in line
    line = refused(tmp_path, capsys, "--hparams", '{"dropout": "high"}')
    assert "training.hparams.dropout: 'high' is not a number" in line
    line = refused(tmp_path, capsys, "--hparams", '{"mlp_units": [64, "x"]}')
    assert "training.hparams.mlp_units" in line and "is not a list of integers" in line
    line = refused(tmp_path, capsys, "--hparams", '{"use_gim": 1}')
    assert "training.hparams.use_gim: 1 is not true or false" in line
    # HParams' own rules, before any component too.
    assert "dropout must be in [0, 1)" in refused(tmp_path, capsys, "--hparams", '{"dropout": 1.5}')


def test_a_bad_config_file_or_search_space_is_refused_in_one_line(tmp_path, capsys):
    config = PipelineConfig.load(default_config_path())
    raw = dataclasses.asdict(config)
    bad_key = tmp_path / "bad-key.yaml"
    bad_key.write_text(yaml.safe_dump({**raw, "trainng": {}}))
    assert "trainng" in refused(tmp_path, capsys, "--config", str(bad_key))
    search = {"learning_rate": {"min": 0.01, "max": 0.001}, "dropout": [0.1]}
    bad_search = tmp_path / "bad-search.yaml"
    bad_search.write_text(yaml.safe_dump({**raw, "tuning": {"enabled": True, "search_space": search}}))
    line = refused(tmp_path, capsys, "--config", str(bad_search))
    assert "tuning.search_space.learning_rate: a range is {min, max, sampling} with numbers min < max" in line


@pytest.mark.parametrize(
    "space, problem",
    [
        ({"dropuot": [0.1]}, "'dropuot' is not a setting of model 'mian'"),
        ({"dropout": []}, "a choice must be a non-empty list of a number"),
        ({"learning_rate": {"min": 0.0, "max": 0.1, "sampling": "log"}}, "a log range needs min > 0"),
        ({"learning_rate": {"min": 0.001, "max": 0.1, "sampling": "cubic"}}, "'cubic' is not one of"),
        ({"num_heads": 4}, "a list of choices or a {min, max, sampling} range"),
    ],
)
def test_search_space_problems(space, problem):
    config = PipelineConfig(data_dir="d", tuning=TuningConfig(enabled=True, search_space=space))
    (line,) = settings_problems(config)
    assert problem in line and line.startswith(f"tuning.search_space.{next(iter(space))}")


def test_every_shipped_setting_and_preset_passes():
    for path in (default_config_path(), "configs/daily.yaml"):
        assert settings_problems(PipelineConfig.load(path)) == []
    config = PipelineConfig(data_dir="d", tuning=TuningConfig(enabled=True))  # the default search space
    defaults = dataclasses.asdict(MIANParams())
    paper = {k: v for k, v in dataclasses.asdict(MIANParams.paper()).items() if v != defaults[k]}
    for changes in [paper, *ABLATIONS.values()]:
        # As a config file carries them: the changed values only, in JSON (tuples as lists).
        values = json.loads(json.dumps(changes))
        trained = dataclasses.replace(config.training, hparams=values)
        assert settings_problems(dataclasses.replace(config, training=trained)) == [], changes


def test_a_setting_the_model_does_not_read_is_refused(tmp_path, capsys):
    # Another model's setting is not one of this model's.
    line = refused(tmp_path, capsys, "--model", "mian", "--hparams", '{"cin_layer_sizes": [32, 32]}')
    assert (
        "training.hparams: 'cin_layer_sizes' is not a setting of model 'mian'" in line and "num_heads" in line
    )
    line = refused(tmp_path, capsys, "--model", "lr", "--hparams", '{"dropout": 0.3}')
    assert "training.hparams.dropout: model 'lr' does not read it" in line
    # Read under another setting only: cross_parallel matters when GIM has cross layers.
    config = PipelineConfig(data_dir="d")
    for hparams, problems in (({"gim_cross_layers": 0, "cross_parallel": True}, ["cross_parallel"]),
                              ({"gim_cross_layers": 1, "cross_parallel": True}, [])):  # fmt: skip
        changed = dataclasses.replace(config, training=dataclasses.replace(config.training, hparams=hparams))
        assert [p.split(":")[0] for p in settings_problems(changed)] == [
            f"training.hparams.{name}" for name in problems
        ]
    # A searched setting the model does not have would waste every trial.
    search = TuningConfig(enabled=True, search_space={"attention_units": [[16], [36]]})
    (problem,) = settings_problems(dataclasses.replace(PipelineConfig(data_dir="d"), tuning=search))
    assert problem.startswith(
        "tuning.search_space.attention_units: 'attention_units' is not a setting of model"
    )


def test_a_model_saved_with_a_field_hparams_no_longer_has_still_loads(tmp_path):
    from mian.stages.model_files import HPARAMS_FILE, rebuild_model, write_model_files
    from tests.conftest import small_spec

    write_model_files(str(tmp_path), small_spec(), "din", {"dropout": 0.3})
    path = tmp_path / HPARAMS_FILE
    saved = json.loads(path.read_text())
    # As models saved before batch_size went, and before each model had its own class, wrote them.
    path.write_text(json.dumps({**saved, "batch_size": 128, "num_heads": 8, "cin_layer_sizes": [16, 16]}))
    model = rebuild_model(str(tmp_path))
    assert model.count_params() > 0


def test_a_mian_saved_before_a_default_changed_rebuilds_as_it_trained(tmp_path):
    from mian.stages.model_files import HPARAMS_FILE, rebuild_model, write_model_files
    from tests.conftest import small_spec

    write_model_files(str(tmp_path), small_spec(), "mian", {})
    path = tmp_path / HPARAMS_FILE
    saved = json.loads(path.read_text())
    assert saved["candidate_products"] is True and saved["id_admission_count"] == 100
    assert "candidate_products" in {layer.name for layer in rebuild_model(str(tmp_path)).layers}
    # As files written before those settings existed hold them: not at all.
    path.write_text(json.dumps({"model": "mian"}))
    model = rebuild_model(str(tmp_path))
    assert "candidate_products" not in {layer.name for layer in model.layers}
    assert not any(table.admission_count for table in model.get_layer("embedding").tables.values())
