"""An embedding table whose ids earn their own rows by being seen: frequency admission (Eq. 2's V_j)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.feature_spec import PADDING_ID


@keras.utils.register_keras_serializable(package="mian")
class AdmittedEmbedding(keras.layers.Layer):
    """The table V_j of one categorical field, e^j = V_j x^j (Eq. 2), with frequency admission.

    With `admission_count` > 0, an id reads a row of its own only once training has looked it up
    that many times; until then it reads one of `buckets` shared rows (its id modulo `buckets`), which
    every such rare id trains together. An id with a handful of examples otherwise owns a row that
    Adam moves a learning rate per look-up and that memorizes those examples within the first epoch
    (the one-epoch overfitting of CTR models, Zhang et al., CIKM 2022): measured on ids that carry no
    signal beyond the profile, it cost every model 0.07 test AUC (bench/results/user-id.md). This is the
    rule of Transform's frequency-thresholded vocabularies, kept by the model itself, so that a caller
    without Transform has it and an id never seen in training reads the rows rare ids trained.

    The look-ups are counted per id in the non-trainable `lookups` ([vocab_size]) during training
    calls, after the batch's rows are chosen, while `counting` is on: `fit` (ClickModel's) counts
    during the first epoch of each call only (`CountFirstEpoch`), so that the count is how often the
    data holds the id, not that times the epochs (counted over every epoch, an id with 3 examples
    would earn its row at the seventh). A warm-started model carries the counts by token with the
    rows, and its next `fit` adds the new data's. Every look-up counts, a behavior step's too (the
    table is shared with the history). The padding id reads its own row always. With
    `admission_count` 0 the table is a plain embedding.

    `admit(ids, training)` maps a batch's ids to the rows they read (and counts them); calling the
    layer on rows looks them up.
    """

    def __init__(
        self,
        vocab_size: int,
        output_dim: int,
        admission_count: int = 0,
        buckets: int = 10,
        embeddings_initializer="uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if admission_count < 0:
            raise ValueError(f"admission_count must be >= 0, got {admission_count}")
        if admission_count and buckets < 1:
            raise ValueError(f"frequency admission needs buckets >= 1, got {buckets}")
        self.vocab_size = vocab_size
        self.output_dim = output_dim
        self.admission_count = admission_count
        self.buckets = buckets
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape=None):
        rows = self.vocab_size + (self.buckets if self.admission_count else 0)
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(rows, self.output_dim),
            initializer=self.embeddings_initializer,
            trainable=True,
        )
        if self.admission_count:
            # Summed over replicas: every replica's look-ups count.
            self.lookups = self.add_weight(
                name="lookups",
                shape=(self.vocab_size,),
                initializer="zeros",
                trainable=False,
                synchronization=tf.VariableSynchronization.ON_WRITE,
                aggregation=tf.VariableAggregation.SUM,
            )
            self.counting = self.add_weight(
                name="counting",
                shape=(),
                initializer="ones",
                trainable=False,
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        super().build(input_shape)

    def admit(self, ids: list, training=None) -> list:
        """The row each of `ids` (int64 tensors of any shape) reads; a training call counts them.

        The layer is built first (its owner's `build` builds it within its name scope).
        """
        if not self.built:
            raise RuntimeError(f"{self.name}: build the table before admitting ids")
        if not self.admission_count:
            return list(ids)
        rows = []
        for values in ids:
            admitted = tf.gather(self.lookups, values) >= self.admission_count
            shared = self.vocab_size + tf.math.floormod(values, self.buckets)
            rows.append(tf.where(admitted | tf.equal(values, PADDING_ID), values, shared))
        if training:
            flat = tf.concat([tf.reshape(v, [-1]) for v in ids], axis=0)
            counted = tf.math.unsorted_segment_sum(
                tf.cast(tf.not_equal(flat, PADDING_ID), self.lookups.dtype) * self.counting,
                flat,
                self.vocab_size,
            )
            with tf.control_dependencies(rows):
                self.lookups.assign_add(counted)
        return rows

    def call(self, rows):
        return tf.nn.embedding_lookup(self.embeddings, rows)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            output_dim=self.output_dim,
            admission_count=self.admission_count,
            buckets=self.buckets,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
        )
        return config


class CountFirstEpoch(keras.callbacks.Callback):
    """Counts the look-ups of every admitting table during the first epoch of a `fit` only."""

    def _count(self, on: bool) -> None:
        for table in admitting_tables(self.model):
            table.counting.assign(1.0 if on else 0.0)

    def on_train_begin(self, logs=None):
        self._count(True)

    def on_epoch_end(self, epoch, logs=None):
        self._count(False)


def admitting_tables(model: keras.Model) -> list[AdmittedEmbedding]:
    """The embedding tables of `model` that admit their ids by frequency."""
    return [m for m in model.submodules if isinstance(m, AdmittedEmbedding) and m.admission_count]
