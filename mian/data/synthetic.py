"""The synthetic click-log generator: raw tables with structure that each MIAN module can find.

What is planted (all drawn from the seed, so a seed fixes the whole dataset):
- user x item (IUIM): each (gender, age) group has its own affinity for each item category;
- context x item (ICIM): each season, each part of the day and each device shifts each category's CTR;
- sequence (IBIM): a candidate in a category among the user's last three clicks, or the successor of the
  user's last clicked item in a fixed item chain, is clicked more often;
- sparse histories: a share of users join only in the last days (new: empty histories) and a share go
  quiet after the first days and return at the end (long-inactive: stale histories);
- unseen candidates: a share of candidates are drawn uniformly from all items, most never in the user's
  history (the paper's Figure 3a).

Rows are written as they are drawn, day by day: memory holds the users' state (a few recent clicks
each) and the item table, never the impressions, so sizes from ten thousand to ten million impressions
take the same memory.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime
import os
from collections.abc import Iterator

import numpy as np

from mian.config.dataset_config import config_path, install_shipped_config
from mian.config.pipeline_config import PipelineConfig
from mian.data.ingest.time_context import time_context

GENDERS = ("F", "M")
AGES = ("18-24", "25-34", "35-44", "45-54", "55+")
OCCUPATIONS = tuple(f"occ{i}" for i in range(10))
DEVICES = ("ios", "android", "web")
NETWORKS = ("wifi", "4g", "5g")
SEASONS = ("winter", "spring", "summer", "autumn")
DAY_PARTS = ("night", "morning", "afternoon", "evening")  # hours 0-5, 6-11, 12-17, 18-23


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    users: int = 1000
    items: int = 500
    days: int = 30
    seed: int = 0
    categories: int = 12
    # Chance that a user is active on a given day, and the mean impressions of an active day.
    daily_activity: float = 0.4
    impressions_per_active_day: float = 4.0
    new_user_share: float = 0.1
    inactive_user_share: float = 0.1
    # The day the log starts: mid-February, so that a month crosses from winter into spring.
    start: str = "2024-02-15"
    base_logit: float = -2.5
    # Impressions as daily partitions, impressions/YYYY-MM-DD/impressions.csv (the daily pipeline's
    # input, configs/synthetic_daily.yaml), instead of one impressions.csv.
    partition_by_day: bool = False


@dataclasses.dataclass(frozen=True)
class PlantedEffects:
    """The effects behind the click probability, each a logit contribution."""

    affinity: np.ndarray  # [gender, age, category]: user x item
    season: np.ndarray  # [season, category]: context x item
    day_part: np.ndarray  # [day part, category]
    device: np.ndarray  # [device, category]
    item_quality: np.ndarray  # [item]
    recent_category: float = 1.2  # candidate category among the last three clicks
    chain_successor: float = 1.5  # candidate follows the last clicked item in the item chain


def planted_effects(config: GeneratorConfig) -> PlantedEffects:
    rng = np.random.default_rng([config.seed, 1])
    c = config.categories
    return PlantedEffects(
        affinity=rng.normal(0.0, 0.9, (len(GENDERS), len(AGES), c)),
        season=rng.normal(0.0, 0.8, (len(SEASONS), c)),
        day_part=rng.normal(0.0, 0.5, (len(DAY_PARTS), c)),
        device=rng.normal(0.0, 0.3, (len(DEVICES), c)),
        item_quality=rng.normal(0.0, 0.3, config.items),
    )


def generate_if_requested(pipeline: PipelineConfig) -> None:
    """Generate the synthetic click logs into the pipeline's `data_dir` when its config asks for them
    and they are not there yet."""
    if pipeline.synthetic_data is not None and not os.path.exists(config_path(pipeline.data_dir)):
        generate(pipeline.data_dir, GeneratorConfig(**pipeline.synthetic_data))


def generate(out_dir: str, config: GeneratorConfig) -> dict:
    """Write users.csv, items.csv, the impressions (impressions.csv, or one file per day) and
    dataset.yaml to `out_dir`; return counts."""
    os.makedirs(out_dir, exist_ok=True)
    rng = _tables_rng(config)
    effects = planted_effects(config)
    items = _draw_items(config, rng)
    _write_items(os.path.join(out_dir, "items.csv"), items)
    users = _write_users(os.path.join(out_dir, "users.csv"), config, rng)
    with _ImpressionFiles(out_dir, config.partition_by_day) as files:
        counts = _write_impressions(files, config, effects, items, users, rng)
    install_shipped_config(DAILY_CONFIG if config.partition_by_day else "synthetic", out_dir)
    return {"users": config.users, "items": config.items, **counts}


# The shipped dataset config of the daily partitions (the same columns and schema as "synthetic").
DAILY_CONFIG = "synthetic_daily"
IMPRESSION_COLUMNS = ["user_id", "item_id", "timestamp", "clicked", "device", "network"]


class _ImpressionFiles:
    """Where impression rows go: one impressions.csv, or impressions/<UTC date>/impressions.csv by the
    row's time, each file with its header."""

    def __init__(self, out_dir: str, by_day: bool):
        self.out_dir, self.by_day = out_dir, by_day
        self.open: dict[str, tuple] = {}
        self.started: set[str] = set()

    def writer(self, ts: int):
        key = datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).date().isoformat() if self.by_day else ""
        if key not in self.open:
            # Rows come day by day: one file open at a time, reopened to append if its date comes again.
            self.__exit__()
            folder = os.path.join(self.out_dir, "impressions", key) if self.by_day else self.out_dir
            os.makedirs(folder, exist_ok=True)
            handle = open(
                os.path.join(folder, "impressions.csv"), "a" if key in self.started else "w", newline=""
            )
            writer = csv.writer(handle)
            if key not in self.started:
                writer.writerow(IMPRESSION_COLUMNS)
                self.started.add(key)
            self.open[key] = (handle, writer)
        return self.open[key][1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle, _ in self.open.values():
            handle.close()
        self.open.clear()


def item_draws(config: GeneratorConfig) -> dict:
    """The item table `generate` draws for `config` (category, brand, price, popularity, successor in
    the item chain), without writing anything: what a reader of the logs needs to recompute the
    planted click logits (bench/ceiling.py)."""
    return _draw_items(config, _tables_rng(config))


def _tables_rng(config: GeneratorConfig) -> np.random.Generator:
    """The random stream `generate` draws its tables from, the items first: `item_draws` replays its
    start."""
    return np.random.default_rng([config.seed, 0])


def _draw_items(config, rng):
    category = rng.integers(0, config.categories, config.items)
    brand = rng.integers(0, max(2, config.items // 10), config.items)
    price = np.round(np.exp(rng.normal(2.5 + 0.1 * category, 0.6)), 2)
    # Popularity is Zipf-like: a few items are shown far more than the rest.
    popularity = 1.0 / np.arange(1, config.items + 1) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())
    # The item chain: each item's successor is another item of a neighbouring category.
    successor = rng.permutation(config.items)
    return {
        "category": category,
        "brand": brand,
        "price": price,
        # Cumulative popularity and per-category members, so that drawing a candidate costs O(log n).
        "popularity_cdf": np.cumsum(popularity),
        "by_category": [np.flatnonzero(category == c) for c in range(config.categories)],
        "successor": successor,
    }


def _write_items(path, items):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["item_id", "category", "brand", "price"])
        for i, category in enumerate(items["category"]):
            writer.writerow([f"i{i}", f"cat{category}", f"brand{items['brand'][i]}", items["price"][i]])


def _write_users(path, config, rng):
    n = config.users
    users = {
        "gender": rng.integers(0, len(GENDERS), n),
        "age": rng.integers(0, len(AGES), n),
        "occupation": rng.integers(0, len(OCCUPATIONS), n),
        "device": rng.integers(0, len(DEVICES), n),
        "kind": rng.choice(
            ["regular", "new", "inactive"],
            n,
            p=[
                1 - config.new_user_share - config.inactive_user_share,
                config.new_user_share,
                config.inactive_user_share,
            ],
        ),
    }
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["user_id", "gender", "age", "occupation"])
        for u in range(n):
            writer.writerow(
                [
                    f"u{u}",
                    GENDERS[users["gender"][u]],
                    AGES[users["age"][u]],
                    OCCUPATIONS[users["occupation"][u]],
                ]
            )
    return users


