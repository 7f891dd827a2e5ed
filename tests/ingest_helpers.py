"""Running the ingestion pipeline in tests and reading what it wrote."""

import glob
import json
import os

import tensorflow as tf

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest.pipeline import output_splits, split_dir
from mian.data.ingest.run import examples_dir, rejected_dir, run_to_directory


def run_ingestion(data_dir, out_dir, config: DatasetConfig, beam_args=(), span=None):
    """Run the pipeline (of one `span`, for daily partitions); return (examples by split as feature
    dicts, rejections, stats)."""
    stats = run_to_directory(config, str(data_dir), str(out_dir), beam_args, span)
    examples = {
        split: read_examples(split_dir(examples_dir(str(out_dir)), split)) for split in output_splits(config)
    }
    rejections = []
    for path in sorted(glob.glob(os.path.join(rejected_dir(str(out_dir)), "rejected*.jsonl"))):
        with open(path) as f:
            rejections += [json.loads(line) for line in f]
    return examples, rejections, stats


def read_examples(directory):
    """Every example of a split directory as {feature: list of python values}."""
    examples = []
    for path in sorted(glob.glob(os.path.join(directory, "*.gz"))):
        for record in tf.data.TFRecordDataset(path, compression_type="GZIP"):
            example = tf.train.Example.FromString(record.numpy())
            examples.append({name: _values(f) for name, f in example.features.feature.items()})
    return examples


def _values(feature):
    kind = feature.WhichOneof("kind")
    values = list(getattr(feature, kind).value) if kind else []
    return [v.decode() if isinstance(v, bytes) else v for v in values]
