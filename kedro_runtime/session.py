"""A re-entrant ``KedroSession``: build once, run many times with data.

Top-down: ``create``, then a run (``run`` makes a :class:`RunRequest`, or
takes one, and ``_run`` carries it out). What the session builds once (context, base
catalog, pipelines, preloaded data: ``load_context``, ``reload``, ``warm_up``)
is its base class's, in ``built.py``. Locks: ``docs/design.md`` (Concurrency).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

from kedro import __version__ as kedro_version
from kedro.io import MemoryDataset
from kedro.io.data_catalog import SharedMemoryDataCatalog
from kedro.runner import AbstractRunner, ParallelRunner, SequentialRunner

from . import inject, resolve
from . import run_logging as logmode
from .built import BuiltSession
from .cache_store import RunReport
from .options import SessionOptions, with_shortcuts
from .parameters import deep_merge, nest_params
from .request import (
    RunRequest,
    check_env,
    pipeline_name_alias,
    request_alone,
    runtime_params_alias,
)
from .run_id import save_version
from .shared_files import file_plan

logger = logging.getLogger(__name__)


class KedroSession(BuiltSession):
    """A ``KedroSession`` that runs its project any number of times.

    Context, config, base catalog and pipelines are built once, on first use,
    and reused by every run. Each run gets its own catalog layer over the base
    (see :func:`kedro_runtime.override_catalog`), so runs are isolated and can
    be made from many threads at once. Enable it for a project with
    ``SESSION_CLASS = KedroSession`` in ``settings.py``.

    Example:
    ``` python
    from kedro.framework.startup import bootstrap_project
    from kedro_runtime import KedroSession

    bootstrap_project(project_path)
    with KedroSession.create(project_path) as session:
        first = session.run(runtime_data={"companies": df_a})
        second = session.run(
            runtime_data={"companies": df_b}, runtime_params={"model.alpha": 0.5}
        )
    ```
    """

    @classmethod
    def create(
        cls,
        project_path: Path | str | None = None,
        save_on_close: bool = True,
        env: str | None = None,
        runtime_params: Mapping[str, Any] | None = None,
        conf_source: str | None = None,
        *,
        extra_params: Mapping[str, Any] | None = None,
        options: SessionOptions | None = None,
        **shortcuts: Any,
    ) -> KedroSession:
        """Create a session, as Kedro's ``KedroSession.create`` does.

        Args:
            project_path: Path to the project root. Defaults to the current
                working directory's project.
            save_on_close: Whether to save the session store when closed.
            env: Environment for the context (default: ``KEDRO_ENV`` or Kedro's
                default run environment).
            runtime_params: Parameters that override the project's for every run
                of this session. Dotted keys (``"model.alpha"``) set nested values.
            conf_source: Path to a directory containing configuration.
            extra_params: Deprecated alias of ``runtime_params``.
            options: The session's options (:class:`SessionOptions`, or its
                preset :meth:`SessionOptions.for_service`); without it or a
                shortcut, the session keeps those its ``__init__`` chose.
            **shortcuts: Fields of :class:`SessionOptions` by name, each set on
                ``options`` (e.g. ``preload=True``); ``None`` leaves a field as
                it is.

        Returns:
            A new session.

        Raises:
            RuntimeParamsError: If both ``runtime_params`` and ``extra_params``
                are given, or a key is empty or clashes with another.
            RuntimeParamsTypeError: If they are not a mapping of names.
            TypeError: If ``env`` is not a string (Kedro would fail later, on
                the first run, joining it to the configuration path), ``options``
                is not a ``SessionOptions``, a shortcut names no field of it, or
                an option has the wrong type.
            PreloadTypeError: If ``preload`` is not a bool or a list of names.
            ValueError: If ``run_logging`` is not ``"kedro"`` or ``"summary"``,
                or ``shared_files`` is not a mode.
        """
        check_env(env)
        # Checked before the session is made; applied once Kedro's create made it.
        wanted = with_shortcuts(options, **shortcuts)
        params = runtime_params_alias(runtime_params, extra_params, "create")
        nested = nest_params(params, argument="runtime_params")
        # Kedro's create, with its own arguments in its own order.
        session: KedroSession = super().create(  # type: ignore[assignment]
            project_path, save_on_close, env, nested or None, conf_source
        )
        if wanted is not None:  # else the options __init__ chose stay
            session._use_options(wanted)
        return session

    @property
    def run_logging(self) -> str:
        """How this session's runs log: ``"kedro"`` or ``"summary"``."""
        return self.options.run_logging

    def clear_node_cache(self) -> None:
        """Drop every result of the node cache (nothing if the session has none)."""
        if self._node_cache is not None:
            self._node_cache.clear()

    def last_report(self) -> RunReport | None:
        """What the last run of this thread on this session did, node by node.

        Returns:
            Which nodes ran, were reused or skipped, with their times; ``None``
            if the session has no node cache (``create(..., node_cache=True)``)
            or this thread made no run yet.
        """
        return None if self._node_cache is None else self._node_cache.last_report()

    # --- per run ---------------------------------------------------------------

    def run(
        self,
        pipeline_name: str | None = None,
        pipeline_names: list[str] | None = None,
        tags: Iterable[str] | None = None,
        runner: AbstractRunner | None = None,
        node_names: Iterable[str] | None = None,
        from_nodes: Iterable[str] | None = None,
        to_nodes: Iterable[str] | None = None,
        from_inputs: Iterable[str] | None = None,
        to_outputs: Iterable[str] | None = None,
        load_versions: dict[str, str] | None = None,
        namespaces: Iterable[str] | None = None,
        only_missing_outputs: bool = False,
        *,
        runtime_data: Mapping[str, Any] | None = None,
        runtime_params: Mapping[str, Any] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        node_cache: bool | None = None,
        load_outputs: Iterable[str] | None = None,
        timeout: float | None = None,
        request: RunRequest | None = None,
    ) -> dict[str, Any]:
        """Run a pipeline; may be called any number of times, from many threads.

        The arguments (Kedro's, then keyword-only ones) are the fields of the
        :class:`RunRequest` that :meth:`_run` carries out.

        Args:
            pipeline_name: Deprecated by Kedro; use ``pipeline_names``.
            pipeline_names: The pipelines to run (default ``["__default__"]``).
            tags: Run only the nodes with any of these tags.
            runner: The runner instance (default ``SequentialRunner()``).
            node_names: Run only these nodes.
            from_nodes: Run from these nodes on.
            to_nodes: Run up to these nodes.
            from_inputs: Run from the nodes that read these datasets.
            to_outputs: Run up to the nodes that write these datasets.
            load_versions: Dataset name to the version to load.
            namespaces: Run only the nodes in these namespaces.
            only_missing_outputs: Run only nodes whose outputs are missing.
            runtime_data: Dataset name to data, a dataset, or a ``Path`` (read
                by the entry's own dataset type) for this run only.
            runtime_params: Parameters for this run only; ``"a.b"`` keys nest.
            extra_params: Deprecated alias of ``runtime_params``.
            run_id: The run's id and save version (default: a generated one).
            node_cache: Use the session's node cache, if it has one (``None``:
                yes); ``False`` runs every node and leaves the cache as it is.
            load_outputs: Outputs to load while the run still holds its files,
                returned as ``MemoryDataset`` s: no other run can overwrite a
                file output before it is read (services send outputs so).
            timeout: Seconds the run may take: past them it stops before its
                next node with ``RunTimeoutError``; ``None``: no deadline.
            request: A whole run made beforehand (a service's), given alone.

        Returns:
            Every output of the run: dataset name to dataset (``.load()`` it).

        Raises:
            RuntimeParamsError: If ``runtime_params`` and ``extra_params`` are
                both given; other errors: :class:`RunRequest`, :meth:`_run`.
            TypeError: If ``request`` is not a ``RunRequest`` or not alone.
        """
        arguments = dict(locals())
        del arguments["self"], arguments["request"]
        if request is not None:
            return self._run(request_alone(request, arguments))
        params = runtime_params_alias(runtime_params, extra_params, "run")
        return self._run(_run_request(arguments, params))

    def _run(self, request: RunRequest) -> dict[str, Any]:
        """Carry out one run; what :meth:`run` does once it has a request.

        The one step a subclass overrides to change how a run is carried out
        (call ``super()._run(request)`` inside). The input is checked (the
        context, pipelines and project are built on first use) before the run
        id is reserved and a pipeline hook fires.

        Args:
            request: The run's arguments, checked.

        Returns:
            Every output of the run: dataset name to dataset (``.load()`` it).

        Raises:
            RuntimeDataError: If ``runtime_data`` names no dataset of the run, a
                parameter, some but not all outputs of a node, or gives None, a
                dataset class, or data that cannot be copied (or pickled, for
                ``ParallelRunner``).
            RuntimeParamsError: If the session is untrusted and the runtime
                params do what an untrusted caller may not.
            RunIdError: If ``run_id`` was used before.
            SharedFileError: If the session's ``shared_files`` is ``"error"``
                and the run shares a non-versioned file with a run in flight.
            ValueError: If a pipeline name is not registered, or a filter
                leaves no node.
            DatasetNotFoundError: If ``load_versions`` names no dataset.
            RunTimeoutError: If the run took longer than ``request.timeout``
                (stopped before a node, after ``on_pipeline_error``).
            Exception: Whatever a node raised, after ``on_pipeline_error``.
        """
        with logmode.run_scope(self._run_logging, list(request.pipelines)) as summary:
            logger.info("Kedro project %s", self._package or self._root.name)
            run_id, hook_args = self._prepare(request)
            summary.started(run_id, hook_args["pipeline"])
            catalog, pipe = hook_args["catalog"], hook_args["pipeline"]
            plan = partial(file_plan, catalog, pipe, request.runtime_data)
            with (
                self._files.claim(run_id, plan),
                self._deadlines.running(run_id, request.timeout),
            ):
                result = self._hooked_run(request, run_id, hook_args)
                return _load_outputs(result, request.load_outputs or ())

    def _hooked_run(
        self, request: RunRequest, run_id: str, hook_args: dict[str, Any]
    ) -> dict[str, Any]:
        hook = self._hooks.hook
        outputs = hook_args["pipeline"].outputs()
        # Hooks not declared safe make runs take turns: see hook_safety.py.
        # The node cache plans inside the guard, once the run waits for nothing.
        with self._guard(run_id), self._cached(request, run_id, hook_args):
            hook.before_pipeline_run(**hook_args)
            try:
                result = (request.runner or SequentialRunner()).run(
                    hook_args["pipeline"],
                    hook_args["catalog"],
                    self._hooks,
                    run_id=run_id,
                    only_missing_outputs=request.only_missing_outputs,
                )
                if isinstance(request.runner, ParallelRunner):
                    result = inject.copy_out_shared(result)
                result = {k: v for k, v in result.items() if k in outputs}
            except Exception as error:
                hook.on_pipeline_error(error=error, **hook_args)
                raise
            hook.after_pipeline_run(run_result=result, **hook_args)
        return result

    def _cached(
        self, request: RunRequest, run_id: str, hook_args: dict[str, Any]
    ) -> AbstractContextManager[None]:
        if self._node_cache is None:
            return contextlib.nullcontext()
        use = request.node_cache is not False and not isinstance(
            request.runner, ParallelRunner
        )
        base = self.base_catalog()
        return self._node_cache.run(
            run_id, hook_args, request.runtime_data, base, enabled=use
        )

    def _prepare(self, request: RunRequest) -> tuple[str, dict[str, Any]]:
        """Check a request against the project and build the run's catalog layer.

        Returns:
            The run id, and the arguments every pipeline hook gets
            (``run_params``, ``pipeline``, ``catalog``).
        """
        names = list(request.pipelines)
        filtered = self._pipeline(request)
        project = self._ensure_project(names)
        run_params = dict(request.runtime_params or {})
        resolve.check_run_params(project, run_params, self.options)
        parallel = isinstance(request.runner, ParallelRunner)
        data, pipe = inject.prepare(
            filtered,
            request.runtime_data,
            parallel=parallel,
            catalog=project.catalog,
            load_versions=request.load_versions,
        )
        resolve.check_load_versions(
            project,
            request.load_versions,
            untrusted=self.options.untrusted_runtime_params,
        )
        # Warm what the filtered pipeline reads, not only what this run reads:
        # the key is the filter's, and later runs with it may inject less.
        self._pipelines.warm_base(project.catalog, request.pipeline_key, filtered)
        create_params = self._create_params()
        skip = {**data, **(request.load_versions or {})}
        preload = partial(self._preload.datasets, project.catalog, names, pipe, skip)
        pre = {} if parallel else preload()
        catalog_class = SharedMemoryDataCatalog if parallel else type(project.catalog)
        layer = resolve.RunLayer.of(
            project,
            names,
            run_params,
            create_params,
            catalog_class,
            {**pre, **data},
            untrusted=self.options.untrusted_runtime_params,
            pipeline=self.pipeline,
        )
        # Reserved last: a run rejected for its input does not use up its id.
        run_id = self._run_ids.reserve(request.run_id)
        catalog = layer.catalog(
            project,
            pipe,
            save_version(run_id),
            request.load_versions,
            request.only_missing_outputs,
        )
        record = request.hook_run_params(
            session_id=self.session_id,
            run_id=run_id,
            project_path=self._root.as_posix(),
            env=project.context.env,
            kedro_version=kedro_version,
            runtime_params=deep_merge(create_params, run_params),
            runtime_data=sorted(data),
        )
        return run_id, {"run_params": record, "pipeline": pipe, "catalog": catalog}


def _run_request(
    arguments: dict[str, Any], params: Mapping[str, Any] | None
) -> RunRequest:
    """The :class:`RunRequest` of ``run``'s arguments, Kedro's aliases applied.

    ``pipeline_name`` (deprecated by Kedro) becomes ``pipeline_names`` and
    ``params`` (``runtime_params`` or the deprecated ``extra_params``, warned
    about by ``run`` itself) the request's ``runtime_params``; every other
    argument is the request field of the same name.
    """
    fields = dict(arguments)
    names = pipeline_name_alias(
        fields.pop("pipeline_name"), fields.pop("pipeline_names")
    )
    del fields["extra_params"]
    fields["runtime_params"] = params
    return RunRequest(pipeline_names=names, **fields)


def _load_outputs(result: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``result`` with the data of the outputs ``names`` loaded into memory.

    Called while the run holds its files, so that a file output is read before
    another run may overwrite it (``RunRequest.load_outputs``).
    """
    for name in names:
        if name in result:
            result[name] = MemoryDataset(result[name].load(), copy_mode="assign")
    return result
