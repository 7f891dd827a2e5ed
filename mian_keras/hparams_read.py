"""Which hyperparameters a model reads.

A model's hyperparameters class holds its settings, some read only under another setting (say
cross_parallel when gim_cross_layers > 0): a setting the model never reads with the others as they are
does nothing, silently. Found by building and compiling the model once with hyperparameters that
record each field they are asked for, so that no hand-kept list can drift from the code.
"""

from __future__ import annotations

import dataclasses

from mian_keras.feature_spec import FeatureSpec, Field, SequenceField
from mian_keras.hparams import HParams
from mian_keras.models.registry import build_model
from mian_keras.training import compile_model


def probe_spec() -> FeatureSpec:
    """A small spec with every kind of field in every group: every model builds every part it has."""
    return FeatureSpec(
        item_fields=(Field("item", vocab_size=8, embedding_dim=4), Field("price", kind="numerical")),
        sequence_fields=(SequenceField("hist_item", twin="item"),),
        user_fields=(Field("user", vocab_size=8, embedding_dim=4), Field("activity", kind="numerical")),
        context_fields=(Field("hour", vocab_size=8, embedding_dim=4),),
        sequence_length=3,
    )


def fields_read(model: str, hparams: HParams, spec: FeatureSpec | None = None) -> set[str]:
    """The HParams fields that building and compiling `model` with `hparams` reads.

    A field read only under another setting (say gim_cross_layers under gim_pooling "cross") counts
    when that setting is so set.
    """
    kind = type(hparams)
    names = {f.name for f in dataclasses.fields(kind)}
    read: set[str] = set()

    class Recording(kind):  # type: ignore[valid-type,misc]
        def __getattribute__(self, name):
            if name in names:
                read.add(name)
            return super().__getattribute__(name)

    recording = Recording(**{name: getattr(hparams, name) for name in names})
    read.clear()  # what HParams' own checks read on construction
    compile_model(build_model(model, spec or probe_spec(), recording), recording)
    return read
