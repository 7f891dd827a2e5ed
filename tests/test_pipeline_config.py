"""The pipeline config: where each pipeline's models are served, and the tuning section."""

import pytest

from mian.config.pipeline_config import PipelineConfig, TrainingConfig, TuningConfig


def test_two_pipelines_training_one_model_push_to_two_served_names(tmp_path):
    first = PipelineConfig(data_dir="a", pipeline_name="clicks", output_root=str(tmp_path))
    second = first.replace(data_dir="b", pipeline_name="movies")
    assert first.training == second.training == TrainingConfig()
    assert first.model_serving_dir == str(tmp_path / "serving" / "clicks")
    assert second.model_serving_dir == str(tmp_path / "serving" / "movies")


def test_tuning_reads_from_a_dict_and_rejects_an_empty_search():
    config = PipelineConfig.from_dict(
        {"data_dir": "d", "tuning": {"enabled": True, "trials": 2, "search_space": {"dropout": [0.0, 0.1]}}}
    )
    assert config.tuning == TuningConfig(enabled=True, trials=2, search_space={"dropout": [0.0, 0.1]})
    assert PipelineConfig(data_dir="d").tuning.enabled is False
    with pytest.raises(ValueError, match="search space is empty"):
        TuningConfig(search_space={})
