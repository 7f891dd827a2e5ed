"""The preprocessing_fn under TF Transform's Beam implementation, on hand-made raw examples."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from mian.config.pipeline_config import VocabularyConfig
from mian.names import UNTRANSFORMED_SPLITS_FILE
from mian.stages.trainer import split_dataset_fn
from mian.stages.transform import model_feature_spec
from tests.model_helpers import raw_example, run_transform, serialized, synthetic_config

T = 30


def _examples():
    long_history = [(f"i{n % 3}", "c1") for n in range(T + 5)]
    train = [
        raw_example("i1", "c1", 10.0, history=[("i2", "c2"), ("i3", "c3")], clicked=1),
        raw_example("i2", "c2", 20.0),
        raw_example("i3", "c3", 30.0, history=long_history, gender="M", hour=20),
    ]
    serving = [raw_example("i-unseen", "c-unseen", 40.0, history=[("i1", "c1"), ("i-unseen", "c1")])]
    return train, serving


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    return run_transform(*_examples(), str(tmp_path_factory.mktemp("tft")))


def test_dense_and_sparse_schemas_give_the_same_outputs(transformed, tmp_path):
    """A TFDV-inferred schema declares one-value features dense (with a shape): same outputs."""
    dense = run_transform(*_examples(), str(tmp_path), dense_scalars=True)
    schema = dense[2].raw_metadata.schema
    assert any(f.HasField("shape") for f in schema.feature)
    for sparse_out, dense_out in zip(transformed[:2], dense[:2], strict=True):
        for got, expected in zip(dense_out, sparse_out, strict=True):
            assert set(got) == set(expected)
            for name in expected:
                np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_candidate_and_history_share_one_vocabulary(transformed):
    train, _, _, _ = transformed
    ids = {int(e["item_id"]) for e in train}
    first = train[0]
    assert list(first["hist_item_id"][:2]) == [int(train[1]["item_id"]), int(train[2]["item_id"])]
    assert list(first["hist_category"][:2]) == [int(train[1]["category"]), int(train[2]["category"])]
    assert len(ids) == 3 and all(i >= 1 for i in ids)


def test_histories_are_padded_with_zero_and_cut_to_the_newest_t(transformed):
    train, _, _, _ = transformed
    first, empty, long = train
    assert first["hist_item_id"].shape == (T,)
    assert (first["hist_item_id"][2:] == 0).all() and (first["hist_item_id"][:2] > 0).all()
    assert (empty["hist_item_id"] == 0).all()
    # Ingestion lists clicks newest first: the first T of the T + 5 are kept, "i0" leading.
    assert (long["hist_item_id"] > 0).all()
    assert long["hist_item_id"][0] == long["hist_item_id"][3] != long["hist_item_id"][1]


def test_unseen_values_get_oov_ids_inside_the_vocabulary_size(transformed):
    train, (served,), tft_output, custom_config = transformed
    spec = model_feature_spec(tft_output, custom_config)
    item_size = spec.field("item_id").vocab_size
    vocabulary = tft_output.vocabulary_by_name("item_id")
    assert sorted(vocabulary) == [b"i0", b"i1", b"i2", b"i3"]  # candidates and histories together
    assert item_size == 1 + 4 + 3  # padding, the vocabulary, three OOV buckets
    assert 5 <= int(served["item_id"]) < item_size
    assert served["hist_item_id"][0] == int(train[0]["item_id"])  # i1, seen in training
    assert 5 <= served["hist_item_id"][1] < item_size
    assert spec.field("gender").vocab_size == 1 + 2 + 3


def test_numbers_are_z_scored_with_the_train_split_statistics(transformed):
    train, (served,), _, _ = transformed
    prices = np.array([float(e["price"]) for e in train])
    np.testing.assert_allclose(prices.mean(), 0.0, atol=1e-6)
    np.testing.assert_allclose(prices.std(), 1.0, atol=1e-5)
    # 40 with mean 20 and standard deviation sqrt(200/3).
    np.testing.assert_allclose(float(served["price"]), 20.0 / np.sqrt(200.0 / 3.0), rtol=1e-5)


def test_outputs_are_the_feature_spec_inputs_and_the_label(transformed):
    train, _, tft_output, custom_config = transformed
    spec = model_feature_spec(tft_output, custom_config)
    assert set(train[0]) == set(spec.input_signature()) | {spec.label}
    assert [int(e["clicked"]) for e in train] == [1, 0, 0]
    feature_spec = tft_output.transformed_feature_spec()
    assert feature_spec["hist_item_id"].shape == [T] and feature_spec["item_id"].shape == []
    assert feature_spec["item_id"].dtype == tf.int64 and feature_spec["price"].dtype == tf.float32


def test_users_seen_less_often_than_the_threshold_share_the_ids_of_unseen_users(tmp_path):
    """The user id as a model input with `user_id_frequency_threshold` 2 and `user_id_oov_buckets` 1:
    u1 (3 examples) keeps its own id, u2 (1 example) shares the one out-of-vocabulary id with a user
    new at serving; the other fields keep `oov_buckets` hashed ids."""
    config = dataclasses.replace(
        synthetic_config(), user_columns={"user_id": "categorical", **synthetic_config().user_columns}
    )
    train = [
        {**raw_example("i1", category, 1.0), "user_id": [user]}
        for user, category in (("u1", "c1"), ("u1", "c1"), ("u1", "c1"), ("u2", "c2"))
    ]
    serving = [{**raw_example("i1", "c1", 1.0), "user_id": ["u-new"]}]
    vocabulary = VocabularyConfig(oov_buckets=3, user_id_frequency_threshold=2, user_id_oov_buckets=1)
    out, (served,), tft_output, custom_config = run_transform(
        train, serving, str(tmp_path), config=config, vocabulary=vocabulary
    )
    assert tft_output.vocabulary_by_name("user_id") == [b"u1"]
    spec = model_feature_spec(tft_output, custom_config)
    assert spec.field("user_id").vocab_size == 1 + 1 + 1
    assert spec.field("category").vocab_size == 1 + 2 + 3
    assert int(out[0]["user_id"]) == 1
    assert int(out[3]["user_id"]) == int(served["user_id"]) == 2
    # The threshold is the user id's alone: c2, seen once, keeps its own id.
    assert tft_output.vocabulary_by_name("category") == [b"c1", b"c2"]


def test_a_split_left_untransformed_is_read_raw_through_the_transform_graph(transformed, tmp_path):
    """A daily window's train split that Transform left raw (the Trainer was expected to start warm)
    reads, for a Trainer falling back to a cold start, as Transform would have written it."""
    train, _, tft_output, _ = transformed
    raw_dir = tmp_path / "window" / "Split-train"
    raw_dir.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(raw_dir / "part-0.gz"), options="GZIP") as writer:
        for example in _examples()[0]:
            writer.write(serialized(example))
    output = tmp_path / "transformed"
    output.mkdir()
    (output / UNTRANSFORMED_SPLITS_FILE).write_text(json.dumps({"train": [str(raw_dir / "*")]}))
    make = split_dataset_fn([os.path.join(output, "Split-train", "*")], tft_output, "clicked")
    ((features, labels),) = list(make(len(train), 1))
    np.testing.assert_array_equal(labels.numpy().ravel(), [e["clicked"] for e in train])
    assert set(features) == set(train[0]) - {"clicked"}
    for name in features:
        expected = np.stack([e[name] for e in train])
        np.testing.assert_allclose(features[name].numpy().reshape(expected.shape), expected, err_msg=name)

    # A split neither transformed nor listed is named in the error.
    with pytest.raises(ValueError, match="split 'eval' is neither transformed nor listed"):
        split_dataset_fn([os.path.join(output, "Split-eval", "*")], tft_output, "clicked")
