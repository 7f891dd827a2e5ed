"""The synthetic generator: deterministic for a seed, and its planted effects show in the data."""

import csv
import filecmp

import numpy as np
import pytest

from mian.data.ingest.time_context import time_context
from mian.data.synthetic import (
    AGES,
    GENDERS,
    SEASONS,
    GeneratorConfig,
    generate,
    planted_effects,
    replay_logit_terms,
)

TABLES = ("impressions.csv", "users.csv", "items.csv")


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    config = GeneratorConfig(users=50, items=30, days=5, seed=3)
    generate(str(tmp_path / "a"), config)
    generate(str(tmp_path / "b"), config)
    generate(str(tmp_path / "c"), GeneratorConfig(users=50, items=30, days=5, seed=4))
    for table in TABLES:
        assert filecmp.cmp(tmp_path / "a" / table, tmp_path / "b" / table, shallow=False), table
    assert not filecmp.cmp(
        tmp_path / "a" / "impressions.csv", tmp_path / "c" / "impressions.csv", shallow=False
    )


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    config = GeneratorConfig(users=1500, items=200, days=30, seed=11)
    out = tmp_path_factory.mktemp("synthetic")
    counts = generate(str(out), config)

    def read(name):
        with open(out / name) as f:
            return list(csv.DictReader(f))

    return config, counts, read("impressions.csv"), read("users.csv"), read("items.csv"), out


def _logit(rate):
    rate = np.clip(rate, 1e-3, 1 - 1e-3)
    return np.log(rate / (1 - rate))


def test_ctr_by_season_and_category_follows_the_planted_season_effect(logs):
    config, _, impressions, _, items, _ = logs
    category = {row["item_id"]: int(row["category"][3:]) for row in items}
    clicks = np.zeros((len(SEASONS), config.categories))
    shown = np.zeros_like(clicks)
    for row in impressions:
        s = SEASONS.index(time_context(int(row["timestamp"]))["season"])
        c = category[row["item_id"]]
        shown[s, c] += 1
        clicks[s, c] += int(row["clicked"])
    winter, spring = SEASONS.index("winter"), SEASONS.index("spring")
    assert shown[winter].sum() > 0 and shown[spring].sum() > 0, "the log should cross into spring"
    observed = _logit(clicks[winter] / shown[winter]) - _logit(clicks[spring] / shown[spring])
    planted = planted_effects(config).season
    correlation = np.corrcoef(observed, planted[winter] - planted[spring])[0, 1]
    assert correlation > 0.7, correlation


def test_ctr_by_user_group_and_category_follows_the_planted_affinity(logs):
    config, _, impressions, users, items, _ = logs
    category = {row["item_id"]: int(row["category"][3:]) for row in items}
    group = {row["user_id"]: (GENDERS.index(row["gender"]), AGES.index(row["age"])) for row in users}
    clicks = np.zeros((len(GENDERS), len(AGES), config.categories))
    shown = np.zeros_like(clicks)
    for row in impressions:
        g, a = group[row["user_id"]]
        c = category[row["item_id"]]
        shown[g, a, c] += 1
        clicks[g, a, c] += int(row["clicked"])
    observed = _logit(clicks / np.maximum(shown, 1))
    planted = planted_effects(config).affinity
    # Within each category, groups with a higher planted affinity click more.
    correlation = np.corrcoef(
        (observed - observed.mean((0, 1))).ravel(), (planted - planted.mean((0, 1))).ravel()
    )
    assert correlation[0, 1] > 0.6, correlation[0, 1]


def test_new_users_start_late_and_many_candidates_are_new_to_the_user(logs):
    config, counts, impressions, _, _, _ = logs
    assert counts["impressions"] == len(impressions)
    first_seen = {}
    clicked_items = {}
    never_seen = 0
    for row in sorted(impressions, key=lambda r: int(r["timestamp"])):
        user = row["user_id"]
        first_seen.setdefault(user, int(row["timestamp"]))
        never_seen += row["item_id"] not in clicked_items.get(user, set())
        if row["clicked"] == "1":
            clicked_items.setdefault(user, set()).add(row["item_id"])
    start = min(first_seen.values())
    late = sum(ts - start > 0.8 * config.days * 86_400 for ts in first_seen.values())
    assert late >= 0.05 * config.users  # the new users
    assert never_seen / len(impressions) > 0.5


def test_replayed_logits_are_the_ones_the_clicks_were_drawn_from(logs):
    config, _, impressions, _, _, out = logs
    replayed = list(replay_logit_terms(str(out), config))
    assert [row for row, _ in replayed] == impressions
    clicked = np.array([int(row["clicked"]) for row in impressions])
    logits = np.array([sum(terms.values(), config.base_logit) for _, terms in replayed])
    probability = 1 / (1 + np.exp(-logits))
    # Calibrated: the clicks drawn from these probabilities average to them, overall and where the
    # sequence terms fire (a wrong item chain or stale recent clicks would break the second).
    assert abs(clicked.mean() - probability.mean()) < 0.01
    chained = np.array([terms["chain_successor"] > 0 for _, terms in replayed])
    assert chained.sum() > 200
    assert abs(clicked[chained].mean() - probability[chained].mean()) < 0.03
    # The sequence terms carry signal of their own: clicks are likelier where they fire, all else equal.
    without = logits - np.array([terms["chain_successor"] for _, terms in replayed])
    assert clicked[chained].mean() > (1 / (1 + np.exp(-without[chained]))).mean() + 0.1
