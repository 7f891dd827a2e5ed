"""Model-level behavior of MIAN, its ablations and the baselines, on one feature spec."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from mian_keras import (
    ABLATIONS,
    MODELS,
    HParams,
    MIANParams,
    attention_model,
    build_model,
    compile_model,
    hparams_class,
    hparams_for,
)
from mian_keras.models.mian import GIM_REPRESENTATIONS, gim_representation_names
from mian_keras.random_batch import random_batch
from tests.conftest import for_model, small_spec

VARIANTS = [("mian", {})] + [("mian", changes) for changes in ABLATIONS.values()]
VARIANTS += [(name, {}) for name in MODELS if name != "mian"]
VARIANT_IDS = ["mian"] + [f"mian {a}" for a in ABLATIONS] + [n for n in MODELS if n != "mian"]


def predict(model, batch):
    return model(batch, training=False).numpy()


@pytest.mark.parametrize("name, changes", VARIANTS, ids=VARIANT_IDS)
def test_every_model_and_ablation_gives_one_finite_float_logit_per_example(spec, hparams, name, changes):
    model = build_model(name, spec, for_model(name, hparams, **changes))
    batch = random_batch(spec, 7, history_lengths=[0, 1, 2, 3, 6, 0, 6])
    logits = model(batch, training=True)
    assert logits.shape == (7, 1) and logits.dtype == tf.float32
    assert np.all(np.isfinite(logits.numpy()))


def test_mian_attention_weights_sum_to_one_over_valid_positions_and_fields(spec, hparams):
    model = build_model("mian", spec, hparams)
    lengths = [0, 1, 4, 6]
    weights = {
        k: v.numpy()
        for k, v in attention_model(model)(random_batch(spec, 4, history_lengths=lengths)).items()
    }
    assert gim_representation_names(model) == list(GIM_REPRESENTATIONS)
    assert weights["gim_weights"].shape == (4, 7)
    assert weights["iuim_weights"].shape == (4, 3) and weights["icim_weights"].shape == (4, 2)
    for key in ("gim_weights", "iuim_weights", "icim_weights"):
        np.testing.assert_allclose(weights[key].sum(-1), 1.0, rtol=1e-5)
        assert np.all(weights[key] > 0)
    ibim = weights["ibim_weights"]
    for row, length in zip(ibim, lengths, strict=True):
        assert np.all(row[length:] == 0)
        np.testing.assert_allclose(row.sum(), 1.0 if length else 0.0, rtol=1e-5)


def test_ablated_attention_model_has_no_weights_for_the_removed_module(spec, hparams):
    outputs = attention_model(build_model("mian", spec, hparams.replace(use_ibim=False))).output
    assert "ibim_weights" not in outputs and "gim_weights" in outputs
    model = build_model("mian", spec, hparams.replace(use_ibim=False))
    assert gim_representation_names(model) == ["e_i", "e_c", "e_b", "e_u", "R_iuim", "R_icim"]


SEQUENCE_MODELS = ["mian", "din", "dien", "wdl", "dcn", "deepfm", "xdeepfm", "lr"]


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_appending_padding_leaves_the_output_unchanged(hparams, name):
    """The same weights read T = 6 and T = 10: the four extra padded steps change nothing. (MIAN's
    recency embedding has a row per step: the long model keeps its own rows for steps 6 to 9.)"""
    short_spec, long_spec = small_spec(6), small_spec(10)
    short = build_model(name, short_spec, for_model(name, hparams))
    long = build_model(name, long_spec, for_model(name, hparams))
    long.set_weights(
        [
            np.concatenate([mine, theirs[len(mine) :]]) if mine.shape != theirs.shape else mine
            for mine, theirs in zip(short.get_weights(), long.get_weights(), strict=True)
        ]
    )
    batch = random_batch(short_spec, 5, history_lengths=[0, 2, 3, 5, 6])
    padded = {k: np.pad(v, [(0, 0), (0, 4)]) if v.ndim == 2 else v for k, v in batch.items()}
    np.testing.assert_allclose(predict(short, batch), predict(long, padded), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_cutting_the_batchs_padding_steps_leaves_every_output_unchanged(spec, hparams, name):
    trimmed = build_model(name, spec, for_model(name, hparams))
    full = build_model(name, spec, for_model(name, hparams, trim_padding=False))
    full.set_weights(trimmed.get_weights())
    # T = 6; the longest history of the batch is 3, so the trimmed model reads 3 steps.
    for lengths in ([0, 2, 3, 1, 0], [0, 0, 0, 0, 0], [6, 1, 0, 2, 5]):
        batch = random_batch(spec, 5, history_lengths=lengths)
        np.testing.assert_allclose(predict(trimmed, batch), predict(full, batch), rtol=1e-5, atol=1e-6)
        if name == "mian":
            cut, whole = attention_model(trimmed)(batch), attention_model(full)(batch)
            assert cut["ibim_weights"].shape == (5, spec.sequence_length)
            for key, value in whole.items():
                np.testing.assert_allclose(cut[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_embeddings_at_padded_positions_do_not_reach_the_output(spec, hparams, name):
    model = build_model(name, spec, for_model(name, hparams))
    batch = random_batch(spec, 5, history_lengths=[0, 2, 3, 5, 6])
    before = predict(model, batch)
    for variable in model.trainable_variables:
        if "table_" in variable.name:  # every table's row 0 is the padding id's embedding
            variable.assign(
                tf.tensor_scatter_nd_update(variable, [[0]], 50.0 * tf.ones([1, variable.shape[1]]))
            )
    np.testing.assert_allclose(predict(model, batch), before, rtol=1e-5, atol=1e-6)


def test_all_padding_history_gives_a_finite_output_that_still_reads_user_and_context(spec, hparams):
    model = build_model("mian", spec, hparams)
    batch = random_batch(spec, 4, history_lengths=[0, 0, 0, 0])
    assert np.all(np.isfinite(predict(model, batch)))
    # What GIM hands the MLP must still move with the user's and the context's fields.
    global_representation = keras.Model(model.input, model.get_layer("gim").output[0])
    base = predict(global_representation, batch)
    for field, vocab in (("gender", 3), ("hour", 25)):
        changed = dict(batch, **{field: batch[field] % (vocab - 1) + 1})
        moved = np.abs(predict(global_representation, changed) - base).max(axis=-1)
        assert np.all(moved > 1e-6), (field, moved)
    weights = attention_model(model)(batch)
    np.testing.assert_allclose(weights["iuim_weights"].numpy().sum(-1), 1.0, rtol=1e-5)
    assert np.all(weights["ibim_weights"].numpy() == 0)


def _names(model):
    return {v.name for v in model.trainable_variables}


@pytest.mark.parametrize(
    "changes, module_prefixes",
    [
        ({"use_ibim": False}, ["ibim/"]),
        ({"use_iuim": False}, ["iuim/"]),
        ({"use_icim": False}, ["icim/"]),
        ({"use_iuim": False, "use_icim": False}, ["iuim/", "icim/"]),
        ({"use_gim": False}, ["gim/", "gim_cross_"]),
        ({"transformer": "none"}, ["ibim/transformer/"]),
    ],
    ids=["w/o IBIM", "w/o IUIM", "w/o ICIM", "w/o IUIM&ICIM", "w/o GIM", "w/o Transformer"],
)
@pytest.mark.parametrize("gim_pooling, field_scores", [("concat", "vector"), ("sum", "scalar")])
def test_each_ablation_removes_exactly_its_modules_weights(
    spec, hparams, changes, module_prefixes, gim_pooling, field_scores
):
    hparams = hparams.replace(gim_pooling=gim_pooling, field_scores=field_scores)
    full = build_model("mian", spec, hparams)
    ablated = build_model("mian", spec, hparams.replace(**changes))
    removed = _names(full) - _names(ablated)
    assert removed, "the ablation removed no weights"
    assert all(any(n.startswith(p) for p in module_prefixes) for n in removed), removed
    assert not any(any(n.startswith(p) for p in module_prefixes) for n in _names(ablated))
    assert _names(ablated) <= _names(full)
    full_shapes = {v.name: v.shape for v in full.trainable_variables}
    changed_shapes = {v.name for v in ablated.trainable_variables if v.shape != full_shapes[v.name]}
    # GIM weighs one representation fewer, and the cross layers and the MLP read a narrower vector
    # where GIM concatenates (or, without GIM, the concatenation in place of GIM's sum).
    mlp_input = {"mlp/dense_0/kernel:0"}
    if "use_gim" in changes:
        assert changed_shapes == (mlp_input if gim_pooling == "sum" else set())
    elif changes.get("transformer") == "none":
        assert changed_shapes == set()
    else:
        gim = {n for n in _names(ablated) if n.startswith("gim/")}
        cross = {n for n in _names(ablated) if n.startswith("gim_cross_")}
        assert cross, "the default MIAN has cross layers after GIM"
        assert changed_shapes == gim | (mlp_input | cross if gim_pooling == "concat" else set())


def test_mian_crosses_gims_output_before_the_mlp_and_zero_crosses_are_the_identity(spec, hparams):
    model = build_model("mian", spec, hparams.replace(gim_cross_layers=2, cross_projection_dim=4))
    crosses = [layer for layer in model.layers if layer.name.startswith("gim_cross_")]
    assert len(crosses) == 2 and crosses[0].get_config()["projection_dim"] == 4
    batch = random_batch(spec, 5, history_lengths=[0, 2, 3, 5, 6])
    for layer in crosses:  # x0 * (V U x + b) + x is x when U, V and b are 0
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    outputs = [model.get_layer(name).output for name in ("gim", "candidate_products")]
    probe = keras.Model(model.inputs, [outputs[0][0], outputs[1], model.output])
    r_g, products, logit = probe(batch, training=False)
    mlp = model.get_layer("mlp")
    expected = model.get_layer("output_dense")(mlp(r_g, training=False)) + products
    np.testing.assert_allclose(logit, expected, atol=1e-5)
    paper = build_model("mian", spec, hparams.replace(gim_cross_layers=0))
    assert not any(layer.name.startswith("gim_cross_") for layer in paper.layers)


def test_mian_adds_the_candidates_inner_products_with_the_other_fields_to_its_logit(spec, hparams):
    model = build_model("mian", spec, hparams.replace(candidate_products=True))
    products = model.get_layer("candidate_products")
    # item_id and category (the candidate's categorical fields; price is numerical) with gender, age,
    # hour, season and the means of hist_item_id and hist_category.
    assert products.candidates == 2 and len(products.input) == 8
    batch = random_batch(spec, 5, history_lengths=[0, 2, 3, 5, 6])
    probe = keras.Model(model.inputs, [products.output, model.get_layer("output_dense").output, model.output])
    term, rest, logit = probe(batch, training=False)
    np.testing.assert_allclose(logit, term + rest, atol=1e-5)
    assert float(tf.reduce_max(tf.abs(term))) > 0
    paper = build_model("mian", spec, MIANParams.paper())
    assert "candidate_products" not in {layer.name for layer in paper.layers}


def test_post_ln_has_the_same_weights_as_pre_ln(spec, hparams):
    pre = build_model("mian", spec, hparams)
    post = build_model("mian", spec, hparams.replace(transformer="post_ln"))
    assert {(v.name, tuple(v.shape)) for v in pre.trainable_variables} == {
        (v.name, tuple(v.shape)) for v in post.trainable_variables
    }


@pytest.mark.parametrize("name", list(MODELS))
def test_gradients_reach_every_weight(spec, hparams, name):
    # A wider initialization than the paper's 0.02 keeps the smallest gradients (through two attention
    # layers and a recurrence) above float32 underflow: this checks the paths exist, not their size.
    hp = for_model(name, hparams, dropout=0.0, init_stddev=0.3)
    model = build_model(name, spec, hp)
    batch = random_batch(spec, 64, seed=1)
    labels = tf.constant((batch["item_id"] % 2).astype(np.float32)[:, np.newaxis])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, model(batch, training=True)))
    grads = tape.gradient(loss, model.trainable_variables)
    dead = [
        v.name
        for v, g in zip(model.trainable_variables, grads, strict=True)
        if g is None or not np.any(tf.convert_to_tensor(g).numpy() != 0)
    ]
    assert not dead, f"no gradient reaches {dead}"


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_overfits_a_small_fixed_batch(spec, hparams, name):
    hp = for_model(name, hparams, dropout=0.0, embedding_l2=0.0, learning_rate=1e-2)
    model = compile_model(build_model(name, spec, hp), hp)
    batch = random_batch(spec, 64, seed=1)
    labels = (batch["item_id"] % 2).astype(np.float32)[:, np.newaxis]
    start = model.evaluate(batch, labels, verbose=0, return_dict=True)["loss"]
    # 100 steps on the batch as one epoch: Keras' per-epoch work would cost more than the steps.
    model.fit(tf.data.Dataset.from_tensors((batch, labels)).repeat(100), epochs=1, verbose=0)
    end = model.evaluate(batch, labels, verbose=0, return_dict=True)["loss"]
    assert end < 0.5 * start, (start, end)


def test_embedding_l2_penalizes_only_the_rows_a_batch_looks_up(spec, hparams):
    assert build_model("mian", spec, hparams.replace(embedding_l2=0.0)).losses == []
    # Every id admitted: each reads its own row (a fresh model's rare ids read shared rows).
    model = build_model("mian", spec, hparams.replace(embedding_l2=1e-3, id_admission_count=0))
    batch = random_batch(spec, 4, history_lengths=[0, 0, 0, 0])
    table = next(v for v in model.trainable_variables if "table_gender" in v.name)
    with tf.GradientTape() as tape:
        model(batch, training=True)
        penalty = tf.add_n(model.losses)
    assert float(penalty) > 0
    gradient = tf.convert_to_tensor(tape.gradient(penalty, table)).numpy()
    used = set(batch["gender"].tolist())
    for row in range(table.shape[0]):
        assert np.any(gradient[row] != 0) == (row in used), row


def test_per_row_embedding_l2_penalizes_each_distinct_row_once_and_never_padding(spec):
    from mian_keras.layers.embedding import FeatureEmbedding

    layer = FeatureEmbedding(spec.to_dict(), initializer="random_normal", embedding_l2=0.5, l2_per="row")
    batch = random_batch(spec, 3, history_lengths=[2, 0, 1])
    batch["gender"][:] = [1, 1, 2]  # row 1 looked up twice
    batch["item_id"][:] = [4, 4, 9]
    batch["hist_item_id"][0, :2] = [9, 4]  # item rows 4 and 9 again, in a history
    with tf.GradientTape() as tape:
        layer(batch)
        penalty = tf.add_n(layer.losses)
    tables = {name: table.embeddings for name, table in layer.tables.items()}
    rows = {name: set(batch[name].tolist()) for name in tables}
    for seq in spec.sequence_fields:
        rows[seq.twin] |= set(batch[seq.name].ravel().tolist()) - {0}
    assert {4, 9} <= rows["item_id"] and 0 not in rows["category"]
    expected = 0.5 * sum(float(np.sum(tables[n].numpy()[sorted(r)] ** 2)) for n, r in rows.items())
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-5)
    # The gradient of c * ||V_r||^2 is 2c V_r on each looked-up row, once: a row used twice is not doubled.
    gradient = tf.convert_to_tensor(tape.gradient(penalty, tables["gender"])).numpy()
    np.testing.assert_allclose(gradient[1], 2 * 0.5 * tables["gender"].numpy()[1], rtol=1e-5)
    assert np.all(gradient[0] == 0) and np.all(gradient[3:] == 0)


def test_each_model_carries_its_own_settings_beside_the_shared_ones(spec):
    shared = {f.name for f in dataclasses.fields(HParams)}

    def own(name: str) -> set[str]:
        return {f.name for f in dataclasses.fields(hparams_class(name))} - shared

    assert {"num_heads", "gim_pooling", "use_ibim"} <= own("mian")
    assert own("din") == own("dien") == {"attention_units", "attention_activation"}
    assert own("xdeepfm") == {"cin_layer_sizes"} and own("dcn") == {"cross_layers"}
    assert own("lr") == own("deepfm") == set()
    with pytest.raises(ValueError, match="'num_heads' is not a setting of model 'xdeepfm'; its settings: "):
        hparams_for("xdeepfm", {"num_heads": 2})
    with pytest.raises(TypeError, match="model 'din' takes DINParams, not MIANParams"):
        build_model("din", spec, MIANParams())
    # Section 4.3's settings: the shared ones for every model, MIAN's own for MIAN.
    assert hparams_class("din").paper().mlp_units == MIANParams.paper().mlp_units == (32, 8)
    assert MIANParams.paper().gim_cross_layers == 0 and MIANParams().gim_cross_layers == 2
