"""Initializers passed around as configs, never as shared instances.

An unseeded Keras initializer instance returns the same values every time it is called, so two layers
built from one instance would start with identical weights. Layers here keep the initializer's config
and make a fresh instance for every weight.
"""

from __future__ import annotations

import tf_keras as keras


def initializer_config(initializer) -> dict:
    """The serialized config of anything keras.initializers.get accepts (default glorot_uniform)."""
    return keras.initializers.serialize(keras.initializers.get(initializer or "glorot_uniform"))


def fresh_initializer(config: dict) -> keras.initializers.Initializer:
    """A new initializer instance from a config made by initializer_config."""
    return keras.initializers.get(config)
