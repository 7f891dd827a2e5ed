"""Server-side batching, like TF Serving's --enable_batching.

Requests for the same version, signature and input shapes (apart from the batch axis) that arrive
within `timeout_ms` of the first are concatenated into one model call of up to `max_batch_size` rows,
and the outputs are split back. A merged call that fails is retried request by request, so that one
bad request (garbage bytes in a tf.Example) fails alone.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import threading
import time

import numpy as np


@dataclasses.dataclass
class _Task:
    inputs: dict
    rows: int
    future: concurrent.futures.Future
    enqueued: float


class Batcher:
    """Runs `call(function_key, inputs) -> outputs` on merged batches in `threads` worker threads."""

    def __init__(self, call, max_batch_size: int = 128, timeout_ms: float = 2.0, threads: int = 2):
        self.call = call
        self.max_batch_size = max_batch_size
        self.timeout = timeout_ms / 1000.0
        self.model_calls = 0
        self.rows = 0
        self._counting = threading.Lock()
        self._pending: dict[tuple, collections.deque] = collections.OrderedDict()
        self._cv = threading.Condition()
        self._closed = False
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for worker in self._workers:
            worker.start()

    def submit(self, function_key, inputs: dict) -> dict:
        """Blocks until the outputs of this request's rows are ready."""
        rows = len(next(iter(inputs.values())))
        shapes = tuple(sorted((k, v.dtype.str, v.shape[1:]) for k, v in inputs.items()))
        task = _Task(inputs, rows, concurrent.futures.Future(), time.monotonic())
        with self._cv:
            self._pending.setdefault((function_key, shapes), collections.deque()).append(task)
            self._cv.notify()
        return task.future.result()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def _next_batch(self):
        with self._cv:
            while not self._pending:
                if self._closed:
                    return None, []
                self._cv.wait()
            # The queue whose oldest request has waited longest goes first.
            key = min(self._pending, key=lambda k: self._pending[k][0].enqueued)
            queue = self._pending[key]
            deadline = queue[0].enqueued + self.timeout
            while sum(t.rows for t in queue) < self.max_batch_size and time.monotonic() < deadline:
                self._cv.wait(max(0.0, deadline - time.monotonic()))
            batch = [queue.popleft()]
            rows = batch[0].rows
            while queue and rows + queue[0].rows <= self.max_batch_size:
                rows += queue[0].rows
                batch.append(queue.popleft())
            if not queue:
                del self._pending[key]
            return key[0], batch

    def _work(self) -> None:
        while True:
            function_key, batch = self._next_batch()
            if not batch:
                return
            self._run(function_key, batch)

    def _run(self, function_key, batch: list[_Task]) -> None:
        merged = {k: np.concatenate([t.inputs[k] for t in batch]) for k in batch[0].inputs}
        with self._counting:
            self.model_calls += 1
            self.rows += sum(t.rows for t in batch)
        try:
            outputs = self.call(function_key, merged)
        except Exception as error:
            if len(batch) == 1:
                batch[0].future.set_exception(error)
            else:
                for task in batch:
                    self._run(function_key, [task])
            return
        start = 0
        for task in batch:
            task.future.set_result({k: v[start : start + task.rows] for k, v in outputs.items()})
            start += task.rows
