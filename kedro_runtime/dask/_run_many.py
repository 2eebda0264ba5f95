"""``run_many``: many runs of one project over a Dask cluster, results in order."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from distributed import Client, Future, LocalCluster, as_completed
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from kedro_runtime import SessionOptions

from ._requests import as_request, serialise
from ._results import RunError, RunResult
from ._worker import (
    PLUGIN_PREFIX,
    KedroSessionPlugin,
    run_request,
)

logger = logging.getLogger(__name__)


def run_many(
    project_path: Path | str,
    requests: Iterable[Any],
    *,
    client: Client | str | None = None,
    env: str | None = None,
    conf_source: str | None = None,
    outputs: Sequence[str] | None = None,
    preload: bool | Sequence[str] = False,
    progress: bool = True,
) -> list[RunResult]:
    """Run a Kedro project once per request on a Dask cluster.

    Each worker process bootstraps the project once and keeps one warm
    kedro-runtime session; each request is one ``session.run`` on a worker.
    Every request is made into one :class:`kedro_runtime.RunRequest` and
    pickled before anything is submitted; the worker runs that value.

    Args:
        project_path: The project's folder, as the workers see it.
        requests: ``RunRequest`` values, or mappings of their fields (the
            ``KedroSession.run`` keyword arguments ``runtime_params``,
            ``runtime_data``, ``pipeline_names``, filters, ...), one per run.
            ``run_id`` is not accepted: each attempt of a run gets a new id on
            its worker.
        client: A ``distributed.Client``, a scheduler address such as
            ``"tcp://host:8786"``, or None to start a ``LocalCluster`` with one
            single-threaded worker process per CPU, closed on return.
        env: Configuration environment of the workers' sessions.
        conf_source: Configuration folder of the workers' sessions.
        outputs: Names of the run outputs to load and return; None returns
            every output of each run (its pipeline's free outputs).
        preload: Forwarded to ``KedroSession.create`` on the workers: each
            worker's session loads the read-only inputs once (a name that
            cannot be preloaded fails every run, with the reason).
        progress: Show a progress bar (runs done, failed, rate) on stderr.

    Returns:
        One result per request, in request order. A failed run has its error
        in its result; no exception is raised for it.

    Raises:
        TypeError: If a request is neither a ``RunRequest`` nor a mapping, a
            value has the wrong type, ``outputs`` is not a list of names,
            ``client`` is not a client, an address or None, a request cannot
            be pickled (``UnpicklableRuntimeDataError``, a ``TypeError``,
            names the dataset), or ``preload`` is not a bool or a list of
            names (``PreloadTypeError``).
        ValueError: If a request has a key that is not a field of
            ``RunRequest``, a wrong value, or a ``run_id``.
    """
    outputs = _check_outputs(outputs)
    preload = SessionOptions(preload=preload).preload_choice
    payloads = [
        serialise(as_request(request, index), index)
        for index, request in enumerate(requests)
    ]
    if not payloads:
        return []
    plugin = KedroSessionPlugin(project_path, env, conf_source, preload)
    with _client_for(client) as dask_client:
        name = _register(dask_client, plugin)
        batch = secrets.token_hex(4)
        futures = [
            dask_client.submit(
                run_request,
                name,
                index,
                payload,
                outputs,
                key=f"kedro-run-{batch}-{index}",
                pure=False,
            )
            for index, payload in enumerate(payloads)
        ]
        try:
            return _gather(futures, progress)
        except BaseException:
            dask_client.cancel(futures)
            raise


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
    key = repr((plugin.project_path, plugin.env, plugin.conf_source, plugin.preload))
    name = PLUGIN_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]
    for other in client.run_on_scheduler(_plugin_names):
        if other.startswith(PLUGIN_PREFIX) and other != name:
            client.unregister_worker_plugin(other)
    client.register_plugin(plugin, name=name)
    return name


def _gather(futures: list[Future], show: bool) -> list[RunResult]:
    """Results in request order, as they complete, with a progress bar."""
    results: dict[int, RunResult] = {}
    index_of = {future.key: index for index, future in enumerate(futures)}
    failed = 0
    start = time.perf_counter()
    bar = Progress(
        TextColumn("Kedro runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"),
        TextColumn("{task.fields[rate]:.1f} runs/s"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    )
    with bar:
        task = bar.add_task("runs", total=len(futures), failed=0, rate=0.0)
        done = as_completed(futures, with_results=True, raise_errors=False)
        for future, value in done:
            index = index_of[future.key]
            result = (
                value
                if isinstance(value, RunResult)
                # The task itself failed: its workers kept dying (KilledWorker),
                # or it was cancelled. Dask gives (type, exception, traceback).
                else RunResult(index=index, run_id=None, error=_error_of(value))
            )
            future.release()
            results[index] = result
            failed += result.error is not None
            rate = len(results) / max(time.perf_counter() - start, 1e-9)
            bar.update(task, advance=1, failed=failed, rate=rate)
    logger.info(
        "%d runs, %d failed, %.1f runs/s",
        len(results),
        failed,
        len(results) / max(time.perf_counter() - start, 1e-9),
    )
    return [results[index] for index in range(len(futures))]


def _error_of(value: object) -> RunError:
    exc = value[1] if isinstance(value, tuple) and len(value) == 3 else value
    if isinstance(exc, BaseException):
        return RunError.from_exception(exc)
    return RunError(type="builtins.RuntimeError", message=f"task failed: {exc!r}")
