"""Keep hooks written for one run per session correct in a re-entrant session.

Two mechanisms, entered around the hooked part of every run (from
``before_pipeline_run`` to ``after_pipeline_run`` or ``on_pipeline_error``):

- **Turns.** A hook object that implements a per-run hook (pipeline, node or
  dataset hooks) and is not declared safe for concurrent runs gets one lock,
  shared by every session of the process (plugin hooks registered through entry
  points are process-wide objects). A run holds the locks of the unsafe hooks of
  its session, so runs that share such a hook take turns; runs that share none
  still overlap. A hook is safe when it (or its class) has
  ``kedro_runtime_concurrent_safe = True``, when ``settings.CONCURRENT_SAFE_HOOKS``
  names its class (``"package.module.Class"``) or its distribution
  (``"kedro-mlflow"``), or when it implements no per-run hook.
- **Run scopes.** ``settings.RUN_SCOPES``: callables ``scope(run_id)`` that
  return a context manager, entered in the thread that calls ``session.run``
  and exited after the last pipeline hook, also when a hook or a node raised.
  They reset what a plugin leaves active where a public API can. The default,
  :data:`DEFAULT_RUN_SCOPES`, holds :func:`mlflow_run_scope`.

See ``docs/plugins.md`` and ``docs/design.md`` (Concurrency).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

from kedro.framework.project import settings
from pluggy import PluginManager

logger = logging.getLogger(__name__)

SAFE_MARKER = "kedro_runtime_concurrent_safe"
"""A hook object (or class) with this attribute set to ``True`` is safe."""
SAFE_SETTING = "CONCURRENT_SAFE_HOOKS"
"""The ``settings.py`` name of the hooks a project declares safe."""
SCOPES_SETTING = "RUN_SCOPES"
"""The ``settings.py`` name of the run scopes (default :data:`DEFAULT_RUN_SCOPES`)."""

PER_RUN_HOOKS = (
    "before_pipeline_run",
    "after_pipeline_run",
    "on_pipeline_error",
    "before_node_run",
    "after_node_run",
    "on_node_error",
    "before_dataset_loaded",
    "after_dataset_loaded",
    "before_dataset_saved",
    "after_dataset_saved",
)
"""Kedro's hooks that fire during a run (the others fire once per session)."""

RunScope = Callable[[str], AbstractContextManager[Any]]

# Held only to look a lock up, never around hooks; re-entrant because a lock is
# forgotten from a weakref callback, which garbage collection may run anywhere.
_REGISTRY_LOCK = threading.RLock()
_HOOK_LOCKS: dict[int, tuple[Callable[[], object], threading.RLock]] = {}


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
        if ended:
            logger.info(
                "Run %s left MLflow run(s) %s active in its thread: ended (%s)",
                run_id,
                ", ".join(sorted(set(ended))),
                status,
            )


def mlflow_run_scope(run_id: str) -> AbstractContextManager[None]:
    """End the MLflow runs a run started and left active in its thread.

    Does nothing unless ``mlflow`` is already imported. Before the run it notes
    ``mlflow.active_run()`` (``None``, or the caller's own run); afterwards it
    calls ``mlflow.end_run()`` while another run is active, ``FAILED`` if the
    run raised, so a run the caller started before ``session.run`` is never
    ended. MLflow's active run is per thread, so this is exact under threads.

    Args:
        run_id: The Kedro run id (for the log line).

    Returns:
        The context manager to enter around the run's hooks.
    """
    return _mlflow_run_scope(run_id)


DEFAULT_RUN_SCOPES: tuple[RunScope, ...] = (mlflow_run_scope,)
"""The run scopes when ``settings.RUN_SCOPES`` is not set."""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(setting: str, value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"settings.{setting} must be a list or tuple of class paths "
            f"('package.module.Class') or distribution names, got {value!r}"
        )
    wrong = [item for item in value if not isinstance(item, str)]
    if wrong:
        raise TypeError(
            f"settings.{setting} holds {wrong!r}: each entry must be a string, a "
            "class path ('package.module.Class') or a distribution name"
        )
    return frozenset(value)


