import pytest

from mian.ingest import accounting

BALANCED = {
    "impressions.read": 100,
    "examples.train": 90,
    "examples.eval": 4,
    "examples.test": 4,
    "impressions.rejected.bad_label": 2,
    "users.read": 10,
    "items.read": 5,
}


def test_balanced_books_under_the_gate_pass():
    accounting.check_books(BALANCED, 0.02, "dead")
    assert accounting.examples_written(BALANCED) == 98
    assert "examples written: 98 (train 90, eval 4, test 4)" in accounting.summary(BALANCED)


def test_lost_impressions_are_named_not_hidden():
    lost = {**BALANCED, "examples.train": 87}
    with pytest.raises(accounting.BooksDoNotBalance, match="3 impressions were lost"):
        accounting.check_books(lost, 0.5, "dead")


def test_a_table_over_the_reject_share_fails_with_its_reasons():
    stats = {**BALANCED, "users.rejected.duplicate": 1, "users.rejected.unparseable": 1}
    with pytest.raises(
        accounting.TooManyRejects, match=r"users: 2 of 10 rows rejected \(20.00%.*1 duplicate, 1 unparseable"
    ):
        accounting.check_books(stats, 0.1, "dead")
