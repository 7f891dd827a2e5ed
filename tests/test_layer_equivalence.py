"""The vectorized attention layers compute the equations as written, on the same weights.

Each reference below is the direct reading of the paper's equations (tiling, concatenating and
scoring step by step, or Keras's own MultiHeadAttention); the layers compute the same values without
building the concatenations, to 1e-5.
"""

import numpy as np
import tensorflow as tf
import tf_keras as keras

from mian_keras.layers.attention_pooling import masked_softmax
from mian_keras.layers.field_interaction import ItemFieldsInteraction
from mian_keras.layers.gim import GlobalInteraction
from mian_keras.layers.ibim import ItemBehaviorsInteraction
from mian_keras.layers.transformer import TransformerBlock

VALID = tf.constant([[True] * 7, [True, True, True, False, False, False, False], [False] * 7])
WIDE = keras.initializers.TruncatedNormal(stddev=0.5)


def _reference_pooling(values, kernel, bias, valid=None):
    """Eqs. 7-9 / 10-11 / 15 as written: alpha_l = softmax(tanh(V_l W_l + b_l)), sum_l alpha_l V_l."""
    per_slot = len(kernel.shape) == 2
    logits = tf.einsum("bld,ld->bl" if per_slot else "bld,d->bl", values, kernel)
    weights = masked_softmax(tf.tanh(logits + bias), valid)
    return tf.einsum("bl,bld->bd", weights, values), weights


def test_transformer_equals_keras_multi_head_attention_in_a_pre_ln_block():
    x = tf.random.normal([3, 7, 16])
    block = TransformerBlock(num_heads=4, kernel_initializer=WIDE)
    block(x, VALID)
    for variable in block.weights:
        variable.assign(tf.random.normal(variable.shape, stddev=0.3))
    got = block(x, VALID)

    attention = keras.layers.MultiHeadAttention(num_heads=4, key_dim=4)
    normed = block.attention_norm(x)
    attention(normed, normed)
    attention._query_dense.kernel.assign(block.qkv_kernel[:, 0])
    attention._key_dense.kernel.assign(block.qkv_kernel[:, 1])
    attention._value_dense.kernel.assign(block.qkv_kernel[:, 2])
    attention._query_dense.bias.assign(block.qkv_bias[0])
    attention._key_dense.bias.assign(block.qkv_bias[1])
    attention._value_dense.bias.assign(block.qkv_bias[2])
    attention._output_dense.kernel.assign(block.output_kernel)
    attention._output_dense.bias.assign(block.output_bias)
    mask = tf.logical_and(VALID[:, :, tf.newaxis], VALID[:, tf.newaxis, :])
    h = x + attention(normed, normed, attention_mask=mask)
    expected = h + block.ffn_outer(block.ffn_inner(block.ffn_norm(h)))
    valid = VALID.numpy()
    np.testing.assert_allclose(got.numpy()[valid], expected.numpy()[valid], atol=1e-5)


def test_ibim_equals_tiling_the_candidate_and_scoring_every_step():
    item, behaviors = tf.random.normal([3, 5]), tf.random.normal([3, 7, 6])
    ibim = ItemBehaviorsInteraction(num_heads=2, transformer="none", kernel_initializer=WIDE)
    ibim([item, behaviors, VALID])
    ibim.score_bias.assign(0.3)
    pooled, weights = ibim([item, behaviors, VALID])
    tiled = tf.concat([tf.tile(item[:, tf.newaxis], [1, 7, 1]), behaviors], axis=-1)  # V_t (Eq. 6)
    expected, expected_weights = _reference_pooling(tiled, ibim.score_kernel, ibim.score_bias, VALID)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(pooled, expected, atol=1e-5)


def test_bilinear_ibim_adds_a_candidate_behavior_term_to_the_score():
    item, behaviors = tf.random.normal([3, 5]), tf.random.normal([3, 7, 6])
    ibim = ItemBehaviorsInteraction(
        num_heads=2, transformer="none", score="bilinear", kernel_initializer=WIDE
    )
    _, weights = ibim([item, behaviors, VALID])
    tiled = tf.concat([tf.tile(item[:, tf.newaxis], [1, 7, 1]), behaviors], axis=-1)
    logits = tf.einsum("btd,d->bt", tiled, ibim.score_kernel)
    logits += tf.einsum("bi,id,btd->bt", item, ibim.bilinear_kernel, behaviors)
    np.testing.assert_allclose(weights, masked_softmax(tf.tanh(logits), VALID), atol=1e-6)


