"""The ingestion and Transform pipelines translate for Dataflow: built with DataflowRunner options in
Beam's dry-run mode, every step is serialized into the job's pipeline proto and nothing is submitted
(no network is touched). A step that cannot be pickled or that the runner cannot express fails here."""

import dataclasses
import os

import apache_beam as beam
import pytest
import tensorflow_transform.beam as tft_beam
from apache_beam.options.pipeline_options import PipelineOptions
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils
from tfx_bsl.public import tfxio

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import SCHEMA_FILE, SCHEMA_ROOT, VocabularyConfig
from mian.data.ingest.pipeline import ingest
from mian.data.synthetic import GeneratorConfig, generate
from mian.stages.transform import preprocessing_fn, transform_custom_config

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

BUCKET = "gs://mian-dry-run"


def dataflow_pipeline() -> beam.Pipeline:
    options = ["--runner=DataflowRunner", "--project=mian-dry-run", "--region=us-central1",
               f"--temp_location={BUCKET}/tmp", "--dry_run=True"]  # fmt: skip
    return beam.Pipeline(options=PipelineOptions(options))


def transform_names(result) -> set[str]:
    return {t.unique_name for t in result.job.proto_pipeline.components.transforms.values()}


@pytest.mark.parametrize("join", ["side_input", "shuffle"])
def test_ingestion_translates_for_dataflow(tmp_path, join):
    generate(str(tmp_path), GeneratorConfig(users=20, items=10, days=3, seed=1))
    config = dataclasses.replace(DatasetConfig.load(str(tmp_path / "dataset.yaml")), join=join)
    pipeline = dataflow_pipeline()
    ingest(pipeline, config, str(tmp_path), f"{BUCKET}/examples", f"{BUCKET}/rejected")
    result = pipeline.run()
    assert result.state == "DONE" and result.job.proto is not None
    names = transform_names(result)
    assert {"Attach histories", "Write train", "Write rejections", "Write stats"} <= names
    assert ("Join users and items/Group with user" in names) == (join == "shuffle")


def test_transform_translates_for_dataflow(tmp_path):
    config = DatasetConfig.load(os.path.join(os.path.dirname(SCHEMA_ROOT), "configs", "synthetic.yaml"))
    schema = io_utils.parse_pbtxt_file(
        os.path.join(SCHEMA_ROOT, config.name, SCHEMA_FILE), schema_pb2.Schema()
    )
    custom_config = transform_custom_config(config, VocabularyConfig())
    pipeline = dataflow_pipeline()
    # TF Transform traces the graph at construction and keeps its temporary files where Context says;
    # on Dataflow that is a bucket, here a local directory, since nothing may leave the machine.
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        source = tfxio.TFExampleRecord(file_pattern=f"{BUCKET}/examples/*", schema=schema)
        raw = (
            pipeline
            | "Read"
            >> beam.io.ReadFromTFRecord(
                f"{BUCKET}/examples/*", coder=beam.coders.BytesCoder(), validate=False
            )  # fmt: skip
            | "Decode" >> source.RawRecordToRecordBatch()
        )
        (_, _), transform_fn = (raw, source.TensorAdapterConfig()) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, custom_config), output_record_batches=True
        )
        _ = transform_fn | tft_beam.WriteTransformFn(f"{BUCKET}/transform")
    result = pipeline.run()
    assert result.state == "DONE"
    assert any("VocabularyAnalyzer" in n or "Vocabulary" in n for n in transform_names(result))
