"""Converting MovieLens 100K (u.data, u.user, u.item) into mian's raw click-log format.

Every rating is an impression of the movie to the user at the rating's time; a rating of 4 or 5 is a
click. Users keep gender, age (bucketed), occupation and the first digit of the zip code; movies keep
their primary genre (the first genre flag set, in u.genre's order) and release year. MovieLens' license
forbids redistribution: the data is read from where the user keeps it and never copied into the repo.
"""

from __future__ import annotations

import contextlib
import csv
import os

from mian.config.dataset_config import install_shipped_config

CLICK_RATING = 4
AGE_BUCKETS = ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (50, "45-49"), (56, "50-55"))
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)  # fmt: skip


def age_bucket(age: int) -> str:
    for bound, name in AGE_BUCKETS:
        if age < bound:
            return name
    return "56+"


def import_movielens(src: str, out_dir: str) -> dict:
    """Write impressions.csv, users.csv, items.csv and dataset.yaml to `out_dir`; return counts."""
    for name in ("u.data", "u.user", "u.item"):
        if not os.path.exists(os.path.join(src, name)):
            raise FileNotFoundError(f"{os.path.join(src, name)} not found: is {src} MovieLens 100K?")
    os.makedirs(out_dir, exist_ok=True)
    counts = {"impressions": 0, "clicks": 0, "users": 0, "items": 0}

    with open(os.path.join(src, "u.data")) as ratings, _writer(out_dir, "impressions.csv") as out:
        out.writerow(["user_id", "item_id", "timestamp", "clicked"])
        for number, line in enumerate(ratings, start=1):
            user, item, rating, ts = _split(line, "\t", 4, "u.data", number)
            clicked = int(int(rating) >= CLICK_RATING)
            out.writerow([user, item, ts, clicked])
            counts["impressions"] += 1
            counts["clicks"] += clicked

    with open(os.path.join(src, "u.user")) as users, _writer(out_dir, "users.csv") as out:
        out.writerow(["user_id", "gender", "age", "occupation", "zip_prefix"])
        for number, line in enumerate(users, start=1):
            user, age, gender, occupation, zip_code = _split(line, "|", 5, "u.user", number)
            out.writerow([user, gender, age_bucket(int(age)), occupation, zip_code[:1]])
            counts["users"] += 1

    # u.item is Latin-1 (accented titles).
    with open(os.path.join(src, "u.item"), encoding="latin-1") as items, _writer(out_dir, "items.csv") as out:
        out.writerow(["item_id", "genre", "release_year"])
        for number, line in enumerate(items, start=1):
            fields = _split(line, "|", 5 + len(GENRES), "u.item", number)
            flags = fields[5:]
            genre = next((g for g, flag in zip(GENRES, flags, strict=True) if flag == "1"), "unknown")
            release = fields[2]
            out.writerow([fields[0], genre, release[-4:] if release else ""])
            counts["items"] += 1

    install_shipped_config("movielens", out_dir)
    return counts


@contextlib.contextmanager
def _writer(out_dir: str, name: str):
    """A CSV writer on a new file in `out_dir`."""
    with open(os.path.join(out_dir, name), "w", newline="") as f:
        yield csv.writer(f)


def _split(line: str, separator: str, expected: int, name: str, number: int) -> list[str]:
    fields = line.rstrip("\r\n").split(separator)
    if len(fields) != expected:
        raise ValueError(f"{name} line {number}: expected {expected} fields, got {len(fields)}")
    return fields
