"""Keep hooks written for one run per session correct in a re-entrant session.

Two mechanisms, entered around the hooked part of every run (from
``before_pipeline_run`` to ``after_pipeline_run`` or ``on_pipeline_error``):

- **Turns.** If a session has a hook object that implements a per-run hook
  (pipeline, node or dataset hooks) and is not declared safe for concurrent
  runs, its runs take turns through one re-entrant lock that the session's
  :class:`RunGuard` owns; runs of a session without such a hook overlap. The
  lock is per session: two sessions of one process that share a hook object
  (``settings.HOOKS`` and plugin hooks are shared) do not take turns with each
  other, as two Kedro sessions in two threads never did. A hook is safe when it
  (or its class) has ``kedro_runtime_concurrent_safe = True``, when
  ``settings.CONCURRENT_SAFE_HOOKS`` names its class (``"package.module.Class"``)
  or its distribution (``"kedro-mlflow"``), or when it implements no per-run
  hook.
- **Run scopes.** ``settings.RUN_SCOPES``: callables ``scope(run_id)`` that
  return a context manager, entered in the thread that calls ``session.run``
  and exited after the last pipeline hook, also when a hook or a node raised.
  They reset what a plugin leaves active where a public API can. The default is
  :data:`kedro_runtime.integrations.DEFAULT_RUN_SCOPES`.

The guard also knows which runs each thread works for (the thread that called
``session.run``, and a thread where a node of the run starts), so that a run
started from inside a run of the same session that would wait for it is
refused with :class:`NestedRunError` instead of waiting forever.

See ``docs/plugins.md`` and ``docs/design.md`` (Concurrency).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from types import ModuleType
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.framework.project import settings
from pluggy import PluginManager

from .errors import NestedRunError
from .integrations import DEFAULT_RUN_SCOPES, RunScope

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

NESTED_RUN_FIX = (
    "Start runs from inside a run (a node or a hook) on another session: "
    "KedroSession.create(...)."
)


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


class _ThreadMarks:
    """Hooks that note, in a thread where a node of a run starts, its run id.

    Registered on one session's hook manager by its :class:`RunGuard`; the
    mark is per thread and per guard, so runs need not take turns for it.
    """

    kedro_runtime_concurrent_safe = True

    def __init__(self) -> None:
        self.local = threading.local()

    def working_for(self) -> frozenset[str]:
        """The ids of the runs the current thread works for (maybe ended)."""
        entered: frozenset[str] = getattr(self.local, "entered", frozenset())
        node: str | None = getattr(self.local, "node", None)
        return entered if node is None else entered | {node}

    @hook_impl(tryfirst=True)
    def before_node_run(self, run_id: str) -> None:
        """Mark the thread before a node of run ``run_id`` runs in it (first hook)."""
        if run_id not in getattr(self.local, "entered", ()):
            self.local.node = run_id


class RunGuard:
    """Turns and run scopes around the hooked part of one session's runs.

    Owns the session's turn (a re-entrant lock, so that a run started from a
    node of a ``SequentialRunner`` run, in the same thread, goes ahead) and the
    per-thread marks of the runs each thread works for.

    Args:
        hook_manager: The session's hook manager; a concurrent-safe hook that
            marks the threads where nodes run is registered on it.
    """

    def __init__(self, hook_manager: PluginManager) -> None:
        self._hooks = hook_manager
        self._warned = False
        # (registered plugins, safe setting) -> unsafe_hooks(): reading the
        # plugins' distribution metadata on every run cost about 0.3 ms.
        self._unsafe: tuple[Any, list[tuple[str, object]]] | None = None
        self.turn = threading.RLock()
        """Runs of this session with unsafe hooks hold it (see the module)."""
        self._holder: str | None = None
        self._marks = _ThreadMarks()
        hook_manager.register(self._marks)

    def working_for(self) -> frozenset[str]:
        """The ids of the runs the current thread works (or worked) for.

        Returns:
            The runs entered in this thread and still running here, and the run
            whose node last started in this thread (its run may have ended:
            run ids are never reused, so a caller compares with runs in flight).
        """
        return self._marks.working_for()

    @contextlib.contextmanager
    def __call__(self, run_id: str) -> Iterator[None]:
        """Take the session's turn if needed, then enter the run scopes.

        Args:
            run_id: The run's id, given to each scope.

        Yields:
            Nothing; the run's pipeline hooks and runner go inside.

        Raises:
            TypeError: If ``CONCURRENT_SAFE_HOOKS`` or ``RUN_SCOPES`` is
                malformed, or a scope returns no context manager.
            NestedRunError: If this thread works for the run holding the turn.
        """
        unsafe = self._unsafe_hooks()
        scopes = _scopes()
        local = self._marks.local
        entered: frozenset[str] = getattr(local, "entered", frozenset())
        with contextlib.ExitStack() as stack:
            if unsafe:
                previous = self._take_turn(run_id, [label for label, _ in unsafe])
                stack.callback(self._end_turn, previous)
            local.entered = entered | {run_id}
            stack.callback(setattr, local, "entered", entered)
            for scope in scopes:
                manager = scope(run_id)
                if not isinstance(manager, AbstractContextManager):
                    raise TypeError(
                        f"settings.{SCOPES_SETTING}: {scope!r} returned {manager!r}, "
                        "not a context manager"
                    )
                stack.enter_context(manager)
            yield

    def _take_turn(self, run_id: str, labels: list[str]) -> str | None:
        """Take the turn; return the run that held it in this thread, if any."""
        if not self.turn.acquire(blocking=False):
            holder = self._holder
            if holder is not None and holder in self.working_for():
                raise NestedRunError(
                    f"Run '{run_id}' was started from inside run '{holder}' of "
                    f"the same session, in a thread of its runner, and would wait "
                    f"for it forever: runs of this session take turns because of "
                    f"hook(s) {', '.join(labels)}. {NESTED_RUN_FIX}"
                )
            self._warn(labels)
            self.turn.acquire()
        previous, self._holder = self._holder, run_id
        return previous

    def _end_turn(self, holder_before: str | None) -> None:
        self._holder = holder_before
        self.turn.release()

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
