"""End the MLflow runs a Kedro run left active in its thread.

kedro-mlflow (2.0.3) re-activates its MLflow run at every node and ends it once,
so runs stay active in the thread and the next Kedro run's MLflow run becomes
their child. :func:`mlflow_run_scope` is in ``settings.RUN_SCOPES`` by default
when kedro-mlflow is installed (see :mod:`kedro_runtime.integrations`). It does
not import ``mlflow``: it reads it from ``sys.modules``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def _mlflow_run_scope(run_id: str) -> Iterator[None]:
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        yield
        return
    before = mlflow.active_run()
    kept = None if before is None else before.info.run_id
    status = "FINISHED"
    try:
        yield
    except BaseException:
        status = "FAILED"
        raise
    finally:
        ended = []
        active = mlflow.active_run()
        while active is not None and active.info.run_id != kept:
            ended.append(active.info.run_id)
            mlflow.end_run(status)
            active = mlflow.active_run()
        _log_ended(run_id, sorted(set(ended)), status)


def _log_ended(run_id: str, ended: list[str], status: str) -> None:
    """One MLflow run is kedro-mlflow's, left as it always does: ``DEBUG``.

    More than one means the project's own code (a node or hook) left a run
    active: ``INFO``.
    """
    if not ended:
        return
    logger.log(
        logging.DEBUG if len(ended) == 1 else logging.INFO,
        "Run %s left MLflow run(s) %s active in its thread: ended (%s)",
        run_id,
        ", ".join(ended),
        status,
    )


def mlflow_run_scope(run_id: str) -> AbstractContextManager[None]:
    """End the MLflow runs a run started and left active in its thread.

    Does nothing unless ``mlflow`` is already imported. Before the run it notes
    ``mlflow.active_run()`` (``None``, or the caller's own run); afterwards it
    calls ``mlflow.end_run()`` while another run is active, ``FAILED`` if the
    run raised, so a run the caller started before ``session.run`` is never
    ended. MLflow's active run is per thread, so this is exact under threads.
    The line saying which runs it ended is ``DEBUG`` when it ended one MLflow
    run (kedro-mlflow's), ``INFO`` when more (the project's code left some).

    Args:
        run_id: The Kedro run id (for the log line).

    Returns:
        The context manager to enter around the run's hooks.
    """
    return _mlflow_run_scope(run_id)
