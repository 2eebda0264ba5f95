"""What a session builds once and keeps: context, base catalog, pipelines, preloads.

:class:`BuiltSession` is the base of :class:`kedro_runtime.KedroSession`
(``session.py``), which adds ``create`` and the runs. What it holds is built on
first use (or by ``warm_up``) under the session's lock, shared by every run, and
dropped by ``reload``. Locks: ``docs/design.md`` (Concurrency).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.project import settings
from kedro.framework.session import KedroSession as _KedroSession
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from . import _kedro_private as private
from . import registry, resolve
from . import run_logging as logmode
from ._context import new_session_context
from .deadline import Deadlines
from .hook_safety import RunGuard
from .node_cache import NodeCache
from .options import SessionOptions
from .pipelines import PipelineCache
from .preload import Preloader, PreloadInfo
from .project import Project, build_project
from .request import RunRequest
from .run_id import RunIds, unique_session_id
from .shared_files import InFlightFiles


class BuiltSession(_KedroSession):
    """A ``KedroSession`` that builds its project once and keeps it.

    Not used on its own: :class:`kedro_runtime.KedroSession` adds ``create``
    and the runs.
    """

    def __init__(
        self,
        session_id: str,
        *args: Any,
        options: SessionOptions | None = None,
        **kwargs: Any,
    ):
        """Make a session; use :meth:`create`, as with Kedro's session.

        Args:
            session_id: The id. Kedro's bare timestamp (what Kedro's ``create``
                gives) gets 64 random bits appended, so that it is unique
                across processes, and the first run takes it as run id; any
                other id is kept as it is (see ``run_id.py``).
            *args: The other arguments of Kedro's ``KedroSession``.
            options: The session's options (``None``: ``SessionOptions()``).
            **kwargs: The keyword arguments of Kedro's ``KedroSession``.

        Raises:
            TypeError: If ``options`` is not a ``SessionOptions``.
        """
        unique = unique_session_id(session_id)
        super().__init__(unique, *args, **kwargs)
        self._hooks = private.session_hook_manager(self)
        self._package = private.session_package_name(self)
        self._root = private.session_project_path(self)
        self._lock = threading.RLock()
        self._context: KedroContext | None = None
        self._project: Project | None = None
        self._pipelines = PipelineCache()
        self._run_ids = RunIds(unique if unique != session_id else None)
        self._guard = RunGuard(self._hooks)
        self._deadlines = Deadlines()
        self._hooks.register(self._deadlines)
        self._run_logging: logmode.SummaryLogging | None = None
        self._node_cache: NodeCache | None = None
        self._use_options(options or SessionOptions())

    def _use_options(self, options: SessionOptions) -> None:
        """Set the session's options, and what depends on them; before any run.

        ``__init__`` calls it, and ``create`` again with the options it was
        given (Kedro's ``create`` constructs the session with Kedro's
        arguments only).

        Args:
            options: The options.

        Raises:
            TypeError: If ``options`` is not a ``SessionOptions``.
        """
        if not isinstance(options, SessionOptions):
            raise TypeError(
                f"`options` must be a kedro_runtime.SessionOptions, got "
                f"{type(options).__name__}."
            )
        self.options = options
        if self._run_logging is not None:  # create() replaces __init__'s options
            self._run_logging.close()
        self._run_logging = logmode.session_mode(options.run_logging, self._hooks)
        self._files = InFlightFiles(
            options.shared_files,
            self._guard.working_for,
            across_processes=options.shared_files_across_processes,
        )
        self._preload = Preloader(options.preload_choice, self._hooks, self.pipeline)
        if self._node_cache is not None:  # create() replaces __init__'s options
            self._node_cache.close()
        self._node_cache = (
            NodeCache(options.node_cache_max_bytes, self._hooks)
            if options.node_cache
            else None
        )

    def close(self) -> None:
        """Close the session as Kedro does, and remove its summary-mode log filters."""
        try:
            super().close()
        finally:
            if self._run_logging is not None:
                self._run_logging.close()

    def load_context(self) -> KedroContext:
        """The project context, built once per session (or after ``reload``).

        ``after_context_created`` fires when it is built, not on every call.
        Its ``catalog`` is the session's base catalog (built once, on first
        use), not a new catalog on every read as in Kedro: the ``catalog`` that
        ``%load_ext kedro.ipython`` gives a notebook is the one runs layer over.

        Returns:
            The session's ``KedroContext`` (of a subclass of
            ``settings.CONTEXT_CLASS``).
        """
        if self._context is not None:
            return self._context
        with self._lock:
            if self._context is None:
                context = new_session_context(
                    settings.CONTEXT_CLASS,
                    self.base_catalog,
                    package_name=self._package,
                    project_path=self._root,
                    config_loader=private.session_config_loader(self),
                    env=self.store.get("env"),
                    runtime_params=self.store.get("runtime_params"),
                    hook_manager=self._hooks,
                )
                # Set before the hook: a hook that reads `context.catalog`
                # builds the base catalog with this very context.
                self._context = context
                try:
                    self._hooks.hook.after_context_created(context=context)
                except BaseException:
                    self._context = None
                    raise
            return self._context

    def base_catalog(self, pipeline_names: Iterable[str] | None = None) -> DataCatalog:
        """The base catalog, built once, that every run layers its data over.

        It is ``load_context().catalog``; a run never changes it.

        Args:
            pipeline_names: The pipelines to validate parameters against if this
                call builds the catalog; ``None`` (as ``context.catalog``)
                validates against every registered pipeline, as Kedro does.

        Returns:
            The base catalog.
        """
        names = None if pipeline_names is None else list(pipeline_names)
        return self._ensure_project(names).catalog

    def pipeline(self, name: str) -> Pipeline:
        """A registered pipeline, loaded once per session (or after ``reload``).

        Args:
            name: The pipeline's registered name.

        Returns:
            The pipeline.

        Raises:
            ValueError: If ``register_pipelines()`` does not return ``name``.
        """
        return self._pipelines.get(name)

    def reload(self) -> None:
        """Drop the cached context, config, catalog and pipelines.

        The next run (or ``load_context()``) reads the project's config and
        settings again and calls ``register_pipelines()`` again. Use it in a
        notebook after editing config files; for edited Python code use
        ``%reload_kedro``, which also re-imports the project package. Empties
        the node cache.
        """
        with self._lock:
            self._context = None
            self._project = None
            self._pipelines.clear()
            self._preload.clear()
            if self._node_cache is not None:
                self._node_cache.clear()
            if self._package:
                registry.reconfigure(self._package)

    def warm_up(self, pipeline_names: list[str] | None = None) -> None:
        """Build now what the first run would build: for services and apps.

        Builds the context, the base catalog and the named pipelines, and
        creates the catalog entries those pipelines read, so that the first
        request costs what every later one does.

        Args:
            pipeline_names: The pipelines the session will run (default
                ``["__default__"]``).
        """
        names = list(pipeline_names or ["__default__"])
        project = self._ensure_project(names)
        request = RunRequest(pipeline_names=names)
        pipe = self._pipeline(request)
        self._pipelines.warm_base(project.catalog, request.pipeline_key, pipe)
        resolve.param_table(project, names, {}, self._create_params(), self.pipeline)
        self._preload.datasets(project.catalog, names, pipe, {})

    def check_runtime_params(self, runtime_params: Mapping[str, Any]) -> None:
        """Refuse runtime params as a run of this session would, without a run.

        Args:
            runtime_params: The params, nested or with dotted keys.

        Raises:
            RuntimeParamsError: If a run would refuse them (untrusted rules,
                unread params of a strict session, a dataset ``type``).
            TypeError: If ``runtime_params`` is not a mapping.
        """
        params = RunRequest(runtime_params=runtime_params).runtime_params or {}
        resolve.check_params_for_catalog(
            self._ensure_project(None), params, self._create_params(), self.options
        )

    def preloaded(self) -> dict[str, PreloadInfo]:
        """Name to size, load time and copy mode of each preloaded dataset."""
        return self._preload.preloaded()

    def _create_params(self) -> dict[str, Any]:
        return dict(self.store.get("runtime_params") or {})

    def _ensure_project(self, names: list[str] | None) -> Project:
        project = self._project
        if project is not None:
            return project
        with self._lock:
            if self._project is None:
                for name in names or ():
                    self.pipeline(name)
                # No save version, as Kedro's `context.catalog`: a notebook's
                # saves get their own timestamps, never a run's id.
                self._project = build_project(
                    self.load_context(),
                    None,
                    names,
                    self._create_params(),
                    strict_params=self.options.strict_runtime_params,
                )
            return self._project

    def _pipeline(self, request: RunRequest) -> Pipeline:
        # As in Kedro: the context (after_context_created) comes before the
        # pipelines, and a run whose pipelines or filters are wrong fails
        # before the base catalog is built.
        self.load_context()
        return self._pipelines.filtered(request)
