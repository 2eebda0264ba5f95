"""What runs on a Dask worker: one warm session per worker process, and the run task."""

from __future__ import annotations

import dataclasses
import logging
import pickle
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cloudpickle
from distributed import WorkerPlugin, get_worker

from kedro_runtime import KedroSession, RunRequest, SessionOptions, generate_run_id

from ._results import RunError, RunResult

logger = logging.getLogger(__name__)

#: Prefix of the names under which run_many registers its worker plugins.
PLUGIN_PREFIX = "kedro-runtime:"

#: The logger of the one ``INFO`` line per run of a ``run_logging="summary"`` session.
SUMMARY_LOGGER = "kedro_runtime.run_logging"


class KedroSessionPlugin(WorkerPlugin):
    """Keeps one warm kedro-runtime session of a project in each worker process.

    The project is bootstrapped and the session created on the first run the
    worker gets, in the task's thread (not in the worker's event loop), and
    reused by every later run. An error there is reported by each run, and the
    next run tries again. The session is closed when the plugin is removed or
    the worker closes. ``preload`` and ``node_cache`` are checked when the
    plugin is made, as ``SessionOptions`` checks them.
    """

    idempotent = True

    def __init__(
        self,
        project_path: Path | str,
        env: str | None = None,
        conf_source: str | None = None,
        preload: bool | Sequence[str] = False,
        node_cache: bool = False,
    ) -> None:
        self.project_path = Path(project_path).resolve().as_posix()
        self.env = env
        self.conf_source = conf_source
        checked = SessionOptions(preload=preload, node_cache=node_cache)
        self.preload = checked.preload_choice
        self.node_cache = checked.node_cache
        self._session: KedroSession | None = None
        self._lock: threading.Lock | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_session": None, "_lock": None}

    def setup(self, worker: Any) -> None:
        """Prepare the lock; the session is created by the first run."""
        self._lock = threading.Lock()

    def teardown(self, worker: Any) -> None:
        """Close the session, if one was created."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def session(self) -> KedroSession:
        """The worker's session, bootstrapping the project the first time.

        Returns:
            The warm session.
        """
        if self._lock is None:  # used without a worker (setup not called)
            self._lock = threading.Lock()
        with self._lock:
            if self._session is None:
                from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

                bootstrap_project(Path(self.project_path))
                self._session = KedroSession.create(
                    self.project_path,
                    save_on_close=False,
                    env=self.env,
                    conf_source=self.conf_source,
                    options=worker_options(self.preload, self.node_cache),
                )
            return self._session


def worker_options(
    preload: bool | Sequence[str], node_cache: bool = False
) -> SessionOptions:
    """The options of a worker's session: the service preset, with two changes.

    ``SessionOptions.for_service()`` (summary run logging, strict runtime
    params), except that a worker's callers are trusted Python code (their
    runtime params may change catalog config, as a sweep over
    ``${runtime_params:...}`` paths does), and that a run sharing a
    non-versioned file with a run in flight waits for it with a warning
    (``shared_files="warn"``) rather than fail its part of the sweep.

    Args:
        preload: ``run_many``'s ``preload``.
        node_cache: ``run_many``'s ``node_cache`` (one cache per worker process).

    Returns:
        The options.
    """
    return SessionOptions.for_service(
        untrusted_runtime_params=False,
        shared_files="warn",
        preload=preload if isinstance(preload, bool) else list(preload),
        node_cache=node_cache,
    )


def attempt_run_id() -> str:
    """A new run id for one attempt of a run, unique across processes and machines.

    ``generate_run_id`` starts with a timestamp, so ids sort by time and Kedro's
    "latest version" is the newest run, and ends with 64 random bits drawn for
    each id, so two workers never make the same id. Each attempt of a request
    (a batch run again after its worker died) gets a new one.

    Returns:
        The run id.
    """
    return generate_run_id()


def run_batch(
    plugin_name: str,
    batch: Sequence[tuple[int, bytes]],
    outputs: Sequence[str] | None,
    log_level: int = logging.WARNING,
) -> list[RunResult]:
    """Run a batch of requests, one after the other, on the worker's warm session.

    This is one Dask task. Its results come back only as the task's value, all
    together: if the worker dies mid-batch, no result of the batch has reached
    the caller, and Dask runs the whole batch again on another worker, each
    request with a new run id. Every failure of a run is caught and reported in
    its result, so Dask retries a task only when its worker dies.

    Args:
        plugin_name: Name of the worker's :class:`KedroSessionPlugin`.
        batch: ``(index, pickled RunRequest without a run_id)`` per request.
        outputs: Names of the outputs to load, or None for all of the run's.
        log_level: Level of kedro-runtime's per-run log lines on this worker
            while the batch runs (its summary line per run is ``INFO``).

    Returns:
        One result per request of the batch, in batch order.
    """
    worker = get_worker()
    plugin: KedroSessionPlugin = worker.plugins[plugin_name]  # type: ignore[assignment]
    with _log_level(log_level):
        return [
            _run_one(plugin, index, payload, outputs, worker.address)
            for index, payload in batch
        ]


@contextmanager
def _log_level(level: int) -> Iterator[None]:
    """Set the level of kedro-runtime's run-summary logger for a batch."""
    summary = logging.getLogger(SUMMARY_LOGGER)
    before = summary.level
    summary.setLevel(level)
    try:
        yield
    finally:
        summary.setLevel(before)


def _run_one(
    plugin: KedroSessionPlugin,
    index: int,
    payload: bytes,
    outputs: Sequence[str] | None,
    address: str,
) -> RunResult:
    """Run one request as it was sent, with this attempt's own run id."""
    run_id = attempt_run_id()
    start = time.perf_counter()
    try:
        session = plugin.session()
        request: RunRequest = cloudpickle.loads(payload)
        attempt = dataclasses.replace(request, run_id=run_id)
        start = time.perf_counter()
        returned = session.run(request=attempt)
        report = session.last_report()
        loaded = _load_outputs(returned, outputs)
    except Exception as exc:
        logger.warning("Run %s (request %d) failed: %s", run_id, index, exc)
        return RunResult(
            index=index,
            run_id=run_id,
            error=RunError.from_exception(exc),
            duration=time.perf_counter() - start,
            worker=address,
        )
    return RunResult(
        index=index,
        run_id=run_id,
        outputs=loaded,
        duration=time.perf_counter() - start,
        worker=address,
        reused=tuple(report.names("reused")) if report else (),
    )


def _load_outputs(
    returned: Mapping[str, Any], names: Sequence[str] | None
) -> dict[str, Any]:
    """Load the requested outputs of a run, checking they can travel back."""
    if names is None:
        names = sorted(returned)
    missing = [name for name in names if name not in returned]
    if missing:
        raise ValueError(
            f"{', '.join(repr(n) for n in missing)} not among the outputs of this "
            f"run; its outputs are: {', '.join(sorted(returned)) or 'none'}."
        )
    loaded = {name: returned[name].load() for name in names}
    for name, value in loaded.items():
        try:
            pickle.dumps(value)
        except Exception:
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                raise TypeError(
                    f"Output '{name}' ({type(value).__name__}) cannot be pickled, "
                    f"so it cannot be sent back from the worker ({exc}). Leave it "
                    f"out of `outputs`, or save it to a dataset the caller can read."
                ) from exc
    return loaded
