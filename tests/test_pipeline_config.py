"""The pipeline config: where each pipeline's models are served, the tuning section, and Transform's
statistics."""

import pytest

from mian.config.pipeline_config import PipelineConfig, TrainingConfig, TuningConfig
from mian.data.synthetic import GeneratorConfig, generate
from mian.pipeline.mian_pipeline import create_components


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


def test_transform_computes_statistics_only_when_the_config_asks(tmp_path):
    data = tmp_path / "data"
    generate(str(data), GeneratorConfig(users=20, items=10, days=3, seed=1))
    config = PipelineConfig(data_dir=str(data), output_root=str(tmp_path / "runs"))
    statistics = {"pre_transform_stats", "post_transform_stats", "post_transform_anomalies"}

    def transform_outputs(config):
        (transform,) = [c for c in create_components(config, until="Transform") if c.id == "Transform"]
        return set(transform.outputs)

    assert not statistics & transform_outputs(config)
    assert statistics <= transform_outputs(config.replace(transform_statistics=True))
    loaded = PipelineConfig.from_dict({"data_dir": str(data), "transform_statistics": True})
    assert loaded.transform_statistics is True
