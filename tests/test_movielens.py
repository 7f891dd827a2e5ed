"""MovieLens 100K import (skipped when ../shared/data/ml-100k is absent: the data is not in the repo)."""

import csv
import os

import pytest

from mian.data.movielens import age_bucket, import_movielens

# Runs pipelines, servers or training end to end: skipped by `make unit`.
pytestmark = pytest.mark.e2e

ML_100K = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "ml-100k")
needs_movielens = pytest.mark.skipif(
    not os.path.exists(os.path.join(ML_100K, "u.data")),
    reason=f"MovieLens 100K not found at {os.path.abspath(ML_100K)} (its license forbids shipping it)",
)


@needs_movielens
def test_import_keeps_every_rating_user_and_movie(tmp_path):
    counts = import_movielens(ML_100K, str(tmp_path))
    with open(os.path.join(ML_100K, "u.data")) as f:
        ratings = [line.split("\t") for line in f]
    expected_clicks = sum(int(r[2]) >= 4 for r in ratings)
    assert counts == {"impressions": 100000, "clicks": expected_clicks, "users": 943, "items": 1682}

    with open(tmp_path / "impressions.csv") as f:
        impressions = list(csv.DictReader(f))
    assert len(impressions) == 100000
    assert sum(r["clicked"] == "1" for r in impressions) / len(impressions) == expected_clicks / 100000
    assert len({r["user_id"] for r in impressions}) == 943
    assert len({r["item_id"] for r in impressions}) == 1682
    with open(tmp_path / "users.csv") as f:
        users = list(csv.DictReader(f))
    assert users[0] == {
        "user_id": "1",
        "gender": "M",
        "age": "18-24",
        "occupation": "technician",
        "zip_prefix": "8",
    }
    with open(tmp_path / "items.csv") as f:
        items = list(csv.DictReader(f))
    assert items[0] == {"item_id": "1", "genre": "Animation", "release_year": "1995"}
    assert (tmp_path / "dataset.yaml").exists()


def test_missing_source_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="u.data"):
        import_movielens(str(tmp_path), str(tmp_path / "out"))


def test_age_buckets():
    assert [age_bucket(a) for a in (7, 18, 24, 25, 44, 49, 50, 56, 73)] == [
        "<18", "18-24", "18-24", "25-34", "35-44", "45-49", "50-55", "56+", "56+"
    ]  # fmt: skip
