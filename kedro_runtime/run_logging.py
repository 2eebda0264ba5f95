"""Run logging: one summary line per run instead of Kedro's per-node lines.

A session made with ``run_logging="summary"`` logs one ``INFO`` line per run
(run id, pipelines, node count, status, duration) on this module's logger,
and its runs' per-node and per-dataset ``INFO`` lines ("Loading data from",
"Running node", "Saving data to", "Completed n out of m tasks", kedro-runtime's
own per-run lines) become ``DEBUG`` lines: dropped unless the logger that
emits them is enabled for ``DEBUG``, then passed on with level ``DEBUG``.
Warnings and errors are never touched. The default, ``"kedro"``, logs as
Kedro does.

How a record is known to belong to a summary-mode run: a :class:`logging.Filter`
is added once to each logger in :data:`RUN_LOGGERS`. It acts only on records
emitted from a thread marked as working for a summary-mode run, and only
while such a run is in flight (else it returns at once). A thread is marked
while it executes a summary-mode run (``SequentialRunner`` runs every node
there) and, through a hook registered on the summary-mode session, when a node
of such a run starts loading its inputs or running in another thread
(``ThreadRunner``'s workers). Runs of ``"kedro"``-mode sessions in other
threads of the same process keep all their lines. Not covered: the workers of
``ParallelRunner`` (other processes), saves that ``is_async`` hands to a pool
thread, and runners whose logger is not in :data:`RUN_LOGGERS`. A worker thread
keeps its mark when the node ends (``ThreadRunner``'s pool ends with the run):
a custom runner that reuses one pool for the runs of both modes would see its
``"kedro"``-mode lines on such a thread filtered while a summary run is in
flight.

The filter changes no logger's level or handlers; the project's logging config
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

_mark = threading.local()
_lock = threading.Lock()
_in_flight = 0
_installed = False
_followed: int | None = None


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


def session_mode(mode: str, hook_manager: Any) -> str:
    """Set up a new session's run logging.

    Registers the :class:`ThreadMarker` hooks on a summary-mode session's hook
    manager, and calls :func:`follow_kedro_level`.

    Args:
        mode: The ``run_logging`` given to the session.
        hook_manager: The session's hook manager.

    Returns:
        The session's mode.

    Raises:
        TypeError: If ``mode`` is not a string.
        ValueError: If it is not one of :data:`MODES`.
    """
    checked = check_mode(mode)
    if checked == "summary":
        hook_manager.register(ThreadMarker())
    follow_kedro_level()
    return checked


def in_flight() -> int:
    """How many summary-mode runs are executing now in this process."""
    return _in_flight


class _PerRunFilter(logging.Filter):
    """Turns a summary-mode run's ``INFO`` records into ``DEBUG`` ones."""

    def __init__(self, target: logging.Logger):
        super().__init__()
        self._target = target

    def filter(self, record: logging.LogRecord) -> bool:
        if not _in_flight or record.levelno >= logging.WARNING:
            return True
        if not getattr(_mark, "summary", False):
            return True
        if not self._target.isEnabledFor(logging.DEBUG):
            return False
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        return True


def _install() -> None:
    global _installed  # noqa: PLW0603
    if _installed:
        return
    with _lock:
        if not _installed:
            for name in RUN_LOGGERS:
                target = logging.getLogger(name)
                target.addFilter(_PerRunFilter(target))
            _installed = True


class ThreadMarker:
    """Hooks that mark the thread running a summary-mode run's node.

    Registered on the hook manager of a summary-mode session only. It keeps
    no per-run state (the mark is per thread), so runs need not take turns.
    """

    kedro_runtime_concurrent_safe = True

    @hook_impl
    def before_dataset_loaded(self) -> None:
        """Mark the thread before the first input of a node is loaded."""
        _mark.summary = True

    @hook_impl
    def before_node_run(self) -> None:
        """Mark the thread before a node (maybe without inputs) runs."""
        _mark.summary = True


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
def run_scope(mode: str, pipelines: list[str]) -> Iterator[RunSummary]:
    """Around one run: in summary mode, mark this thread and log the summary.

    Args:
        mode: The session's ``run_logging``.
        pipelines: The names of the pipelines the run runs.

    Yields:
        The run's summary; call :meth:`RunSummary.started` once the run has
        an id. In ``"kedro"`` mode it is filled in but never logged.
    """
    summary = RunSummary(pipelines)
    if mode != "summary":
        yield summary
        return
    global _in_flight  # noqa: PLW0603
    _install()
    previous = getattr(_mark, "summary", False)
    with _lock:
        _in_flight += 1
    _mark.summary = True
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        yield summary
    except BaseException as exc:
        error = exc
        raise
    finally:
        _mark.summary = previous
        with _lock:
            _in_flight -= 1
        summary.log(time.perf_counter() - start, error)


def follow_kedro_level() -> None:
    """Give the ``kedro_runtime`` logger the level of the ``kedro`` logger.

    Kedro's default logging config sets only the ``kedro`` logger (and the
    project's package logger) to ``INFO``, which would hide kedro-runtime's
    ``INFO`` lines. So, unless the project's logging config (or code) sets a
    level for ``kedro_runtime``, this sets it to the ``kedro`` logger's
    effective level, again on every call (every session created), so that it
    follows a reconfigured ``kedro`` logger.
    """
    global _followed  # noqa: PLW0603
    runtime = logging.getLogger("kedro_runtime")
    configured: Any = LOGGING.data.get("loggers") or {}
    if "kedro_runtime" in configured:
        return
    if runtime.level not in (logging.NOTSET, _followed):
        return
    level = logging.getLogger("kedro").getEffectiveLevel()
    runtime.setLevel(level)
    _followed = level
