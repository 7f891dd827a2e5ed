"""One run of a pipeline at a time: a lock beside its metadata store.

A daily schedule (cron, a systemd timer) starts `mian run` whether or not yesterday's run has ended.
Two runs of one pipeline would ingest, train and push side by side into one metadata store and one
push destination. The second therefore stops at once, with one line naming the running one, and
touches nothing; the next scheduled run takes the newest span, so a day skipped this way is caught
up then (or by `--span`). The lock is the operating system's (flock): it goes with the process that
held it, even a killed one, so no stale lock stops the next day.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

# The exit code of a run that found another running (EX_TEMPFAIL: try again later).
ALREADY_RUNNING = 75


class RunInProgress(RuntimeError):
    """Another run of the pipeline holds its lock."""


@contextlib.contextmanager
def pipeline_lock(metadata_path: str, pipeline_name: str) -> Iterator[None]:
    """Hold the pipeline's lock while the block runs; raise RunInProgress when another process has it."""
    path = metadata_path + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunInProgress(
                f"pipeline {pipeline_name!r} is already running (pid {holder}, lock {path}): this run "
                "stops without touching it; the next run takes the newest span"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
