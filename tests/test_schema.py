"""The curated schemas describe exactly the examples ingestion writes for their dataset configs."""

import os

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils

from mian.config.dataset_config import DatasetConfig
from mian.config.pipeline_config import SCHEMA_FILE, SCHEMA_ROOT
from mian.names import HISTORY_BUCKET_FEATURE, HISTORY_LENGTH_FEATURE, TIMESTAMP_FEATURE, USER_ID_FEATURE
from mian.stages.export import raw_input_fields

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("config_file", ["synthetic.yaml", "movielens.yaml"])
def test_schema_matches_the_dataset_config(config_file):
    config = DatasetConfig.load(os.path.join(REPO, "configs", config_file))
    schema = io_utils.parse_pbtxt_file(
        os.path.join(SCHEMA_ROOT, config.name, SCHEMA_FILE), schema_pb2.Schema()
    )
    features = {f.name: f for f in schema.feature}
    written = set(raw_input_fields(config)) | {
        HISTORY_LENGTH_FEATURE,
        HISTORY_BUCKET_FEATURE,
        USER_ID_FEATURE,
        TIMESTAMP_FEATURE,
        config.label,
    }
    assert set(features) == written
    # The time context is derived in the Transform graph: no example carries it, so no schema has it.
    assert not set(config.derived_context) & set(features)
    assert features[TIMESTAMP_FEATURE].value_count.min == 1

    for column in config.history_columns:
        history = features[config.history_feature(column)]
        assert (history.value_count.min, history.value_count.max) == (0, config.history_length)
    assert features[HISTORY_LENGTH_FEATURE].int_domain.max == config.history_length
    assert list(features[config.label].not_in_environment) == ["SERVING"]
    # Every declared domain exists, and the history buckets have one.
    domains = {d.name for d in schema.string_domain}
    assert {f.domain for f in schema.feature if f.domain} <= domains
    assert features[HISTORY_BUCKET_FEATURE].domain == HISTORY_BUCKET_FEATURE
