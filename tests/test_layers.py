"""Layer-level behavior: masked attention, the Transformer's structure, serialization."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import masked_softmax, tanh_attention
from mian_keras.layers.augru import AUGRUCell, InterestEvolution
from mian_keras.layers.candidate_products import CandidateProducts
from mian_keras.layers.cin import CompressedInteraction
from mian_keras.layers.cross import CrossNetwork
from mian_keras.layers.dice import Dice
from mian_keras.layers.field_interaction import ItemFieldsInteraction
from mian_keras.layers.fm import FactorizationMachine
from mian_keras.layers.gim import GlobalInteraction
from mian_keras.layers.ibim import ItemBehaviorsInteraction
from mian_keras.layers.local_activation import LocalActivationUnit
from mian_keras.layers.mlp import MLP
from mian_keras.layers.transformer import POST_LN, PRE_LN, TransformerBlock
from mian_keras.layers.trim_padding import TrimPadding, pad_steps


def test_masked_softmax_sums_to_one_over_valid_entries_and_zero_elsewhere():
    logits = tf.constant([[1.0, 50.0, -3.0, 900.0], [0.5, 0.5, 0.5, 0.5]])
    valid = tf.constant([[True, False, True, False], [False, False, False, False]])
    weights = masked_softmax(logits, valid).numpy()
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights[0].sum(), 1.0, rtol=1e-6)
    assert weights[0, 1] == 0 and weights[0, 3] == 0
    np.testing.assert_allclose(weights[0, 0] / weights[0, 2], np.exp(4.0), rtol=1e-5)
    assert np.all(weights[1] == 0)


def test_tanh_attention_is_the_masked_softmax_of_tanh_scores():
    logits = tf.constant([[3.0, -0.5, 40.0, 0.2], [1.0, 1.0, 1.0, 1.0]])
    valid = tf.constant([[True, True, False, True], [False, False, False, False]])
    expected = masked_softmax(tf.tanh(logits), valid)
    np.testing.assert_allclose(tanh_attention(logits, valid), expected, atol=1e-7)
    np.testing.assert_allclose(tanh_attention(logits), tf.nn.softmax(tf.tanh(logits)), atol=1e-7)


def _zero_sublayer_outputs(block):
    """Zero the output projections of attention and FFN: each sub-layer then adds exactly 0."""
    for variable in [block.output_kernel, block.output_bias, *block.ffn_outer.weights]:
        variable.assign(tf.zeros_like(variable))


def test_pre_ln_and_post_ln_differ_in_where_the_layer_norm_sits():
    """With both sub-layers silenced, Pre-LN is the identity (LN sits inside the residual branch),
    while Post-LN normalizes every position (LN sits on the residual path)."""
    x = tf.random.normal([2, 5, 16], mean=3.0, stddev=2.0)
    valid = tf.constant([[True] * 5, [True, True, False, False, False]])
    pre = TransformerBlock(num_heads=4, norm_position=PRE_LN)
    post = TransformerBlock(num_heads=4, norm_position=POST_LN)
    pre(x, valid)
    post(x, valid)
    _zero_sublayer_outputs(pre)
    _zero_sublayer_outputs(post)
    np.testing.assert_allclose(pre(x, valid), x, atol=1e-6)
    normalized = keras.layers.LayerNormalization(epsilon=1e-6)(x)
    np.testing.assert_allclose(post(x, valid), normalized, atol=1e-4)
    assert not np.allclose(pre(x, valid), normalized, atol=1e-2)


def test_transformer_valid_steps_never_read_padded_steps():
    x = tf.random.normal([1, 6, 8])
    valid = tf.constant([[True, True, True, False, False, False]])
    block = TransformerBlock(num_heads=2)
    changed = tf.concat([x[:, :3], 100.0 * tf.random.normal([1, 3, 8])], axis=1)
    np.testing.assert_allclose(block(x, valid)[:, :3], block(changed, valid)[:, :3], atol=1e-5)


def test_ibim_with_no_history_contributes_zero():
    item = tf.random.normal([2, 4])
    behaviors = tf.random.normal([2, 3, 6])
    valid = tf.constant([[False, False, False], [True, False, False]])
    ibim = ItemBehaviorsInteraction(num_heads=2)
    pooled, weights = ibim([item, behaviors, valid])
    assert pooled.shape == (2, 10)
    assert np.all(pooled[0].numpy() == 0) and np.all(weights[0].numpy() == 0)
    np.testing.assert_allclose(weights[1], [1.0, 0.0, 0.0])


def test_field_interaction_pads_narrow_fields_and_keeps_their_values():
    item = tf.ones([1, 2])
    wide, scalar = tf.fill([1, 3], 2.0), tf.fill([1, 1], 5.0)
    layer = ItemFieldsInteraction()
    pooled, weights = layer([item, wide, scalar])
    w = weights.numpy()[0]
    expected = w[0] * np.array([1, 1, 2, 2, 2]) + w[1] * np.array([1, 1, 5, 0, 0])
    np.testing.assert_allclose(pooled.numpy()[0], expected, rtol=1e-5)
    assert layer.score_kernel.shape == (2, 5)


def test_candidate_products_sum_each_candidate_fields_product_with_every_other_field_of_its_width():
    rng = np.random.default_rng(0)
    item_id, category, brand = (rng.standard_normal([3, 4]) for _ in range(3))
    wide_item = rng.standard_normal([3, 6])
    user_id, device = rng.standard_normal([3, 4]), rng.standard_normal([3, 4])
    wide_user, scalar = rng.standard_normal([3, 6]), rng.standard_normal([3, 1])
    fields = [item_id, category, wide_item, user_id, brand, device, wide_user, scalar]
    # The first three are the candidate's; brand, after them, is one of the other fields.
    got = CandidateProducts(candidates=3)([tf.constant(f, tf.float32) for f in fields]).numpy()
    expected = sum(
        np.sum(a * b, axis=-1, keepdims=True) for a in (item_id, category) for b in (user_id, brand, device)
    ) + np.sum(wide_item * wide_user, axis=-1, keepdims=True)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # No field of a candidate's width: no product.
    alone = CandidateProducts(candidates=1)([tf.ones([2, 4]), tf.ones([2, 3])]).numpy()
    np.testing.assert_array_equal(alone, np.zeros([2, 1]))


TRUNCATED = keras.initializers.TruncatedNormal(stddev=0.02)
WIDE = keras.initializers.TruncatedNormal(stddev=0.5)
LAYERS = [
    (TransformerBlock, dict(num_heads=2, norm_position=POST_LN, dropout=0.1)),
    (ItemBehaviorsInteraction, dict(num_heads=2, transformer="none")),
    (ItemBehaviorsInteraction, dict(num_heads=2, score="bilinear", positions=True, kernel_initializer=WIDE)),
    (ItemFieldsInteraction, dict(kernel_regularizer=keras.regularizers.L2(0.01))),
    (ItemFieldsInteraction, dict(scores="vector")),
    (GlobalInteraction, dict(names=["e_i", "R_ibim"], width=4)),
    (GlobalInteraction, dict(names=["e_i", "R_ibim"], width=4, pooling="sum")),
    (GlobalInteraction, dict(names=["e_i", "R_ibim"], width=4, rescale=True)),
    (MLP, dict(units=[8, 4], dropout=0.2, kernel_initializer=TRUNCATED)),
    (CrossNetwork, dict(num_layers=2)),
    (CompressedInteraction, dict(layer_sizes=[3, 2])),
    (LocalActivationUnit, dict(units=[5], normalize=True)),
    (LocalActivationUnit, dict(units=[5, 3], normalize=False, activation="dice")),
    (Dice, dict(epsilon=1e-6)),
    (AUGRUCell, dict(units=3)),
    (InterestEvolution, dict(attention_units=[4])),
    (FactorizationMachine, dict()),
    (CandidateProducts, dict(candidates=2)),
]


@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(LAYERS)])
def test_layers_round_trip_through_their_config(cls, kwargs):
    layer = cls(**kwargs)
    config = layer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is cls and restored.get_config() == config


def test_trim_padding_cuts_after_the_batchs_last_filled_step_and_keeps_one_step_at_least():
    ids = tf.constant([[4, 2, 0, 0, 0], [7, 0, 0, 0, 0], [0, 0, 0, 0, 0]], tf.int64)
    values = tf.reshape(tf.range(15, dtype=tf.float32), [3, 5])
    cut_ids, cut_values = TrimPadding()([ids, values])
    assert cut_ids.numpy().tolist() == [[4, 2], [7, 0], [0, 0]]
    np.testing.assert_array_equal(cut_values.numpy(), values.numpy()[:, :2])
    (empty,) = TrimPadding()([tf.zeros([2, 5], tf.int64)])
    assert empty.shape == (2, 1)
    # A filled step after a padded one (padding is not always at the end) is kept.
    (gap,) = TrimPadding()([tf.constant([[3, 0, 0, 5, 0]], tf.int64)])
    assert gap.numpy().tolist() == [[3, 0, 0, 5]]
    assert pad_steps(tf.ones([2, 3]), 5).numpy().tolist() == [[1, 1, 1, 0, 0]] * 2


def test_dice_gates_each_unit_by_its_standardized_value_over_the_valid_positions():
    """Zhou et al. 2018, Eq. 9: p(s) s + (1 - p(s)) alpha s, with p the sigmoid of s standardized by
    the batch's statistics while training (the masked positions left out) and by the moving ones after."""
    x = tf.constant([[[1.0, -2.0], [3.0, 0.5], [500.0, -900.0]], [[-1.0, 4.0], [2.0, 2.0], [0.0, 0.0]]])
    valid = tf.constant([[True, True, False], [True, True, False]])
    dice = Dice(momentum=0.0)  # the moving statistics become the last batch's
    dice.build(x.shape)
    dice.alpha.assign([0.25, -0.5])
    kept = tf.boolean_mask(x, valid)
    mean, variance = tf.reduce_mean(kept, axis=0), tf.math.reduce_variance(kept, axis=0)
    p = tf.sigmoid((x - mean) / tf.sqrt(variance + 1e-8))
    expected = p * x + (1 - p) * dice.alpha * x
    np.testing.assert_allclose(dice(x, training=True, mask=valid), expected, rtol=1e-5)
    # At inference the statistics are the moving ones, which momentum 0 set to this batch's.
    np.testing.assert_allclose(dice(x, training=False), expected, rtol=1e-5)
    # A large positive input passes almost unchanged, a large negative one is scaled by alpha.
    far = tf.constant([[[1e4, -1e4]]])
    np.testing.assert_allclose(dice(far, training=False), [[[1e4, 1e4 * 0.5]]], rtol=1e-4)


def test_din_attention_with_dice_ignores_padded_steps():
    """The Dice statistics leave padding out: what a padded step holds changes no valid step's score."""
    unit = LocalActivationUnit([6, 3], normalize=False, activation="dice")
    query = tf.random.normal([4, 5], seed=1)
    keys = tf.random.normal([4, 3, 5], seed=2)
    valid = tf.constant([[True, True, False]] * 4)
    junk = tf.concat([keys[:, :2], 100.0 + keys[:, 2:]], axis=1)
    for training in (True, False):
        pooled, scores = unit([query, keys, valid], training=training)
        pooled_junk, scores_junk = unit([query, junk, valid], training=training)
        np.testing.assert_allclose(scores_junk, scores, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(pooled_junk, pooled, rtol=1e-5, atol=1e-6)
