import pytest

from mian.data.ingest import accounting

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


def _config(**changes):
    from mian.config.dataset_config import DatasetConfig

    raw = dict(name="t", impressions="i.csv", users="u.csv", items="it.csv", max_reject_share=0.05)
    return DatasetConfig.from_dict({**raw, **changes})


def test_an_empty_split_fails_naming_the_time_range_and_the_windows():
    # A log of 12 hours with 3-day eval and test windows: everything lands in test.
    stats = {**BALANCED, "examples.train": 0, "examples.eval": 0, "examples.test": 98,
             "impressions.first_ts": 1_700_000_000, "impressions.last_ts": 1_700_043_200}  # fmt: skip
    config = _config(split={"eval_days": 3, "test_days": 3}, min_split_examples=50)
    with pytest.raises(accounting.SplitTooSmall) as failure:
        accounting.check(stats, config, "dead")
    message = str(failure.value)
    assert "train 0, eval 0" in message and "test 98" not in message
    assert "2023-11-14 22:13 UTC to 2023-11-15 10:13 UTC (0.5 days)" in message
    assert "last 3 day(s) as test and the 3 day(s) before them as eval" in message


def test_splits_at_the_minimum_pass_and_one_below_fails():
    config = _config(min_split_examples=4)
    accounting.check(BALANCED, config, "dead")  # eval 4 and test 4
    with pytest.raises(accounting.SplitTooSmall, match="fewer than 5 examples: eval 4, test 4"):
        accounting.check(BALANCED, _config(min_split_examples=5), "dead")
