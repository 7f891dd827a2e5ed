"""How many passes the ingestion makes over parts of the users, and how their books add up."""

import dataclasses

import pytest

from mian.config.dataset_config import DatasetConfig
from mian.data.ingest import accounting, passes
from mian.data.ingest.pipeline import FIRST_TS, LAST_TS

CONFIG = DatasetConfig.from_dict(
    {"name": "t", "impressions": "impressions*", "users": "users.csv", "items": "items.csv"}
)


@pytest.fixture
def logs(tmp_path, monkeypatch):
    """Two impression files of 700 and 400 bytes, with passes of at most 500 bytes."""
    (tmp_path / "impressions-1.csv").write_bytes(b"x" * 700)
    (tmp_path / "impressions-2.csv").write_bytes(b"x" * 400)
    monkeypatch.setattr(passes, "PASS_MAX_BYTES", 500)
    return str(tmp_path)


def test_the_direct_runner_gets_a_pass_per_share_of_the_impression_files(logs):
    assert passes.pass_count(CONFIG, logs) == 3  # 1,100 bytes in passes of 500
    assert passes.pass_count(CONFIG, logs, ["--runner=DirectRunner", "--direct_num_workers=2"]) == 3


def test_a_compressed_impressions_file_counts_at_its_expanded_size(logs):
    with open(f"{logs}/impressions-3.csv.gz", "wb") as f:
        f.write(b"x" * 100)  # 800 bytes once read, at COMPRESSED_EXPANSION 8
    assert passes.COMPRESSED_EXPANSION == 8
    assert passes.pass_count(CONFIG, logs) == 4  # 700 + 400 + 800 bytes in passes of 500


def test_a_runner_with_its_own_shuffle_makes_one_pass(logs):
    for runner in ("DataflowRunner", "FlinkRunner", "SparkRunner"):
        assert passes.pass_count(CONFIG, logs, [f"--runner={runner}"]) == 1


def test_the_config_can_name_the_passes(logs):
    assert passes.pass_count(dataclasses.replace(CONFIG, passes=7), logs, ["--runner=DataflowRunner"]) == 7
    for wrong in (0, "many", 1.5):
        with pytest.raises(ValueError, match="passes must be 'auto' or an integer >= 1"):
            dataclasses.replace(CONFIG, passes=wrong)


def test_the_books_of_the_passes_add_up_and_span_their_times():
    first = {"impressions.read": 10, "examples.train": 9, "impressions.rejected.bad_label": 1,
             "users.read": 4, FIRST_TS: 100, LAST_TS: 900}  # fmt: skip
    second = {"impressions.read": 5, "examples.train": 3, "examples.test": 2, FIRST_TS: 50, LAST_TS: 800}
    empty: dict = {}  # a part whose users had no impression
    merged = accounting.merge_stats([first, empty, second])
    assert merged == {"impressions.read": 15, "examples.train": 12, "examples.test": 2,
                      "impressions.rejected.bad_label": 1, "users.read": 4,
                      FIRST_TS: 50, LAST_TS: 900}  # fmt: skip
    accounting.check_books(merged, 0.1, "unused")
