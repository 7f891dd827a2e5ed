"""The Embedding Layer (section 3.2.1, Eqs. 1-2)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.feature_spec import PADDING_ID, FeatureSpec
from mian_keras.layers.admitted_embedding import AdmittedEmbedding

# What the embeddings' L2 penalizes: every lookup of a batch, or each distinct row the batch looks up once.
PER_LOOKUP = "lookup"
PER_ROW = "row"


@keras.utils.register_keras_serializable(package="mian")
class FeatureEmbedding(keras.layers.Layer):
    """Maps every raw field to its representation e^j (Eq. 2).

    A categorical field is looked up in its own table V_j (e^j = V_j x^j for a one-hot x^j); a numerical
    field is its scalar, used as is, with a trailing axis of width 1. A behavior field looks up the table
    of its item twin, so `hist_item_id` and `item_id` share one table.

    `embedding_l2` penalizes the embeddings a batch looks up, not whole tables: the cost of the penalty
    follows the batch, not the size of the vocabulary, and rows that a batch does not touch are left
    alone. With `l2_per="row"` every distinct row the batch looks up is penalized once,
    c * ||V_r||^2, however many examples or history steps look it up, and the padding row never
    (DIN's mini-batch aware regularization without its frequency weights). With `l2_per="lookup"`
    every lookup is penalized, c * sum of squares per example: a row is pulled in proportion to how
    often the batch uses it, history steps and padding included.

    With `admission_count` > 0 every table admits its ids by frequency (AdmittedEmbedding): an id
    training has looked up fewer times reads one of `admission_buckets` shared rows. The penalty
    applies to the rows read.

    Call with the dict of raw inputs; returns a dict with one tensor per field: [batch, width] for item,
    user and context fields, [batch, T, width] for behavior fields.
    """

    def __init__(
        self,
        spec: dict,
        initializer=None,
        embedding_l2: float = 0.0,
        l2_per: str = PER_ROW,
        admission_count: int = 0,
        admission_buckets: int = 10,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if l2_per not in (PER_ROW, PER_LOOKUP):
            raise ValueError(f"l2_per must be {PER_ROW!r} or {PER_LOOKUP!r}, got {l2_per!r}")
        self.spec_config = spec
        self.feature_spec = FeatureSpec.from_dict(spec)
        self.initializer = keras.initializers.serialize(keras.initializers.get(initializer or "uniform"))
        self.embedding_l2 = embedding_l2
        self.l2_per = l2_per
        self.admission_count = admission_count
        self.admission_buckets = admission_buckets
        per_lookup = embedding_l2 and l2_per == PER_LOOKUP
        regularizer = keras.regularizers.L2(embedding_l2) if per_lookup else None
        self.tables = {
            f.name: AdmittedEmbedding(
                f.vocab_size,
                f.embedding_dim,
                admission_count=admission_count,
                buckets=admission_buckets,
                embeddings_initializer=self.initializer,  # a config: a fresh instance per table
                activity_regularizer=regularizer,
                name=f"table_{f.name}",
            )
            for f in self.feature_spec.scalar_fields()
            if f.is_categorical
        }
        # Per table, the inputs that look it up: its field, then the field's behavior twins.
        self.inputs_of_table = {name: [name] for name in self.tables}
        for seq in self.feature_spec.sequence_fields:
            if seq.twin in self.tables:
                self.inputs_of_table[seq.twin].append(seq.name)

    def build(self, input_shape):
        for table in self.tables.values():
            with tf.name_scope(table.name):
                table.build(None)
        super().build(input_shape)

    def call(self, inputs, training=None):
        spec = self.feature_spec
        rows = self._rows(inputs, training)
        outputs = {}
        for f in spec.scalar_fields():
            outputs[f.name] = self._represent(f, rows.get(f.name, inputs[f.name]))
        for seq in spec.sequence_fields:
            outputs[seq.name] = self._represent(spec.twin_of(seq), rows.get(seq.name, inputs[seq.name]))
        if self.embedding_l2 and self.l2_per == PER_ROW:
            self.add_loss(self._row_penalty(rows))
        return outputs

    def _rows(self, inputs, training) -> dict:
        """Per categorical input (item, user, context and behavior), the table rows its ids read."""
        rows: dict[str, tf.Tensor] = {}
        for table, names in self.inputs_of_table.items():
            admitted = self.tables[table].admit([inputs[n] for n in names], training)
            rows.update(zip(names, admitted, strict=True))
        return rows

    def _row_penalty(self, rows: dict) -> tf.Tensor:
        """The penalty c * sum of ||V_r||^2 over the distinct non-padding rows r a batch looks up."""
        terms = []
        for name, table in self.tables.items():
            read = [tf.reshape(rows[n], [-1]) for n in self.inputs_of_table[name]]
            unique, _ = tf.unique(tf.concat(read, axis=0))
            unique = tf.boolean_mask(unique, tf.not_equal(unique, PADDING_ID))
            terms.append(tf.reduce_sum(tf.square(tf.gather(table.embeddings, unique))))
        return self.embedding_l2 * tf.add_n(terms)

    def _represent(self, field, values):
        if field.is_categorical:
            return self.tables[field.name](values)
        return tf.expand_dims(tf.cast(values, self.compute_dtype), -1)

    def get_config(self):
        config = super().get_config()
        config.update(
            spec=self.spec_config,
            initializer=self.initializer,
            embedding_l2=self.embedding_l2,
            l2_per=self.l2_per,
            admission_count=self.admission_count,
            admission_buckets=self.admission_buckets,
        )
        return config


def behavior_mask(inputs: dict, spec: FeatureSpec) -> tf.Tensor:
    """[batch, T] boolean: True at the behavior steps that hold a click, False at padding (id 0)."""
    mask = spec.mask_field
    if mask is None:
        raise ValueError("the feature spec has no categorical behavior field to mask the padding by")
    return tf.not_equal(inputs[mask.name], PADDING_ID)
