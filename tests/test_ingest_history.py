"""The history of an impression holds only clicks strictly before it: checked against brute force."""

from hypothesis import given, settings
from hypothesis import strategies as st

from mian.config.dataset_config import SECONDS_PER_DAY
from mian.data.ingest.history import attach_histories, block_of, click_blocks

# Times on a coarse grid over a few days, so that ties (same second) are common.
times = st.integers(0, 40).map(lambda k: k * 7_200)
events = st.lists(st.tuples(times, st.booleans()), max_size=40)


def brute_force(impression_ts, clicks, length, window_days):
    earlier = [c for c in clicks if impression_ts - window_days * SECONDS_PER_DAY <= c["ts"] < impression_ts]
    earlier.sort(key=lambda c: (c["ts"], c["order"]), reverse=True)
    return earlier[:length]


@settings(max_examples=300, deadline=None)
@given(events, st.integers(1, 6), st.integers(0, 2))
def test_history_is_exactly_the_newest_earlier_clicks_within_the_window(log, length, window_days):
    impressions = [{"ts": ts, "order": i} for i, (ts, _) in enumerate(log)]
    clicks = [{"ts": ts, "order": i} for i, (ts, clicked) in enumerate(log) if clicked]
    for impression, history in attach_histories(impressions, clicks, length, window_days):
        assert all(c["ts"] < impression["ts"] for c in history)  # no leakage, ties excluded
        assert history == brute_force(impression["ts"], clicks, length, window_days)


@given(st.integers(0, 10**9), st.integers(0, 40), st.integers(-3 * SECONDS_PER_DAY, 45 * SECONDS_PER_DAY))
def test_a_click_is_sent_to_the_block_of_every_impression_that_may_see_it(click_ts, window_days, delay):
    blocks = click_blocks(click_ts, window_days)
    assert len(blocks) <= 2
    impression_ts = click_ts + delay
    if click_ts < impression_ts <= click_ts + window_days * SECONDS_PER_DAY:
        assert block_of(impression_ts, window_days) in blocks


def test_history_buckets_are_the_paper_s_inactive_short_medium_and_long():
    from mian.data.ingest.examples import history_bucket

    names = [history_bucket(n) for n in (0, 1, 5, 6, 20, 21, 30)]
    assert names == ["0", "1-5", "1-5", "6-20", "6-20", ">20", ">20"]