def _active_users(day: int, config: GeneratorConfig, users: dict, rng) -> np.ndarray:
    kind = users["kind"]
    late = config.days - max(1, config.days // 10)  # new users join, inactive ones return, here
    early = max(1, config.days // 5)  # inactive users go quiet after this day
    allowed = (kind == "regular") | ((kind == "new") & (day >= late))
    allowed |= (kind == "inactive") & ((day < early) | (day >= late))
    return np.flatnonzero(allowed & (rng.random(config.users) < config.daily_activity))


def _write_impressions(files: _ImpressionFiles, config, effects, items, users, rng):
    start = datetime.datetime.fromisoformat(config.start).replace(tzinfo=datetime.UTC)
    start_ts = int(start.timestamp())
    # user: last clicked categories
    recent: collections.defaultdict[int, collections.deque] = collections.defaultdict(
        lambda: collections.deque(maxlen=3)
    )
    last_click: dict[int, int] = {}  # user: last clicked item
    counts = {"impressions": 0, "clicks": 0}
    for day in range(config.days):
        for u in _active_users(day, config, users, rng):
            shown = rng.poisson(config.impressions_per_active_day - 1) + 1
            hours = rng.choice(24, p=_HOUR_WEIGHTS)
            # Distinct seconds: a user never sees two impressions in the same second.
            seconds = np.unique((hours * 3600 + rng.integers(0, 3 * 3600, shown)) % 86_400)
            for offset in seconds:
                ts = start_ts + day * 86_400 + int(offset)
                item = _candidate(u, items, recent, last_click, config, rng)
                clicked = _click(u, item, ts, items, users, effects, recent, last_click, config, rng)
                device = users["device"][u] if rng.random() < 0.8 else rng.integers(0, len(DEVICES))
                files.writer(ts).writerow(
                    [f"u{u}", f"i{item}", ts, int(clicked), DEVICES[device], NETWORKS[rng.integers(0, 3)]]
                )
                counts["impressions"] += 1
                if clicked:
                    counts["clicks"] += 1
                    recent[u].append(items["category"][item])
                    last_click[u] = item
    return counts


# More traffic in the evening than at night.
_HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 3, 3, 3, 4, 5, 6, 7, 7, 6, 4, 2], float)
_HOUR_WEIGHTS /= _HOUR_WEIGHTS.sum()


