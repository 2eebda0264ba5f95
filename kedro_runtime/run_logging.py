"""Run logging: one summary line per run instead of Kedro's per-node lines.

A session made with ``run_logging="summary"`` logs one ``INFO`` line per run
(run id, pipelines, node count, status, duration) on this module's logger,
and its runs' per-node and per-dataset ``INFO`` lines ("Loading data from",
"Running node", "Saving data to", "Completed n out of m tasks", kedro-runtime's
own per-run lines) become ``DEBUG`` lines: dropped, and, when the logger that
emits them is enabled for ``DEBUG``, emitted again as a new ``DEBUG`` record
(the original record is never changed). Warnings and errors are never touched.
The default, ``"kedro"``, logs as Kedro does.

How a record is known to belong to a summary-mode run: each summary-mode
session owns a :class:`SummaryLogging`, which adds one :class:`SummaryFilter`
to each logger in :data:`RUN_LOGGERS` when the session is made and removes them
when it is closed. A filter acts only on records emitted from a thread marked
as working for one of its session's runs, and only while such a run is in
flight (else it returns at once). A thread is marked while it executes a run of
the session (``SequentialRunner`` runs every node there) and, through hooks the
:class:`SummaryLogging` registers on its session's hook manager, when a node of
such a run starts loading its inputs or running in another thread
(``ThreadRunner``'s workers). The marks are the session's own (a
``threading.local`` of its :class:`SummaryLogging`): runs of other sessions, in
any mode, keep all their lines. Not covered: the workers of ``ParallelRunner``
(other processes), saves that ``is_async`` hands to a pool thread, and runners
whose logger is not in :data:`RUN_LOGGERS`. A worker thread keeps its mark when
the node ends (``ThreadRunner``'s pool ends with the run): a custom runner that
reuses one pool for runs of this session and of a ``"kedro"``-mode session
would see the latter's lines on such a thread filtered while a summary run of
this session is in flight. A session that is never closed keeps its filters,
which act on nothing once its runs have ended.

The filters change no logger's level or handlers; the project's logging config
is left as it is. :func:`follow_kedro_level` is the one exception, and only for
kedro-runtime's own ``kedro_runtime`` logger (see its docstring).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.framework.project import LOGGING
from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

MODES = ("kedro", "summary")
"""The values of ``run_logging``."""

RUN_LOGGERS = (
    "kedro.io.data_catalog",
    "kedro.pipeline.node",
    "kedro.runner.runner",
    "kedro.runner.sequential_runner",
    "kedro.runner.thread_runner",
    "kedro.runner.parallel_runner",
    "kedro_runtime.session",
    "kedro_runtime.inject",
)
"""The loggers whose per-run ``INFO`` lines summary mode turns into ``DEBUG``."""

_FOLLOWED = "_kedro_runtime_followed_level"
"""Attribute of the ``kedro_runtime`` logger: the level it last got from ``kedro``."""


def check_mode(mode: object) -> str:
    """Check a ``run_logging`` argument.

    Args:
        mode: The value given.

    Returns:
        The mode.

    Raises:
        TypeError: If it is not a string.
        ValueError: If it is not one of :data:`MODES`.
    """
    if not isinstance(mode, str):
        raise TypeError(
            f"run_logging must be a string, one of {MODES}; got {type(mode).__name__}"
        )
    if mode not in MODES:
        raise ValueError(f"run_logging must be one of {MODES}; got {mode!r}")
    return mode


def session_mode(mode: str, hook_manager: Any) -> SummaryLogging | None:
    """Set up a new session's run logging.

    Makes a summary-mode session's :class:`SummaryLogging` (which adds its
    filters and registers its hooks on ``hook_manager``), and calls
    :func:`follow_kedro_level`.

    Args:
        mode: The ``run_logging`` given to the session.
        hook_manager: The session's hook manager.

    Returns:
        The session's :class:`SummaryLogging`, or ``None`` in ``"kedro"`` mode.

    Raises:
        TypeError: If ``mode`` is not a string.
        ValueError: If it is not one of :data:`MODES`.
    """
    checked = check_mode(mode)
    follow_kedro_level()
    return SummaryLogging(hook_manager) if checked == "summary" else None


class SummaryFilter(logging.Filter):
    """Drops one session's summary-mode runs' ``INFO`` records of one logger.

    Such a record is emitted again as a new ``DEBUG`` record when the logger
    is enabled for ``DEBUG``; the record itself is never changed.
    """

    def __init__(self, owner: SummaryLogging, target: logging.Logger):
        super().__init__()
        self._owner = owner
        self._target = target

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` goes on as it is (see the class)."""
        level = record.levelno
        if level <= logging.DEBUG or level >= logging.WARNING:
            return True
        if not self._owner.marked():
            return True
        if self._target.isEnabledFor(logging.DEBUG):
            debug = logging.makeLogRecord(record.__dict__)
            debug.levelno = logging.DEBUG
            debug.levelname = logging.getLevelName(logging.DEBUG)
            self._target.handle(debug)
        return False


