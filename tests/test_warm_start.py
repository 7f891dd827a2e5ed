"""Warm start: a new model starts from a pushed one, embedding rows carried over by token."""

import contextlib
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from mian.stages import export
from mian.stages.transform import model_feature_spec
from mian.stages.warm_start import newest_pushed, warm_start
from mian_keras import MIANParams, build_model
from tests.model_helpers import PUSHED_HPARAMS, push_model, raw_example, run_transform, with_lookups

# Yesterday's items and today's: i0 and i1 are gone, n0 and n1 are new, and the counts reorder the rest.
YESTERDAY = {"i0": 5, "i1": 4, "i2": 3, "i3": 2, "i4": 1}
TODAY = {"i4": 6, "n0": 5, "i2": 4, "n1": 3, "i3": 1}


def examples(counts: dict) -> list[dict]:
    return [raw_example(item, "c1", 10.0 + n) for item, times in counts.items() for n in range(times)]


def table(model, field: str) -> np.ndarray:
    return model.get_layer("embedding").tables[field].embeddings.numpy()


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    temp = tmp_path_factory.mktemp("warm")
    _, _, yesterday, yesterday_config = run_transform(examples(YESTERDAY), [], str(temp / "t1"))
    pushed = push_model(str(temp / "serving"), 1, yesterday, yesterday_config, seed=7)
    _, _, today, today_config = run_transform(examples(TODAY), [], str(temp / "t2"))
    return temp, yesterday, yesterday_config, pushed, today, today_config


def test_a_model_pushed_with_keras_traces_starts_the_same_model(days):
    """Models pushed before the export left Keras' layer traces out still warm-start, row for row."""
    temp, yesterday, yesterday_config, pushed, today, today_config = days
    # The export as it was: Keras' default, every layer's traces in the SavedModel.
    with mock.patch.object(export, "keras_option_scope", lambda save_traces: contextlib.nullcontext()):
        traced = push_model(str(temp / "traced"), 1, yesterday, yesterday_config, seed=7)
    # Keras' own serialization names the variables by its `variables` list; without it, by layer.
    keyed_by_list = {
        path: any(
            n.startswith("model/variables/")
            for n, _ in tf.train.list_variables(f"{path}/variables/variables")
        )
        for path in (pushed, traced)
    }
    assert keyed_by_list == {pushed: False, traced: True}
    spec = model_feature_spec(today, today_config)
    started = {}
    for source in (pushed, traced):
        keras.utils.set_random_seed(11)
        model = build_model("mian", spec, MIANParams(**PUSHED_HPARAMS))
        assert warm_start(model, "mian", vocabularies(today, spec), source).warm
        started[source] = model.get_weights()
    for got, expected in zip(started[traced], started[pushed], strict=True):
        np.testing.assert_array_equal(got, expected)


def vocabularies(tft_output, spec) -> dict:
    return {f.name: tft_output.vocabulary_by_name(f.name) for f in spec.scalar_fields() if f.is_categorical}


def test_rows_move_to_their_tokens_new_indices_and_every_other_weight_is_copied(days):
    temp, yesterday, yesterday_config, pushed, today, today_config = days
    assert newest_pushed(str(temp / "serving" / "mian")) == pushed
    # The pushed model's own weights, drawn as push_model drew them.
    keras.utils.set_random_seed(7)
    old = with_lookups(
        build_model("mian", model_feature_spec(yesterday, yesterday_config), MIANParams(**PUSHED_HPARAMS))
    )
    spec = model_feature_spec(today, today_config)
    model = build_model("mian", spec, MIANParams(**PUSHED_HPARAMS))
    fresh = table(model, "item_id")

    started = warm_start(model, "mian", vocabularies(today, spec), pushed)

    assert started.warm and started.source == pushed
    assert started.rows["item_id"] == {"kept": 3, "new": 2, "dropped": 2}
    old_tokens = [t.decode() for t in yesterday.vocabulary_by_name("item_id")]
    new_tokens = [t.decode() for t in today.vocabulary_by_name("item_id")]
    assert old_tokens == list(YESTERDAY) and new_tokens == list(TODAY)  # ordered by count: rows move
    before, after = table(old, "item_id"), table(model, "item_id")
    for i, token in enumerate(new_tokens):
        expected = before[1 + old_tokens.index(token)] if token in old_tokens else fresh[1 + i]
        np.testing.assert_array_equal(after[1 + i], expected, err_msg=token)
    np.testing.assert_array_equal(after[0], before[0])  # padding
    np.testing.assert_array_equal(after[1 + len(new_tokens) :], before[1 + len(old_tokens) :])  # OOV buckets
    # A token's look-up count (its admission to a row of its own) moves with its row; a new one has none.
    counts = model.get_layer("embedding").tables["item_id"].lookups.numpy()
    for i, token in enumerate(new_tokens):
        assert counts[1 + i] == (1 + old_tokens.index(token) if token in old_tokens else 0), token
    # A weight whose shape does not depend on a vocabulary is copied as it is.
    output_kernel = [m.get_layer("output_dense").get_weights()[0] for m in (model, old)]
    np.testing.assert_array_equal(*output_kernel)
    assert "2 new" in started.line() and "warm start from" in started.line()


def test_a_changed_model_starts_cold_and_says_why(days):
    _, _, _, pushed, today, today_config = days
    spec = model_feature_spec(today, today_config)
    lr = build_model("lr", spec)
    assert warm_start(lr, "lr", vocabularies(today, spec), pushed).line() == (
        "cold start: the pushed model is 'mian', this one 'lr'"
    )
    wider = build_model("mian", spec, MIANParams(**{**PUSHED_HPARAMS, "mlp_units": [16, 4]}))
    before = [w.copy() for w in wider.get_weights()]
    started = warm_start(wider, "mian", vocabularies(today, spec), pushed)
    assert not started.warm and "the model changed" in started.reason
    # Nothing was copied: a partial copy would be neither yesterday's model nor a fresh one.
    for got, expected in zip(wider.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert warm_start(wider, "mian", {}, None).line() == "cold start: no pushed model to start from"