def _candidate(u, items, recent, last_click, config, rng) -> int:
    """About a third each: related to the user's recent clicks, popular items, uniform over all items."""
    draw = rng.random()
    if draw < 0.35 and u in last_click:
        if rng.random() < 0.5:
            return int(items["successor"][last_click[u]])
        wanted = rng.choice(list(recent[u]))
        return int(rng.choice(items["by_category"][wanted]))
    if draw < 0.7:
        return min(int(np.searchsorted(items["popularity_cdf"], rng.random())), config.items - 1)
    return int(rng.integers(0, config.items))


def _click(u, item, ts, items, users, effects, recent, last_click, config, rng) -> bool:
    terms = logit_terms(
        effects,
        item=item,
        category=items["category"][item],
        gender=users["gender"][u],
        age=users["age"][u],
        device=users["device"][u],
        ts=ts,
        recent_categories=recent[u],
        follows_last_click=u in last_click and items["successor"][last_click[u]] == item,
    )
    logit = sum(terms.values(), config.base_logit)  # in the order the terms are listed
    return bool(rng.random() < 1.0 / (1.0 + np.exp(-logit)))


def replay_logit_terms(data_dir: str, config: GeneratorConfig) -> Iterator[tuple[dict, dict[str, float]]]:
    """(impression row, its logit terms) for every impression of the logs `generate(data_dir, config)`
    wrote, in the file's order.

    The user's home device, which the generator uses, is not in the logs: the impression's device
    (the same in 80% of impressions) stands in for it, as it does for a model.
    """
    effects = planted_effects(config)
    items = item_draws(config)
    with open(os.path.join(data_dir, "users.csv")) as f:
        users = {row["user_id"]: row for row in csv.DictReader(f)}
    recent: dict = collections.defaultdict(lambda: collections.deque(maxlen=3))
    last_click: dict = {}
    with open(os.path.join(data_dir, "impressions.csv")) as f:
        # Each user's impressions are written in time order, so replaying the file in order rebuilds
        # every user's recent clicks as they were when each click was drawn.
        for row in csv.DictReader(f):
            user, item = row["user_id"], int(row["item_id"][1:])
            category = int(items["category"][item])
            yield (
                row,
                logit_terms(
                    effects,
                    item=item,
                    category=category,
                    gender=GENDERS.index(users[user]["gender"]),
                    age=AGES.index(users[user]["age"]),
                    device=DEVICES.index(row["device"]),
                    ts=int(row["timestamp"]),
                    recent_categories=recent[user],
                    follows_last_click=user in last_click and items["successor"][last_click[user]] == item,
                ),
            )
            if row["clicked"] == "1":
                recent[user].append(category)
                last_click[user] = item


def logit_terms(
    effects: PlantedEffects,
    *,
    item: int,
    category: int,
    gender: int,
    age: int,
    device: int,
    ts: int,
    recent_categories,
    follows_last_click: bool,
) -> dict[str, float]:
    """The planted effects' contributions to an impression's click logit, by name (their sum plus
    `GeneratorConfig.base_logit` is the logit the click is drawn from). Indices are positions in
    GENDERS, AGES, DEVICES; `recent_categories` are the categories of the user's last three clicks."""
    context = time_context(ts)
    return {
        "item_quality": effects.item_quality[item],
        "affinity": effects.affinity[gender, age, category],
        "season": effects.season[SEASONS.index(context["season"]), category],
        "day_part": effects.day_part[int(context["hour"]) // 6, category],
        "device": effects.device[device, category],
        "recent_category": effects.recent_category if category in recent_categories else 0.0,
        "chain_successor": effects.chain_successor if follows_last_click else 0.0,
    }
