"""Batches: several requests per Dask task, sized from measured run times.

A Dask task costs a few milliseconds of client, scheduler and worker time
whatever it carries; a small pipeline's run costs about as much. So requests
travel in batches, one task each. The first tasks carry one request each; from
their results the mean time of a run is known, and later batches are sized so
that a task takes about :data:`TARGET_TASK_SECONDS`, but never so large that
fewer than :data:`TASKS_PER_THREAD` tasks of what is left remain per worker
thread (work stays balanced, the progress bar moves, the last tasks are small).

Only a bounded number of tasks is in flight at a time (:data:`IN_FLIGHT_PER_THREAD`
per worker thread), so later batches are sized with what was measured, and the
scheduler holds little.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from distributed import Client, Future, as_completed
from distributed.scheduler import KilledWorker

from ._results import RunError, RunResult
from ._worker import run_batch

#: Seconds of runs a batch should carry, once run times are known.
TARGET_TASK_SECONDS = 0.3
#: Tasks of the requests left, per worker thread, that a batch size keeps.
TASKS_PER_THREAD = 4
#: Tasks submitted and not yet done, per worker thread.
IN_FLIGHT_PER_THREAD = 2
#: Seconds between two looks at how many worker threads the cluster has.
THREADS_REFRESH_SECONDS = 1.0

Item = tuple[int, bytes]
"""One request of a batch: its index and the pickled ``RunRequest``."""


@dataclass
class BatchSizer:
    """How many requests the next task carries.

    Attributes:
        fixed: The caller's ``batch_size``; None to size from run times.
        per_run: Mean seconds of a run on a worker, as measured so far (a
            moving average); None until a result has come back.
    """

    fixed: int | None = None
    per_run: float | None = None

    def observe(self, results: Sequence[RunResult]) -> None:
        """Take the run times of a batch's results into the mean.

        Args:
            results: The results of one task.
        """
        durations = [result.duration for result in results if result.run_id]
        if not durations:
            return
        mean = sum(durations) / len(durations)
        self.per_run = mean if self.per_run is None else 0.7 * self.per_run + 0.3 * mean

    def size(self, left: int, threads: int) -> int:
        """The number of requests of the next batch.

        Args:
            left: Requests not yet submitted.
            threads: Worker threads of the cluster.

        Returns:
            At least 1.
        """
        if self.fixed is not None:
            return self.fixed
        if self.per_run is None:
            return 1
        by_time = round(TARGET_TASK_SECONDS / max(self.per_run, 1e-4))
        balanced = left // (max(threads, 1) * TASKS_PER_THREAD)
        return max(1, min(by_time, balanced))


class BatchRunner:
    """Submits batches of requests and yields their results as tasks complete.

    Args:
        client: The cluster's client.
        plugin_name: Name of the registered :class:`KedroSessionPlugin`.
        items: The requests to run, in order.
        outputs: Names of the outputs to load, or None for all.
        sizer: Sizes the batches.
        log_level: Level of the per-run log lines on the workers.
    """

    def __init__(
        self,
        client: Client,
        plugin_name: str,
        items: Sequence[Item],
        outputs: Sequence[str] | None,
        sizer: BatchSizer,
        log_level: int,
    ) -> None:
        self._client = client
        self._plugin_name = plugin_name
        self._pending: deque[Item] = deque(items)
        self._outputs = outputs
        self._sizer = sizer
        self._log_level = log_level
        self._token = secrets.token_hex(4)
        self._batches: dict[str, list[Item]] = {}
        self._futures: dict[str, Future] = {}
        self._done = as_completed(with_results=True, raise_errors=False)
        self._threads = (0, 0.0)
        #: Tasks submitted, and the requests they carried (for the docs' numbers).
        self.tasks = 0

    def __iter__(self) -> Iterator[RunResult]:
        """Results as their tasks complete; cancels what is left on exit."""
        try:
            self._fill()
            for future, value in self._done:
                batch = self._batches.pop(future.key)
                del self._futures[future.key]
                future.release()
                if isinstance(value, list):
                    self._sizer.observe(value)
                    yield from value
                elif len(batch) > 1 and _killed_worker(value):
                    # Given up after its workers kept dying: one of its runs may
                    # kill workers. Each request runs again alone, so the others
                    # are not lost with it.
                    for item in batch:
                        self._submit([item])
                else:
                    error = _error_of(value)
                    for index, _ in batch:
                        yield RunResult(index=index, run_id=None, error=error)
                self._fill()
        finally:
            if self._futures:
                self._client.cancel(list(self._futures.values()))

    def _fill(self) -> None:
        threads = self._thread_count()
        while self._pending and len(self._batches) < threads * IN_FLIGHT_PER_THREAD:
            size = self._sizer.size(len(self._pending), threads)
            self._submit(
                [self._pending.popleft() for _ in range(size) if self._pending]
            )

    def _submit(self, batch: list[Item]) -> None:
        first, last = batch[0][0], batch[-1][0]
        key = (
            f"kedro-run-{self._token}-{first}"
            if len(batch) == 1
            else f"kedro-runs-{self._token}-{first}-{last}-{self.tasks}"
        )
        future = self._client.submit(
            run_batch,
            self._plugin_name,
            batch,
            self._outputs,
            self._log_level,
            key=key,
            pure=False,
        )
        self._batches[key] = batch
        self._futures[key] = future
        self._done.add(future)
        self.tasks += 1

    def _thread_count(self) -> int:
        """Worker threads of the cluster (at least 1), looked up once a second."""
        count, when = self._threads
        now = time.monotonic()
        if now - when > THREADS_REFRESH_SECONDS:
            count = max(1, sum(self._client.nthreads().values()))
            self._threads = (count, now)
        return count


def _killed_worker(value: object) -> bool:
    exc = value[1] if isinstance(value, tuple) and len(value) == 3 else value
    return isinstance(exc, KilledWorker)


def _error_of(value: object) -> RunError:
    """The error of a task that failed as a whole.

    Its workers kept dying (``KilledWorker``), or it was cancelled; Dask gives
    ``(type, exception, traceback)``.
    """
    exc = value[1] if isinstance(value, tuple) and len(value) == 3 else value
    if isinstance(exc, BaseException):
        return RunError.from_exception(exc)
    return RunError(type="builtins.RuntimeError", message=f"task failed: {exc!r}")