def _path(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"


def unsafe_hooks(hook_manager: PluginManager) -> list[tuple[str, object]]:
    """The hook objects of a session whose per-run hooks make its runs take turns.

    Args:
        hook_manager: The session's hook manager.

    Returns:
        ``(label, hook object)`` in a fixed order (the locks' order).

    Raises:
        TypeError: If ``settings.CONCURRENT_SAFE_HOOKS`` is not a collection of
            strings.
    """
    safe = _names(SAFE_SETTING, settings.get(SAFE_SETTING, ()))
    safe_dists = {_normalise(name) for name in safe}
    dists = {
        id(plugin): str(dist.project_name)
        for plugin, dist in hook_manager.list_plugin_distinfo()
    }
    found: dict[int, tuple[str, object]] = {}
    for name in PER_RUN_HOOKS:
        for impl in getattr(hook_manager.hook, name).get_hookimpls():
            plugin = impl.plugin
            path = _path(plugin)
            dist = dists.get(id(plugin))
            if (
                getattr(plugin, SAFE_MARKER, False) is True
                or path in safe
                or (dist is not None and _normalise(dist) in safe_dists)
            ):
                continue
            found[id(plugin)] = (path if dist is None else f"{path} ({dist})", plugin)
    return [found[key] for key in sorted(found)]


def hook_lock(plugin: object) -> threading.RLock:
    """The lock of one hook object, the same in every session of the process.

    Args:
        plugin: The hook object.

    Returns:
        Its re-entrant lock (dropped when the object is garbage collected).
    """
    key = id(plugin)
    with _REGISTRY_LOCK:
        entry = _HOOK_LOCKS.get(key)
        if entry is not None and entry[0]() is plugin:
            return entry[1]
        try:
            ref: Callable[[], object] = weakref.ref(plugin, lambda r: _forget(key, r))
        except TypeError:  # not weak-referenceable: keep it (and its lock) alive
            ref = lambda: plugin  # noqa: E731
        lock = threading.RLock()
        _HOOK_LOCKS[key] = (ref, lock)
        return lock


def _forget(key: int, ref: Callable[[], object]) -> None:
    with _REGISTRY_LOCK:
        entry = _HOOK_LOCKS.get(key)
        if entry is not None and entry[0] is ref:
            del _HOOK_LOCKS[key]


def _scopes() -> tuple[RunScope, ...]:
    scopes = settings.get(SCOPES_SETTING, DEFAULT_RUN_SCOPES)
    if isinstance(scopes, str) or not isinstance(scopes, Iterable):
        raise TypeError(
            f"settings.{SCOPES_SETTING} must be a tuple of callables "
            f"scope(run_id) -> context manager, got {scopes!r}"
        )
    scopes = tuple(scopes)
    wrong = [scope for scope in scopes if not callable(scope)]
    if wrong:
        raise TypeError(
            f"settings.{SCOPES_SETTING} holds {wrong!r}, which is not callable: "
            "each entry must be a callable scope(run_id) -> context manager"
        )
    return scopes


class RunGuard:
    """Turns and run scopes around the hooked part of one session's runs.

    Args:
        hook_manager: The session's hook manager.
    """

    def __init__(self, hook_manager: PluginManager) -> None:
        self._hooks = hook_manager
        self._warned = False
        # (registered plugins, safe setting) -> unsafe_hooks(): reading the
        # plugins' distribution metadata on every run cost about 0.3 ms.
        self._unsafe: tuple[Any, list[tuple[str, object]]] | None = None

    @contextlib.contextmanager
    def __call__(self, run_id: str) -> Iterator[None]:
        """Hold the unsafe hooks' locks, then enter the run scopes.

        Args:
            run_id: The run's id, given to each scope.

        Yields:
            Nothing; the run's pipeline hooks and runner go inside.

        Raises:
            TypeError: If ``CONCURRENT_SAFE_HOOKS`` or ``RUN_SCOPES`` is
                malformed, or a scope returns no context manager.
        """
        unsafe = self._unsafe_hooks()
        scopes = _scopes()
        with contextlib.ExitStack() as stack:
            for label, plugin in unsafe:
                lock = hook_lock(plugin)
                if not lock.acquire(blocking=False):
                    self._warn(label for label, _ in unsafe)
                    lock.acquire()
                stack.callback(lock.release)
            for scope in scopes:
                manager = scope(run_id)
                if not isinstance(manager, AbstractContextManager):
                    raise TypeError(
                        f"settings.{SCOPES_SETTING}: {scope!r} returned {manager!r}, "
                        "not a context manager"
                    )
                stack.enter_context(manager)
            yield

    def _unsafe_hooks(self) -> list[tuple[str, object]]:
        """:func:`unsafe_hooks`, worked out again when the plugins or setting change."""
        safe = _names(SAFE_SETTING, settings.get(SAFE_SETTING, ()))
        try:
            key = (frozenset(self._hooks.get_plugins()), safe)
        except TypeError:  # a plugin that cannot be hashed: no cache
            return unsafe_hooks(self._hooks)
        cached = self._unsafe
        if cached is None or cached[0] != key:
            cached = self._unsafe = (key, unsafe_hooks(self._hooks))
        return cached[1]

    def _warn(self, labels: Iterable[str]) -> None:
        if self._warned:
            return
        self._warned = True
        logger.warning(
            "Runs of this session take turns: hook(s) %s are not declared safe for "
            "concurrent runs (mark them kedro_runtime_concurrent_safe = True or list "
            "them in settings.%s; see docs/plugins.md)",
            ", ".join(labels),
            SAFE_SETTING,
        )
