"""Test set-up: the Keras 2 API (tf-keras) must be chosen before TensorFlow is imported."""

import collections
import dataclasses
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from mian_keras import HParams, MIANParams, hparams_for, own_settings
from mian_keras.feature_spec import FeatureSpec, Field, SequenceField


def small_spec(sequence_length: int = 6) -> FeatureSpec:
    """Every kind of field in every group, small enough for fast tests."""
    return FeatureSpec(
        item_fields=(
            Field("item_id", vocab_size=50, embedding_dim=8),
            Field("category", vocab_size=7, embedding_dim=8),
            Field("price", kind="numerical"),
        ),
        sequence_fields=(
            SequenceField("hist_item_id", twin="item_id"),
            SequenceField("hist_category", twin="category"),
        ),
        user_fields=(
            Field("gender", vocab_size=3, embedding_dim=8),
            Field("age", vocab_size=8, embedding_dim=8),
            Field("activity", kind="numerical"),
        ),
        context_fields=(
            Field("hour", vocab_size=25, embedding_dim=8),
            Field("season", vocab_size=5, embedding_dim=8),
        ),
        sequence_length=sequence_length,
    )


def pytest_collection_modifyitems(items):
    """The files with the most end-to-end tests first: `make test` hands whole files to its two workers
    in this order, and starting the longest first (the pipeline's) keeps one worker from finishing
    alone with it while the other waits."""
    end_to_end = collections.Counter(item.path for item in items if item.get_closest_marker("e2e"))
    items.sort(key=lambda item: -end_to_end[item.path])


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state: weights and dropout masks are reproducible."""
    import tf_keras as keras

    keras.utils.set_random_seed(0)


# Immutable (frozen dataclasses), so shared by every test of the session.
@pytest.fixture(scope="session")
def spec() -> FeatureSpec:
    return small_spec()


@pytest.fixture(scope="session")
def hparams() -> MIANParams:
    """A small MIAN."""
    return MIANParams(num_heads=2, gim_width=8, mlp_units=(8, 4))


def for_model(name: str, hp: HParams, **changes) -> HParams:
    """The named model's hyperparameters: those of `hp` (and `changes`) its class has."""
    return hparams_for(name, own_settings(name, {**dataclasses.asdict(hp), **changes}))
