"""Behavior histories: for each impression, the user's clicks strictly before it.

Pure functions, so that the leakage guarantee can be tested exhaustively apart from Beam; the Beam
pipeline calls them once per (user, time block) group.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from mian.config.dataset_config import SECONDS_PER_DAY


def block_of(ts: int, window_days: int) -> int:
    """The time block of a timestamp: blocks are window_days + 1 days long.

    Impressions are grouped per (user, block). A block as long as the window plus one day means that a
    click can reach impressions in its own block and the next one only (see click_blocks), so each
    click is sent to at most two groups, and a group holds one user's block of impressions and the
    clicks of at most two blocks: bounded by the window, not by the length of the user's log.
    """
    return ts // (SECONDS_PER_DAY * (window_days + 1))


def click_blocks(click_ts: int, window_days: int) -> range:
    """The blocks whose impressions may have a click at `click_ts` in their history.

    An impression at time t reads clicks in [t - window_days days, t), so the click matters to
    impressions in (click_ts, click_ts + window_days days]: its own block and the next at most (none
    when the window is empty).
    """
    if window_days <= 0:
        return range(0)
    first = block_of(click_ts + 1, window_days)
    last = block_of(click_ts + window_days * SECONDS_PER_DAY, window_days)
    return range(first, last + 1)


def attach_histories(
    impressions: Iterable[dict], clicks: Iterable[dict], length: int, window_days: int
) -> Iterator[tuple[dict, list[dict]]]:
    """Pair each impression with its history: clicks with window_start <= ts < impression ts.

    `clicks` are dicts with a `ts` and an `order` key (a tie-breaker, e.g. (file, line)), and the
    history is newest first, at most `length` long. A click at the impression's own second is not in
    its history: only strictly earlier clicks are known when the impression is served.
    """
    ordered = sorted(clicks, key=lambda c: (c["ts"], c["order"]))
    times = [c["ts"] for c in ordered]
    window = window_days * SECONDS_PER_DAY
    for impression in impressions:
        ts = impression["ts"]
        end = bisect.bisect_left(times, ts)
        start = max(bisect.bisect_left(times, ts - window), end - length)
        yield impression, ordered[start:end][::-1]
