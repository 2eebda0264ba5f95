"""Files that concurrent runs of one session share.

Runs of a session share the datasets that are files, as two ``kedro run``
processes on one project would: two runs at once that save the same
non-versioned path overwrite each other, and a run that reads a file while
another writes it reads the other run's data or a half-written file.

Before a run starts, the session claims, for the time of the run, the resolved
paths (from the run's catalog config) of the non-versioned file datasets the run
saves and loads (:func:`file_plan`, :meth:`InFlightFiles.claim`); the paths are
worked out only when runs overlap, so a run alone pays nothing for it. A run
clashes with the runs in flight when it would save a path one of them saves or
loads, or load a path one of them saves.
What happens then is the session's ``shared_files`` mode:

- ``"warn"`` (the session's default): a warning names the dataset, the path and
  the fixes, and the run waits, before it starts, until the runs it clashes
  with have finished;
- ``"wait"``: the same without the warning (runs that share files take turns);
- ``"error"`` (the server's default): the run is refused before it starts with
  :class:`SharedFileError`.

Only datasets with a ``filepath`` (or ``path``) in their catalog config are
known: a dataset object added to the catalog in code, or a path a dataset
builds itself, is not seen.

A run started from inside a run of the same session (by a node or a hook, in
the run's thread or a thread of its runner) that shares a file with it is
refused in every mode with :class:`~kedro_runtime.NestedRunError`
(in ``"warn"`` and ``"wait"`` it would wait for the run that waits for it):
start such runs on another session.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from .errors import NestedRunError, SharedFileError
from .file_claims import hold_across_processes
from .hook_safety import NESTED_RUN_FIX
from .parameters import is_param

logger = logging.getLogger(__name__)

MODES = ("warn", "wait", "error")
"""The values of the session option ``shared_files``."""

_PATH_KEYS = ("filepath", "path")
_OTHER_PROCESS = "of another process"


def check_mode(mode: Any) -> str:
    """Check a ``shared_files`` option.

    Args:
        mode: The value given.

    Returns:
        The mode.

    Raises:
        TypeError: If ``mode`` is not a string.
        ValueError: If it is not one of :data:`MODES`.
    """
    if not isinstance(mode, str):
        raise TypeError(
            f"`shared_files` must be one of {list(MODES)}, got "
            f"{type(mode).__name__} {mode!r}."
        )
    if mode not in MODES:
        raise ValueError(f"`shared_files` must be one of {list(MODES)}, got {mode!r}.")
    return mode


@dataclass(frozen=True)
class FilePlan:
    """The non-versioned files a run saves and loads: path to dataset name."""

    saves: dict[str, str] = field(default_factory=dict)
    loads: dict[str, str] = field(default_factory=dict)


def _file_path(catalog: DataCatalog, name: str) -> str | None:
    """The resolved path of a non-versioned file dataset ``name``, if known."""
    resolver = catalog.config_resolver
    config = resolver.config.get(name)
    if config is None and name not in catalog:
        return None
    if config is None:
        config = resolver.resolve_pattern(name)
    if not isinstance(config, dict) or config.get("versioned"):
        return None
    for key in _PATH_KEYS:
        path = config.get(key)
        if isinstance(path, str) and path:
            return path
    return None


def file_plan(
    catalog: DataCatalog, pipeline: Pipeline, injected: Collection[str] | None = None
) -> FilePlan:
    """The non-versioned files a run of ``pipeline`` on ``catalog`` touches.

    Args:
        catalog: The run's catalog.
        pipeline: The pipeline the run runs.
        injected: The run's ``runtime_data`` names (in memory, not files).

    Returns:
        The paths it saves and loads.
    """
    injected = injected or ()
    saves: dict[str, str] = {}
    loads: dict[str, str] = {}
    for node in pipeline.nodes:
        for names, paths in ((node.outputs, saves), (node.inputs, loads)):
            for name in names:
                if name in injected or is_param(name):
                    continue
                path = _file_path(catalog, name)
                if path is not None:
                    paths.setdefault(path, name)
    return FilePlan(saves, loads)


class InFlightFiles:
    """The files the in-flight runs of one session save and load."""

    def __init__(
        self,
        mode: str = "warn",
        working_for: Callable[[], Collection[str]] = frozenset,
        *,
        across_processes: bool = False,
    ) -> None:
        """Track no run yet.

        Args:
            mode: One of :data:`MODES`.
            working_for: The ids of the runs the calling thread works for (the
                session's :meth:`~kedro_runtime.hook_safety.RunGuard.working_for`):
                a clash with one of them is refused, not waited for.
            across_processes: Also hold each run's files against runs of other
                processes (see :mod:`kedro_runtime.file_claims`); every run
                then works out its plan.
        """
        self.mode = check_mode(mode)
        self._working_for = working_for
        self._across_processes = across_processes
        # Guards _runs: run id to its plan, worked out under it on first use.
        self._changed = threading.Condition()
        self._runs: dict[str, Callable[[], FilePlan]] = {}

    @contextmanager
    def claim(self, run_id: str, plan_of: Callable[[], FilePlan]) -> Iterator[None]:
        """Hold a run's files for the time of the ``with`` block.

        Args:
            run_id: The run's id.
            plan_of: Works out what the run saves and loads; called only when
                runs overlap (a run alone needs no plan), at most once.

        Yields:
            Nothing; the files are released when the block ends.

        Raises:
            SharedFileError: In ``"error"`` mode, if the run clashes with a run
                in flight (before the block starts).
            NestedRunError: If it clashes with a run the calling thread works
                for (it was started from inside that run).
        """
        plan = functools.cache(plan_of)
        self._take_turn(run_id, plan)
        try:
            if self._across_processes:
                with self._hold_across_processes(run_id, plan()):
                    yield
            else:
                yield
        finally:
            with self._changed:
                del self._runs[run_id]
                self._changed.notify_all()

    def _hold_across_processes(
        self, run_id: str, plan: FilePlan
    ) -> AbstractContextManager[None]:
        def message(name: str, path: str, verb: str) -> str:
            return _message(run_id, [(name, path, verb, _OTHER_PROCESS)], self.mode)

        return hold_across_processes(
            plan.saves,
            plan.loads,
            wait=self.mode != "error",
            refusal=message,
            warning=message if self.mode == "warn" else None,
        )

    def _take_turn(self, run_id: str, plan: Callable[[], FilePlan]) -> None:
        """Register ``plan`` once it clashes with no run in flight.

        The warning is logged outside the lock: a logging handler is user code.
        """
        must_warn = self.mode == "warn"
        while True:
            with self._changed:
                clashes = self._clashes(plan)
                if not clashes:
                    self._runs[run_id] = plan
                    return
                _refuse_nested(run_id, clashes, self._working_for())
                if self.mode == "error":
                    raise SharedFileError(_message(run_id, clashes, self.mode))
                if not must_warn:
                    self._changed.wait()
                    continue
            logger.warning(_message(run_id, clashes, self.mode))
            must_warn = False

    def _clashes(self, run: Callable[[], FilePlan]) -> list[tuple[str, str, str, str]]:
        """(dataset, path, what this run does, other run id) for each clash."""
        found: list[tuple[str, str, str, str]] = []
        if not self._runs:
            return found
        plan = run()
        for other_id, other_run in self._runs.items():
            other = other_run()
            for path, name in plan.saves.items():
                if path in other.saves or path in other.loads:
                    found.append((name, path, "saves", other_id))
            for path, name in plan.loads.items():
                if path in other.saves and path not in plan.saves:
                    found.append((name, path, "reads", other_id))
        return found


def _refuse_nested(
    run_id: str, clashes: list[tuple[str, str, str, str]], parents: Collection[str]
) -> None:
    nested = [clash for clash in clashes if clash[3] in parents]
    if nested:
        name, path, verb, parent = nested[0]
        raise NestedRunError(
            f"Run '{run_id}' was started from inside run '{parent}' of the same "
            f"session and shares a file with it (dataset '{name}' {verb} "
            f"'{path}'): it would wait for the run that waits for it. "
            f"{NESTED_RUN_FIX}"
        )


def _message(run_id: str, clashes: list[tuple[str, str, str, str]], mode: str) -> str:
    items = "; ".join(
        f"dataset '{name}' {verb} '{path}', which "
        + (
            "a run of another process"
            if other == _OTHER_PROCESS
            else f"run '{other}' of this session"
        )
        + " also uses"
        for name, path, verb, other in clashes
    )
    return (
        f"Run '{run_id}' shares files with a run in flight: {items}. Concurrent "
        f"runs would overwrite or read each other's data. Fixes: keep the "
        f"dataset in memory (a MemoryDataset, or pass it as `runtime_data`), "
        f"put a per-run param in its path (`${{runtime_params:...}}`), or make "
        f"it versioned (`versioned: true`: each run saves its own version, but "
        f"a version is not private to its caller). "
        + (
            "This run waits until those runs have finished (create the session "
            "with shared_files='wait' to take turns without this warning, or "
            "'error' to refuse such runs)."
            if mode == "warn"
            else "Or create the session with shared_files='wait' to have such "
            "runs take turns."
        )
    )
