"""ClickLogExampleGen as a TFX component, run by TFX's LocalDagRunner."""

import glob
import os
from unittest import mock

import pytest
from tfx.orchestration import metadata
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.utils import dependency_utils

from mian.components.click_log_example_gen import ClickLogExampleGen
from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import PipelineConfig, default_config_path
from mian.data.synthetic import GeneratorConfig, generate
from tests.ingest_helpers import read_examples

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e


def run_component(data_dir, root, config, beam_args=()):
    component = ClickLogExampleGen(input_base=str(data_dir), dataset_config=config)
    pipeline = tfx_pipeline.Pipeline(
        pipeline_name="example_gen_test",
        pipeline_root=str(root / "pipeline"),
        components=[component],
        metadata_connection_config=metadata.sqlite_metadata_connection_config(str(root / "mlmd.sqlite")),
        beam_pipeline_args=list(beam_args),
    )
    LocalDagRunner().run(pipeline)
    return root / "pipeline" / "ClickLogExampleGen"


def test_component_writes_examples_in_tfx_split_layout(tmp_path):
    data_dir = tmp_path / "data"
    generate(str(data_dir), GeneratorConfig(users=40, items=30, days=6, seed=2))
    with open(data_dir / "dataset.yaml", "a") as f:
        f.write("min_split_examples: 20\n")  # a small log
    # With the shipped Beam options, TFX does not package itself for remote workers (a sdist of 50 MB
    # in the temp dir per Beam component execution, which the local DirectRunner never reads).
    shipped_beam_args = PipelineConfig.load(default_config_path()).beam_args
    with mock.patch.object(
        dependency_utils, "build_ephemeral_package", wraps=dependency_utils.build_ephemeral_package
    ) as packaging:
        outputs = run_component(data_dir, tmp_path, str(data_dir / "dataset.yaml"), shipped_beam_args)
    assert packaging.call_count == 0
    (examples_dir,) = glob.glob(str(outputs / "examples" / "*"))
    for split in ("train", "eval", "test"):
        files = glob.glob(os.path.join(examples_dir, f"Split-{split}", "data_tfrecord-*.gz"))
        assert files, split
        assert read_examples(os.path.join(examples_dir, f"Split-{split}"))
    (rejected_dir,) = glob.glob(str(outputs / "rejected" / "*"))
    assert os.path.exists(os.path.join(rejected_dir, "ingestion_stats.json"))


def test_component_fails_when_too_many_rows_are_rejected(tmp_path):
    data_dir = tmp_path / "data"
    generate(str(data_dir), GeneratorConfig(users=20, items=10, days=3, seed=2))
    with open(data_dir / "impressions.csv", "a") as f:
        f.writelines(f"u1,i1,not-a-time-{n},1,ios,wifi\n" for n in range(30))
    config = DatasetConfig.load(str(data_dir / "dataset.yaml"))
    with pytest.raises(Exception, match="impressions: 30 of .* rows rejected"):
        run_component(data_dir, tmp_path, config)
