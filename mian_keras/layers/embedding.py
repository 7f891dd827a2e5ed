"""The Embedding Layer (section 3.2.1, Eqs. 1-2)."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from mian_keras.feature_spec import PADDING_ID, FeatureSpec


@keras.utils.register_keras_serializable(package="mian")
class FeatureEmbedding(keras.layers.Layer):
    """Maps every raw field to its representation e^j (Eq. 2).

    A categorical field is looked up in its own table V_j (e^j = V_j x^j for a one-hot x^j); a numerical
    field is its scalar, used as is, with a trailing axis of width 1. A behavior field looks up the table
    of its item twin, so `hist_item_id` and `item_id` share one table.

    `embedding_l2` penalizes the embeddings a batch looks up (per example, c * sum of squares), not whole
    tables: the cost of the penalty follows the batch, not the size of the vocabulary, and rows that a
    batch does not touch are left alone (DIN's mini-batch aware regularization in spirit).

    Call with the dict of raw inputs; returns a dict with one tensor per field: [batch, width] for item,
    user and context fields, [batch, T, width] for behavior fields.
    """

    def __init__(self, spec: dict, initializer=None, embedding_l2: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.spec_config = spec
        self.feature_spec = FeatureSpec.from_dict(spec)
        self.initializer = keras.initializers.serialize(keras.initializers.get(initializer or "uniform"))
        self.embedding_l2 = embedding_l2
        regularizer = keras.regularizers.L2(embedding_l2) if embedding_l2 else None
        self.tables = {
            f.name: keras.layers.Embedding(
                f.vocab_size,
                f.embedding_dim,
                embeddings_initializer=self.initializer,  # a config: a fresh instance per table
                activity_regularizer=regularizer,
                name=f"table_{f.name}",
            )
            for f in self.feature_spec.scalar_fields()
            if f.is_categorical
        }

    def call(self, inputs):
        spec = self.feature_spec
        outputs = {}
        for f in spec.scalar_fields():
            outputs[f.name] = self._represent(f, inputs[f.name])
        for seq in spec.sequence_fields:
            outputs[seq.name] = self._represent(spec.twin_of(seq), inputs[seq.name])
        return outputs

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
        )
        return config


def behavior_mask(inputs: dict, spec: FeatureSpec) -> tf.Tensor:
    """[batch, T] boolean: True at the behavior steps that hold a click, False at padding (id 0)."""
    return tf.not_equal(inputs[spec.mask_field.name], PADDING_ID)
