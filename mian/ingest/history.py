"""Behavior histories: for each impression, the user's clicks strictly before it.

Pure functions, so that the leakage guarantee can be tested exhaustively apart from Beam; the Beam
pipeline calls them once per (user, day) group.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from mian.dataset_config import SECONDS_PER_DAY


def click_days(click_ts: int, window_days: int) -> range:
    """The impression days whose history window can reach a click at `click_ts`.

    An impression at time t reads clicks in [t - window_days days, t); a click on day c can therefore
    matter to impressions on days c to c + window_days (none when the window is empty).
    """
    day = click_ts // SECONDS_PER_DAY
    return range(day, day + window_days + 1) if window_days > 0 else range(0)


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
