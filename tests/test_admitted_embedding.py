"""Frequency admission: an id earns a row of its own by being looked up in training, and until then it
reads a row shared with the other rare ids (mian_keras.layers.admitted_embedding)."""

import numpy as np
import tensorflow as tf

from mian_keras import HParams, build_model, compile_model
from mian_keras.feature_spec import FeatureSpec, Field, SequenceField
from mian_keras.layers.admitted_embedding import AdmittedEmbedding
from mian_keras.layers.embedding import FeatureEmbedding


def table(vocab_size=10, admission_count=3, buckets=4) -> AdmittedEmbedding:
    layer = AdmittedEmbedding(vocab_size, 2, admission_count=admission_count, buckets=buckets)
    layer.build()
    return layer


def rows(layer, ids, training) -> list:
    return [r.numpy().tolist() for r in layer.admit([tf.constant(i, tf.int64) for i in ids], training)]


def test_an_id_reads_a_shared_row_until_training_has_looked_it_up_admission_count_times():
    layer = table()
    # Id 5's shared row: the 10 own rows, then bucket 5 mod 4.
    assert rows(layer, [[5, 5]], training=True) == [[11, 11]]  # decided before the batch is counted
    assert rows(layer, [[5]], training=False) == [[11]]  # inference does not count
    assert rows(layer, [[5]], training=True) == [[11]]
    assert layer.lookups.numpy()[5] == 3
    assert rows(layer, [[5, 6]], training=False) == [[5, 12]]  # admitted; 6 never seen
    # The padding id reads its own row and is never counted.
    assert rows(layer, [[0, 0, 0, 0]], training=True) == [[0, 0, 0, 0]]
    assert layer.lookups.numpy()[0] == 0


def test_without_admission_every_id_reads_its_own_row():
    layer = table(admission_count=0)
    assert rows(layer, [[5, 7]], training=True) == [[5, 7]]
    assert layer.embeddings.shape == (10, 2) and not layer.non_trainable_weights


def test_a_behavior_step_counts_for_the_table_it_shares_with_its_item_field():
    spec = FeatureSpec(
        item_fields=(Field("item_id", vocab_size=6, embedding_dim=2),),
        sequence_fields=(SequenceField("hist_item_id", twin="item_id"),),
        sequence_length=3,
    )
    embedding = FeatureEmbedding(spec.to_dict(), admission_count=2, admission_buckets=2)
    inputs = {"item_id": tf.constant([4], tf.int64), "hist_item_id": tf.constant([[4, 3, 0]], tf.int64)}
    embedding(inputs, training=True)
    np.testing.assert_array_equal(embedding.tables["item_id"].lookups.numpy(), [0, 0, 0, 1, 2, 0])


def test_ids_training_never_saw_enough_share_rows_in_a_trained_and_saved_model(tmp_path):
    """Two users seen once each, in the same bucket, score alike, in the Keras model and the saved one;
    a frequent user has a row of its own."""
    spec = FeatureSpec(
        item_fields=(Field("item_id", vocab_size=5, embedding_dim=4),),
        user_fields=(Field("user_id", vocab_size=40, embedding_dim=4),),
    )
    hp = HParams(mlp_units=(8,), weight_averaging=None, id_admission_count=5, id_admission_buckets=3)
    model = compile_model(build_model("wdl", spec, hp), hp)
    users = np.array([1] * 60 + [4, 7])  # user 1 often; users 4 and 7 once, both in bucket 1
    rng = np.random.default_rng(0)
    features = {"item_id": rng.integers(1, 5, len(users)), "user_id": users}
    labels = (features["item_id"] % 2).astype("float32")
    model.fit(features, labels, batch_size=8, epochs=3, verbose=0)
    # How often the data holds each user: the first epoch's look-ups, not the three epochs'.
    lookups = model.get_layer("embedding").tables["user_id"].lookups.numpy()
    assert (lookups[1], lookups[4], lookups[10]) == (60, 1, 0)

    probe = {"item_id": np.array([2, 2, 2, 2]), "user_id": np.array([4, 7, 10, 1])}  # 10: never seen
    scores = model.predict(probe, verbose=0)[:, 0]
    assert scores[0] == scores[1] == scores[2] != scores[3]
    model.save(str(tmp_path / "saved"), save_format="tf")
    served = tf.saved_model.load(str(tmp_path / "saved"))
    probe = {name: tf.constant(values, tf.int64) for name, values in probe.items()}
    np.testing.assert_allclose(served(probe, training=False).numpy()[:, 0], scores, rtol=1e-5)
