"""GAUC (mian.stages.gauc) against a direct computation from DIN's definition: for each user with both
a click and a non-click, the share of (click, non-click) pairs that user's predictions order right (a tie
counts half), averaged with the user's impressions as weights."""

import itertools

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that
from tensorflow_model_analysis.metrics import metric_types, metric_util

from mian.names import GAUC as GAUC_NAME
from mian.stages.gauc import GAUC, group_auc


def direct_gauc(rows: list[tuple[str, int, float]]) -> float:
    """DIN's GAUC, pair by pair."""
    total = weights = 0.0
    for _, group in itertools.groupby(sorted(rows), key=lambda r: r[0]):
        group = list(group)
        clicks = [p for _, label, p in group if label == 1]
        others = [p for _, label, p in group if label == 0]
        if not clicks or not others:
            continue
        right = sum(1.0 if c > o else 0.5 if c == o else 0.0 for c in clicks for o in others)
        total += len(group) * right / (len(clicks) * len(others))
        weights += len(group)
    return total / weights


def rows_of(seed: int) -> list[tuple[str, int, float]]:
    """Users of 1 to 30 impressions, some with clicks only or none; predictions on a coarse grid, so
    that ties occur."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(40):
        n = int(rng.integers(1, 31))
        rate = rng.choice([0.0, 1.0, 0.3, 0.6])
        for _ in range(n):
            rows.append((f"u{user}", int(rng.random() < rate), float(rng.integers(0, 10)) / 10))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_auc_is_the_pairwise_definition(seed):
    rows = rows_of(seed)
    users, labels, predictions = (np.array(column) for column in zip(*rows, strict=True))
    value, counted = group_auc(users.astype(object), labels, predictions)
    assert value == pytest.approx(direct_gauc(rows), abs=1e-12)
    one_class = {u for u in set(users) if len({lab for v, lab, _ in rows if v == u}) == 1}
    assert one_class, "the set must have users that GAUC leaves out"
    assert counted == len(set(users)) - len(one_class)


def test_a_user_order_the_model_gets_right_is_1_whatever_the_other_users_scores():
    # Every user is ranked perfectly within, but user b's scores sit below user a's non-clicks: AUC
    # over everyone is below 1, GAUC is 1.
    rows = [("a", 1, 0.9), ("a", 0, 0.8), ("b", 1, 0.3), ("b", 0, 0.1), ("b", 0, 0.2)]
    users, labels, predictions = (np.array(column) for column in zip(*rows, strict=True))
    assert group_auc(users.astype(object), labels, predictions) == (1.0, 2)
    no_pairs = [("a", 1, 0.9), ("b", 0, 0.1)]
    users, labels, predictions = (np.array(column) for column in zip(*no_pairs, strict=True))
    value, counted = group_auc(users.astype(object), labels, predictions)
    assert np.isnan(value) and counted == 0


def test_the_tfma_metric_over_extracts_equals_the_direct_computation():
    rows = rows_of(3)
    extracts = [
        {
            "labels": np.array([float(label)]),
            "predictions": np.array([p]),
            "example_weights": np.array([1.0]),
            "features": {"user_id": np.array([user.encode()], dtype=object)},
        }
        for user, label, p in rows
    ]
    (computation,) = GAUC().computations()
    key = metric_types.MetricKey(name=GAUC_NAME)

    def check(got):
        ((slice_key, metrics),) = got
        assert slice_key == ()
        assert metrics[key] == pytest.approx(direct_gauc(rows), abs=1e-12)

    with beam.Pipeline() as pipeline:
        result = (
            pipeline
            | beam.Create(extracts)
            | beam.Map(metric_util.to_standard_metric_inputs, include_features=True)
            | beam.Map(lambda inputs: ((), inputs))
            | beam.CombinePerKey(computation.combiner)
        )
        assert_that(result, check)


def test_the_evaluator_reports_gauc_and_gates_on_it_only_when_a_floor_is_set():
    from mian.config.pipeline_config import GateConfig
    from mian.stages.eval_config import eval_config
    from tests.model_helpers import synthetic_config

    def gauc_configs(gates: GateConfig):
        config = eval_config(synthetic_config(), gates)
        return [m for spec in config.metrics_specs for m in spec.metrics if m.class_name == "GAUC"]

    (ungated,) = gauc_configs(GateConfig())
    assert ungated.module == "mian.stages.gauc" and not ungated.per_slice_thresholds
    (gated,) = gauc_configs(GateConfig(gauc_floor=0.6))
    (threshold,) = gated.per_slice_thresholds
    assert threshold.threshold.value_threshold.lower_bound.value == 0.6
    assert [s.feature_keys for s in threshold.slicing_specs] == [[]]  # the overall slice
