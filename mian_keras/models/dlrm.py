"""DLRM-style dot interaction (Naumov et al. 2019), from TF Recommenders' layer.

A baseline beyond Table 2.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from mian_keras.feature_spec import FeatureSpec
from mian_keras.hparams import HParams
from mian_keras.models.common import concat, embed_inputs, logit_model, mlp, stack_fields


def build_dlrm(spec: FeatureSpec, hp: HParams) -> keras.Model:
    """DLRM: pairwise dot products of the field embeddings, then the MLP.

    The numerical fields go through a bottom layer to the embedding width; the pairwise dot products of
    that vector and every categorical field's embedding (`tfrs.layers.feature_interaction.
    DotInteraction`) and the dense vector feed the MLP.

    The behavior sequence enters as a bag: the mean of its clicked items.
    """
    x = embed_inputs(spec, hp)
    categorical = stack_fields(x, "dlrm")  # [batch, F, d]
    width = int(categorical.shape[-1])
    numerical = [x.fields[f.name] for f in spec.scalar_fields() if not f.is_categorical]
    vectors = tf.unstack(categorical, axis=1)
    if numerical:
        dense = keras.layers.Dense(width, activation="relu", name="bottom", **hp.kernel_args())(
            concat(numerical, name="numerical")
        )
        vectors = [dense, *vectors]
    interactions = tfrs.layers.feature_interaction.DotInteraction(name="dot_interaction")(vectors)
    top = concat([interactions, vectors[0]] if numerical else [interactions], name="top_input")
    return logit_model(x.inputs, hp, "dlrm", hidden=mlp(hp)(top))