def test_item_fields_interaction_equals_concatenating_each_padded_field():
    item = tf.random.normal([3, 4])
    fields = [tf.random.normal([3, 6]), tf.random.normal([3, 1]), tf.random.normal([3, 6])]
    layer = ItemFieldsInteraction(kernel_initializer=WIDE)
    layer([item, *fields])
    layer.score_bias.assign([0.1, -0.2, 0.4])
    pooled, weights = layer([item, *fields])
    stacked = tf.stack([tf.concat([item, tf.pad(f, [[0, 0], [0, 6 - f.shape[-1]]])], -1) for f in fields], 1)
    expected, expected_weights = _reference_pooling(stacked, layer.score_kernel, layer.score_bias)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(pooled, expected, atol=1e-5)


def test_gim_sum_equals_projecting_each_representation_with_its_own_kernel():
    representations = [tf.random.normal([3, d]) for d in (5, 9, 2)]
    gim = GlobalInteraction(["a", "b", "c"], width=4, pooling="sum", kernel_initializer=WIDE)
    pooled, weights = gim(representations)
    projected = tf.stack(
        [r @ gim.projection[slot, : r.shape[-1]] for slot, r in enumerate(representations)], axis=1
    )
    expected, expected_weights = _reference_pooling(projected, gim.score_kernel, gim.score_bias)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(pooled, expected, atol=1e-5)
    # Each slot's kernel is its own: the padding rows of the narrower slots start at 0 and stay there.
    assert np.all(gim.projection.numpy()[2, 2:] == 0)


def test_gim_concat_scales_each_representation_by_its_weight_and_keeps_its_width():
    representations = [tf.random.normal([3, d]) for d in (5, 9, 2)]
    gim = GlobalInteraction(["a", "b", "c"], width=4, kernel_initializer=WIDE)
    pooled, weights = gim(representations)
    kernel = np.split(gim.score_kernel.numpy(), [5, 14])
    logits = tf.stack([r @ k[:, np.newaxis] for r, k in zip(representations, kernel, strict=True)], 1)[..., 0]
    np.testing.assert_allclose(weights, tf.nn.softmax(tf.tanh(logits + gim.score_bias)), atol=1e-6)
    expected = tf.concat([weights[:, i : i + 1] * r for i, r in enumerate(representations)], axis=-1)
    np.testing.assert_allclose(pooled, expected, atol=1e-6)
    assert pooled.shape == (3, 16)


def test_rescaled_gim_concat_is_l_times_the_weighted_concatenation_with_the_same_weights():
    representations = [tf.random.normal([3, d]) for d in (5, 9, 2)]
    plain = GlobalInteraction(["a", "b", "c"], width=4, kernel_initializer=WIDE)
    rescaled = GlobalInteraction(["a", "b", "c"], width=4, rescale=True)
    pooled, weights = plain(representations)
    rescaled(representations)
    rescaled.set_weights(plain.get_weights())
    pooled_rescaled, weights_rescaled = rescaled(representations)
    np.testing.assert_allclose(weights_rescaled, weights, atol=1e-7)
    np.testing.assert_allclose(pooled_rescaled, 3 * pooled, atol=1e-5)
    # Uniform weights (a zero score kernel) leave every representation as it is.
    rescaled.score_kernel.assign(tf.zeros_like(rescaled.score_kernel))
    np.testing.assert_allclose(rescaled(representations)[0], tf.concat(representations, -1), atol=1e-6)


def test_vector_scored_fields_weigh_each_dimension_and_never_the_padding():
    item = tf.random.normal([3, 4])
    fields = [tf.random.normal([3, 6]), tf.random.normal([3, 1]), tf.random.normal([3, 6])]
    layer = ItemFieldsInteraction(scores="vector", kernel_initializer=WIDE)
    pooled, field_weights = layer([item, *fields])
    stacked = tf.stack([tf.pad(f, [[0, 0], [0, 6 - f.shape[-1]]]) for f in fields], 1)
    v = tf.concat([tf.tile(item[:, tf.newaxis], [1, 3, 1]), stacked], -1)  # V^j, [batch, J, 10]
    logits = tf.einsum("bjv,jvd->bjd", v, layer.score_kernel) + layer.score_bias  # a score per dimension
    valid = np.ones([3, 6], bool)
    valid[1, 1:] = False  # the scalar field's padding
    exp = np.exp(np.tanh(logits.numpy())) * valid
    alpha = exp / exp.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(pooled[:, :4], item, atol=1e-6)
    np.testing.assert_allclose(pooled[:, 4:], np.sum(alpha * stacked.numpy(), axis=1), atol=1e-5)
    np.testing.assert_allclose(field_weights, alpha.mean(axis=-1), atol=1e-6)
    np.testing.assert_allclose(field_weights.numpy().sum(-1), 1.0, atol=1e-6)
