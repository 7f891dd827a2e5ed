"""Random model inputs for a FeatureSpec: what tests and benchmarks feed a model before real data."""

from __future__ import annotations

import numpy as np

from mian_keras.feature_spec import PADDING_ID, FeatureSpec


def random_batch(
    spec: FeatureSpec, batch_size: int, seed: int = 0, history_lengths=None
) -> dict[str, np.ndarray]:
    """A dict of input arrays in the layout the models read.

    Categorical ids are drawn from [1, vocab_size) (0 is padding), numerical values from N(0, 1).
    Each example's behavior sequence holds `history_lengths[b]` clicks followed by padding; by default
    the lengths are drawn uniformly from [0, T], so empty histories are part of every batch.
    """
    rng = np.random.default_rng(seed)
    steps = spec.sequence_length
    if history_lengths is None:
        history_lengths = rng.integers(0, steps + 1, size=batch_size)
    history_lengths = np.asarray(history_lengths)
    valid = np.arange(steps)[np.newaxis, :] < history_lengths[:, np.newaxis]

    batch = {}
    for f in spec.scalar_fields():
        batch[f.name] = _draw(rng, f, (batch_size,))
    for seq in spec.sequence_fields:
        twin = spec.twin_of(seq)
        values = _draw(rng, twin, (batch_size, steps))
        batch[seq.name] = np.where(valid, values, PADDING_ID).astype(values.dtype)
    return batch


def _draw(rng, field, shape):
    if field.is_categorical:
        return rng.integers(1, field.vocab_size, size=shape, dtype=np.int64)
    return rng.standard_normal(shape).astype(np.float32)


def paper_scale_spec(sequence_length: int = 30) -> FeatureSpec:
    """A spec shaped like the paper's Amazon setting, for benchmarks and demonstrations.

    Item id and category (Amazon Books has 368k items and 1.6k categories; the item table here is
    smaller so that a benchmark fits in memory many times over), their history twins, three user fields
    and three context fields, every embedding 16 wide, T = 30.
    """
    from mian_keras.feature_spec import Field, SequenceField

    return FeatureSpec(
        item_fields=(Field("item_id", vocab_size=100_000), Field("category", vocab_size=1_600)),
        sequence_fields=(
            SequenceField("hist_item_id", twin="item_id"),
            SequenceField("hist_category", twin="category"),
        ),
        user_fields=(
            Field("gender", vocab_size=4),
            Field("age", vocab_size=8),
            Field("occupation", vocab_size=22),
        ),
        context_fields=(
            Field("hour", vocab_size=25),
            Field("weekday", vocab_size=8),
            Field("season", vocab_size=5),
        ),
        sequence_length=sequence_length,
    )


def planted_labels(batch: dict[str, np.ndarray], seed: int = 0) -> np.ndarray:
    """Click labels [batch, 1] with structure a CTR model can find, for smoke runs on random inputs.

    The click probability rises when the candidate's category is among the user's clicked categories
    (a behavior effect) and when gender and category parity agree (a user x item effect).
    """
    rng = np.random.default_rng(seed)
    in_history = np.any(batch["hist_category"] == batch["category"][:, np.newaxis], axis=1)
    agrees = (batch["gender"] % 2) == (batch["category"] % 2)
    logit = -1.0 + 2.5 * in_history + 1.5 * agrees
    return (rng.random(len(logit)) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float32)[:, np.newaxis]
