"""``run_many``: many runs of one project over a Dask cluster, in batches."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ._batches import BatchRunner, BatchSizer, Item
from ._requests import as_request, serialise
from ._results import RunResult
from ._worker import PLUGIN_PREFIX, KedroSessionPlugin

logger = logging.getLogger(__name__)

#: The values of ``worker_logs``.
WORKER_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def run_many(
    project_path: Path | str,
    requests: Iterable[Any],
    *,
    client: Client | str | None = None,
    env: str | None = None,
    conf_source: str | None = None,
    outputs: Sequence[str] | None = None,
    preload: bool | Sequence[str] = False,
    node_cache: bool = False,
    progress: bool = True,
    batch_size: int | None = None,
    skip: Collection[int] = (),
    worker_logs: str = "warning",
) -> list[RunResult]:
    """Run a Kedro project once per request on a Dask cluster; results in order.

    The list form of :func:`iter_run_many`, which has the details: it takes
    the same arguments and raises the same errors.

    Args:
        project_path: The project's folder, as the workers see it.
        requests: ``RunRequest`` values, or mappings of their fields.
        client: A ``distributed.Client``, a scheduler address, or None for a
            local cluster.
        env: Configuration environment of the workers' sessions.
        conf_source: Configuration folder of the workers' sessions.
        outputs: Names of the run outputs to load and return; None for all.
        preload: Forwarded to ``KedroSession.create`` on the workers.
        node_cache: Give each worker's session a node cache (one per worker
            process), so a request that repeats the work of an earlier one on
            the same worker reuses its nodes' results; see ``RunResult.reused``.
        progress: Show a progress bar on stderr.
        batch_size: Requests per Dask task; None sizes batches from run times.
        skip: Indexes of requests not to run (they are checked all the same).
        worker_logs: Level of the workers' per-run log lines.

    Returns:
        One result per request run (every request not in ``skip``), in request
        order. A failed run has its error in its result; no exception is
        raised for it.
    """
    results = iter_run_many(
        project_path,
        requests,
        client=client,
        env=env,
        conf_source=conf_source,
        outputs=outputs,
        preload=preload,
        node_cache=node_cache,
        progress=progress,
        batch_size=batch_size,
        skip=skip,
        worker_logs=worker_logs,
    )
    return sorted(results, key=lambda result: result.index)


def iter_run_many(
    project_path: Path | str,
    requests: Iterable[Any],
    *,
    client: Client | str | None = None,
    env: str | None = None,
    conf_source: str | None = None,
    outputs: Sequence[str] | None = None,
    preload: bool | Sequence[str] = False,
    node_cache: bool = False,
    progress: bool = True,
    batch_size: int | None = None,
    skip: Collection[int] = (),
    worker_logs: str = "warning",
) -> Iterator[RunResult]:
    """Run a Kedro project once per request on a Dask cluster; results as they come.

    Each worker process keeps one warm kedro-runtime session. Every request is
    made into one :class:`kedro_runtime.RunRequest` and pickled when this is
    called, before anything is submitted. Requests travel in batches, several
    per Dask task; a batch's results come back together, as the task's value,
    so a worker that dies mid-batch has sent none of them and the batch runs
    again elsewhere, each request with a new run id. Results are yielded as
    their batches complete and not kept. Closing the iterator cancels the runs
    not yet done. See ``docs/scale-out.md``.

    Args:
        project_path: The project's folder, as the workers see it.
        requests: ``RunRequest`` values, or mappings of their fields (the
            ``KedroSession.run`` keyword arguments), one per run; no ``run_id``.
        client: A ``distributed.Client``, a scheduler address such as
            ``"tcp://host:8786"``, or None for a ``LocalCluster`` of one
            single-threaded worker process per CPU, closed when the iterator ends.
        env: Configuration environment of the workers' sessions.
        conf_source: Configuration folder of the workers' sessions.
        outputs: Names of the run outputs to load and return (None: all).
        preload: Forwarded to ``KedroSession.create`` on the workers.
        node_cache: Give each worker's session a node cache (``RunResult.reused``).
        progress: Show a progress bar (runs done, failed, rate) on stderr.
        batch_size: Requests per Dask task. None: one per task until run times
            are known, then about 0.3 s of runs, keeping at least four tasks of
            what is left per worker thread.
        skip: Indexes of requests not to run (checked all the same; no result).
        worker_logs: Level of the workers' per-run log lines: ``"warning"``
            (default: no ``INFO`` line per run), ``"info"``, ``"debug"`` or
            ``"error"``.

    Returns:
        An iterator of one result per request run, each with its ``index``, in
        the order they complete. A failed run has its error in its result.

    Raises:
        TypeError: If a request is neither a ``RunRequest`` nor a mapping or
            cannot be pickled (``UnpicklableRuntimeDataError`` names the
            dataset), or a value or an argument has the wrong type.
        ValueError: If a request has a key that is not a field of
            ``RunRequest``, a wrong value, or a ``run_id``; ``batch_size`` is
            below 1, or ``worker_logs`` is not a level named above.
    """
    outputs = _check_outputs(outputs)
    plugin = KedroSessionPlugin(project_path, env, conf_source, preload, node_cache)
    sizer = BatchSizer(fixed=_check_batch_size(batch_size))
    log_level = _check_worker_logs(worker_logs)
    skipped = set(skip)
    items = [
        (index, serialise(as_request(request, index), index))
        for index, request in enumerate(requests)
    ]
    items = [item for item in items if item[0] not in skipped]
    return _results(plugin, items, client, outputs, sizer, log_level, progress)


def _results(
    plugin: KedroSessionPlugin,
    items: list[Item],
    client: Client | str | None,
    outputs: Sequence[str] | None,
    sizer: BatchSizer,
    log_level: int,
    show: bool,
) -> Iterator[RunResult]:
    """The results, with a progress bar and a closing log line."""
    if not items:
        return
    failed = done = 0
    start = time.perf_counter()
    with _client_for(client) as dask_client, _progress_bar(show) as bar:
        task = bar.add_task("runs", total=len(items), failed=0, rate=0.0)
        runner = BatchRunner(
            dask_client,
            _register(dask_client, plugin),
            items,
            outputs,
            sizer,
            log_level,
        )
        for result in runner:
            done += 1
            failed += result.error is not None
            rate = done / max(time.perf_counter() - start, 1e-9)
            bar.update(task, advance=1, failed=failed, rate=rate)
            yield result
    logger.info(
        "%d runs in %d tasks, %d failed, %.1f runs/s",
        done,
        runner.tasks,
        failed,
        done / max(time.perf_counter() - start, 1e-9),
    )


def _progress_bar(show: bool) -> Progress:
    return Progress(
        TextColumn("Kedro runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"),
        TextColumn("{task.fields[rate]:.1f} runs/s"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    )


def _check_batch_size(batch_size: object) -> int | None:
    if batch_size is None:
        return None
    if not isinstance(batch_size, int) or isinstance(batch_size, bool):
        raise TypeError(
            f"`batch_size` must be an int (requests per Dask task) or None to size "
            f"batches from run times; got {type(batch_size).__name__}."
        )
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be 1 or more; got {batch_size}.")
    return batch_size


def _check_worker_logs(worker_logs: object) -> int:
    level = WORKER_LOG_LEVELS.get(str(worker_logs).lower())
    if not isinstance(worker_logs, str) or level is None:
        raise ValueError(
            f"`worker_logs` must be one of {', '.join(map(repr, WORKER_LOG_LEVELS))}; "
            f"got {worker_logs!r}."
        )
    return level


def _check_outputs(outputs: Iterable[str] | None) -> list[str] | None:
    if outputs is None:
        return None
    one = isinstance(outputs, str) or not isinstance(outputs, Iterable)
    names: list[Any] = [outputs] if one else list(outputs)
    if one or not all(isinstance(name, str) for name in names):
        raise TypeError(
            f"`outputs` must be a list of names (str), e.g. outputs=['a'], "
            f"got {outputs!r:.80}."
        )
    return names


@contextmanager
def _client_for(client: Client | str | None) -> Iterator[Client]:
    """The caller's client, a client of a scheduler address, or a local cluster's."""
    if isinstance(client, Client):
        yield client
    elif isinstance(client, str):
        with Client(client) as connected:
            yield connected
    elif client is None:
        with local_cluster() as local:
            yield local
    else:
        raise TypeError(
            f"`client` must be a distributed.Client, a scheduler address such as "
            f"'tcp://host:8786', or None for a local cluster; got "
            f"{type(client).__name__}."
        )


@contextmanager
def local_cluster(workers: int | None = None) -> Iterator[Client]:
    """A client of a new local cluster of worker processes, closed on exit.

    Args:
        workers: How many worker processes (one thread each); ``None`` for one
            per CPU this process may use.

    Yields:
        A client of the cluster.
    """
    if workers is None:
        workers = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    logger.info("Starting a local Dask cluster of %d worker processes", workers)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _plugin_names(dask_scheduler: Any) -> list[str]:
    return list(dask_scheduler.worker_plugins)


def _register(client: Client, plugin: KedroSessionPlugin) -> str:
    """Register the session plugin; a worker holds one project's session at a time.

    Kedro's project settings are process-wide, so the plugins of other
    projects (or other options) are removed first. The same plugin registered
    again is kept as it is, with its warm sessions.
    """
    key = repr(
        (
            plugin.project_path,
            plugin.env,
            plugin.conf_source,
            plugin.preload,
            plugin.node_cache,
        )
    )
    name = PLUGIN_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]
    for other in client.run_on_scheduler(_plugin_names):
        if other.startswith(PLUGIN_PREFIX) and other != name:
            client.unregister_worker_plugin(other)
    client.register_plugin(plugin, name=name)
    return name