class SummaryLogging:
    """A summary-mode session's filters, thread marks and runs in flight.

    Made with the session: it adds a :class:`SummaryFilter` to each logger in
    :data:`RUN_LOGGERS` and registers its hooks (which mark the thread where a
    node of the session's run starts) on the session's hook manager;
    :meth:`close` (called by ``session.close()``) removes both. Its
    hooks keep no per-run state, so runs need not take turns for them.

    Args:
        hook_manager: The session's hook manager.
    """

    kedro_runtime_concurrent_safe = True

    def __init__(self, hook_manager: Any) -> None:
        self._local = threading.local()
        # One token per run in flight; set.add and set.discard are atomic.
        self._runs: set[object] = set()
        self._filters = [
            (target, SummaryFilter(self, target))
            for target in map(logging.getLogger, RUN_LOGGERS)
        ]
        for target, added in self._filters:
            target.addFilter(added)
        self._hooks = hook_manager
        hook_manager.register(self)

    def in_flight(self) -> int:
        """How many of the session's runs are executing now."""
        return len(self._runs)

    def marked(self) -> bool:
        """Whether this thread works for one of the session's runs in flight."""
        return bool(self._runs) and getattr(self._local, "marked", False)

    def close(self) -> None:
        """Remove the session's filters from the loggers and its hooks."""
        for target, added in self._filters:
            target.removeFilter(added)
        if self._hooks.is_registered(self):
            self._hooks.unregister(self)

    @hook_impl
    def before_dataset_loaded(self) -> None:
        """Mark the thread before the first input of a node is loaded."""
        self._local.marked = True

    @hook_impl
    def before_node_run(self) -> None:
        """Mark the thread before a node (maybe without inputs) runs."""
        self._local.marked = True

    @contextmanager
    def run_scope(self, pipelines: list[str]) -> Iterator[RunSummary]:
        """Around one run: mark this thread and log the summary line.

        Args:
            pipelines: The names of the pipelines the run runs.

        Yields:
            The run's summary; call :meth:`RunSummary.started` once the run
            has an id.
        """
        summary = RunSummary(pipelines)
        token = object()
        previous = getattr(self._local, "marked", False)
        self._runs.add(token)
        self._local.marked = True
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            yield summary
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._local.marked = previous
            self._runs.discard(token)
            summary.log(time.perf_counter() - start, error)


class RunSummary:
    """What the summary line of one run says; filled in as the run goes."""

    def __init__(self, pipelines: list[str]):
        self.pipelines = pipelines
        self.run_id: str | None = None
        self.nodes = 0

    def started(self, run_id: str, pipeline: Pipeline) -> None:
        """Record the run id and the pipeline the runner gets.

        Args:
            run_id: The run's id.
            pipeline: The pipeline that runs.
        """
        self.run_id = run_id
        self.nodes = len(pipeline.nodes)

    def log(self, seconds: float, error: BaseException | None) -> None:
        """Log the summary line; nothing for a run rejected before its id."""
        if self.run_id is None:
            return
        names = ", ".join(self.pipelines)
        ms = seconds * 1000
        if error is None:
            logger.info(
                "Run %s of pipeline(s) %s: %d nodes, succeeded in %.1f ms",
                *(self.run_id, names, self.nodes, ms),
            )
        else:
            logger.info(
                "Run %s of pipeline(s) %s: %d nodes, failed in %.1f ms: %s: %s",
                *(self.run_id, names, self.nodes, ms),
                *(type(error).__name__, error),
            )


@contextmanager
def run_scope(
    logging_of: SummaryLogging | None, pipelines: list[str]
) -> Iterator[RunSummary]:
    """Around one run: :meth:`SummaryLogging.run_scope` of a summary-mode session.

    Args:
        logging_of: The session's :class:`SummaryLogging` (``None`` in
            ``"kedro"`` mode).
        pipelines: The names of the pipelines the run runs.

    Yields:
        The run's summary; call :meth:`RunSummary.started` once the run has
        an id. In ``"kedro"`` mode it is filled in but never logged.
    """
    if logging_of is None:
        yield RunSummary(pipelines)
        return
    with logging_of.run_scope(pipelines) as summary:
        yield summary


def follow_kedro_level() -> None:
    """Give the ``kedro_runtime`` logger the level of the ``kedro`` logger.

    Kedro's default logging config sets only the ``kedro`` logger (and the
    project's package logger) to ``INFO``, which would hide kedro-runtime's
    ``INFO`` lines. So, unless the project's logging config (or code) sets a
    level for ``kedro_runtime``, this sets it to the ``kedro`` logger's
    effective level, again on every call (every session created), so that it
    follows a reconfigured ``kedro`` logger. The level it set is kept on the
    ``kedro_runtime`` logger itself (this package's own logger), not in a
    module variable.
    """
    runtime = logging.getLogger("kedro_runtime")
    configured: Any = LOGGING.data.get("loggers") or {}
    if "kedro_runtime" in configured:
        return
    if runtime.level not in (logging.NOTSET, getattr(runtime, _FOLLOWED, None)):
        return
    level = logging.getLogger("kedro").getEffectiveLevel()
    runtime.setLevel(level)
    setattr(runtime, _FOLLOWED, level)
