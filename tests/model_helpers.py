"""Raw examples of the synthetic dataset, TF Transform over them, and pushed SavedModels made from it."""

import os

import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
import tf_keras as keras
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io
from tfx.utils import io_utils

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import SCHEMA_FILE, SCHEMA_ROOT, VocabularyConfig
from mian.stages.export import export_serving_model
from mian.stages.model_files import write_model_files
from mian.stages.transform import model_feature_spec, preprocessing_fn, transform_custom_config
from mian.stages.warm_start import WARM_START_DIR
from mian_keras import MIANParams, build_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def synthetic_config() -> DatasetConfig:
    return DatasetConfig.load(os.path.join(REPO, "configs", "synthetic.yaml"))


# 2024-01-01 00:00 UTC, a Monday in winter: an example's time is this plus its hour.
WINTER_MONDAY = 1_704_067_200


def raw_example(item, category, price, history=(), gender="F", hour=9, clicked=0):
    """A raw example as ingestion writes it: one value per scalar field, aligned history lists, and
    the timestamp that the time context (hour `hour`, Monday, winter) is derived from."""
    return {
        "item_id": [item],
        "category": [category],
        "brand": ["b"],
        "price": [price],
        "hist_item_id": [h for h, _ in history],
        "hist_category": [c for _, c in history],
        "hist_brand": ["b"] * len(history),
        "hist_len": [len(history)],
        "hist_len_bucket": ["0"],
        "gender": [gender],
        "age": ["18-24"],
        "occupation": ["occ1"],
        "device": ["ios"],
        "network": ["wifi"],
        "clicked": [clicked],
        "user_id": ["u1"],
        "timestamp": [WINTER_MONDAY + 3600 * hour],
    }


def serialized(raw: dict) -> bytes:
    """The tf.Example of a raw example dict."""
    features = {}
    for name, values in raw.items():
        if values and isinstance(values[0], float):
            features[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        elif values and isinstance(values[0], int):
            features[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        else:
            features[name] = tf.train.Feature(
                bytes_list=tf.train.BytesList(value=[v.encode() for v in values])
            )
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def run_transform(
    train: list[dict],
    serving: list[dict],
    temp: str,
    oov_buckets: int = 3,
    dense_scalars: bool = False,
    config: DatasetConfig | None = None,
    vocabulary: VocabularyConfig | None = None,
):
    """Analyze `train`, transform both lists; returns (train out, serving out, TFTransformOutput,
    the Transform's custom_config).

    The curated schema declares every feature variable-length (sparse); with `dense_scalars`, the
    one-value features get `shape { dim { size: 1 } }` instead, as TFDV's schema inference writes them.
    """
    config = config or synthetic_config()
    schema = io_utils.parse_pbtxt_file(
        os.path.join(SCHEMA_ROOT, config.name, SCHEMA_FILE), schema_pb2.Schema()
    )
    if dense_scalars:
        for feature in schema.feature:
            if feature.value_count.max == 1:
                feature.ClearField("value_count")
                feature.shape.dim.add().size = 1
    custom_config = transform_custom_config(config, vocabulary or VocabularyConfig(oov_buckets=oov_buckets))
    metadata = dataset_metadata.DatasetMetadata(schema)
    with tft_beam.Context(temp_dir=temp, force_tf_compat_v1=False):
        (train_out, _), transform_fn = (train, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, custom_config), output_record_batches=False
        )
        serving_out, _ = ((serving, metadata), transform_fn) | tft_beam.TransformDataset(
            output_record_batches=False
        )
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(temp, "transform"))
    # The raw schema beside it, as TFX's Transform writes it (the serving signature parses with it).
    metadata_io.write_metadata(
        metadata, os.path.join(temp, "transform", tft.TFTransformOutput.RAW_METADATA_DIR)
    )
    return train_out, serving_out, tft.TFTransformOutput(os.path.join(temp, "transform")), custom_config


# The small MIAN that `push_model` exports.
PUSHED_HPARAMS = {"num_heads": 2, "gim_width": 8, "mlp_units": [8, 4], "init_stddev": 0.3}


def with_lookups(model):
    """`model` with its tables' look-up counts (frequency admission) set as if trained: id i seen i times."""
    for table in model.get_layer("embedding").tables.values():
        table.lookups.assign(tf.range(table.vocab_size, dtype=table.lookups.dtype))
    return model


def push_model(
    base: str, version: int, tft_output, custom_config: dict, seed: int, name: str = "mian"
) -> str:
    """A small MIAN with weights drawn from `seed`, exported as the pipeline's Trainer does, to
    <base>/<name>/<version>/."""
    keras.utils.set_random_seed(seed)
    spec = model_feature_spec(tft_output, custom_config)
    model = with_lookups(build_model("mian", spec, MIANParams(**PUSHED_HPARAMS)))
    path = os.path.join(base, name, str(version))
    export_serving_model(model, tft_output, synthetic_config(), path)
    write_model_files(os.path.join(path, WARM_START_DIR), spec, "mian", PUSHED_HPARAMS)
    return path
