"""The candidate's inner products with the other fields: an FM term on the pairs MIAN relates."""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="mian")
class CandidateProducts(keras.layers.Layer):
    """sum_a sum_j <e_a, e^j> over the candidate's fields a and the other fields j of the same width.

    IUIM (Eqs. 10-11) and ICIM (Eqs. 12-13) weigh each user or context field by its relevance to the
    candidate and hand the weighted fields to GIM and the MLP, which must then learn the products of
    item and field that a click depends on (a user who likes this item, a device that clicks this
    category). This term gives the logit those products directly, as the FM part of DeepFM does for
    every pair of fields, but only for the pairs MIAN's local modules are about: the candidate with a
    user field, a context field, or a behavior field (its mean over the clicked steps). With a user id
    among the user fields, <e_item, e_user> is matrix factorization's score.

    Fields pair by width: a field narrower or wider than every candidate field (a numerical scalar,
    an embedding of its own size) has no product. The sums factor, sum_{a,j} <e_a, e^j> =
    <sum_a e_a, sum_j e^j> per width, so the cost is O(F d).

    Call with [e_a^1, ..., e_a^A, e^1, ..., e^J] ([batch, width] each) and `candidates` = A; returns
    [batch, 1].
    """

    def __init__(self, candidates: int, **kwargs):
        super().__init__(**kwargs)
        if candidates < 1:
            raise ValueError(f"candidates must be >= 1, got {candidates}")
        self.candidates = candidates

    def call(self, fields):
        item_sums = {}
        other_sums = {}
        for n, field in enumerate(fields):
            sums = item_sums if n < self.candidates else other_sums
            width = int(field.shape[-1])
            sums[width] = sums[width] + field if width in sums else field
        products = [
            tf.reduce_sum(item_sums[w] * other_sums[w], axis=-1, keepdims=True)
            for w in sorted(item_sums)
            if w in other_sums
        ]
        if not products:
            return tf.zeros_like(fields[0][:, :1])
        return tf.add_n(products)

    def get_config(self):
        config = super().get_config()
        config.update(candidates=self.candidates)
        return config
