"""A re-entrant ``KedroSession``: build once, run many times with data."""

from __future__ import annotations

import difflib
import json
import logging
import textwrap
import threading
import warnings
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from kedro import KedroDeprecationWarning
from kedro import __version__ as kedro_version
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.project import configure_project, pipelines, settings
from kedro.framework.session import KedroSession as _KedroSession
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.io import AbstractDataset, DataCatalog, MemoryDataset, SharedMemoryDataset
from kedro.io.catalog_config_resolver import CatalogConfigResolver
from kedro.io.core import DatasetNotFoundError
from kedro.io.data_catalog import SharedMemoryDataCatalog
from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner, ParallelRunner, SequentialRunner
from kedro.validation.parameter_validator import ParameterValidator

from . import _kedro_private as private
from ._context import new_session_context
from .catalog import SharedValue, override_catalog
from .errors import RunIdError, RuntimeDataError, RuntimeParamsError
from .parameters import (
    deep_merge,
    has_interpolation,
    interpolations_are_pure,
    keys_using_runtime_params,
    nest_params,
    param_datasets,
    runtime_params_read_by,
    touched_variables,
)
from .run_id import (
    check_run_id,
    claim_session_id,
    generate_run_id,
    new_session_ids,
    session_id_for,
)
from .untrusted import ALLOWLIST_SETTING, check_untrusted_params

logger = logging.getLogger(__name__)

CONFIG_LOCK = threading.RLock()
"""Held for every config resolution kedro-runtime does: OmegaConf resolvers are
process-global, so two resolutions at once could read each other's values."""

_CONFIG_KEYS = ("parameters", "catalog", "credentials")
_FILTER_CACHE_SIZE = 128
_PARAM_CACHE_SIZE = 128
RUN_ID_MEMORY = 100_000
"""How many of its latest run ids a session remembers, to refuse a reused one.

Bounded so that a long-lived session does not grow with every run (about 100
bytes an id). An older id reused for a versioned dataset is still refused by
Kedro itself: a version that exists on disk is never overwritten."""
_FILTERS = (
    "tags",
    "from_nodes",
    "to_nodes",
    "node_names",
    "from_inputs",
    "to_outputs",
    "namespaces",
)


@dataclass
class _Project:
    """What a session builds once: context, base catalog and the raw config."""

    context: KedroContext
    catalog: DataCatalog
    raw: dict[str, private.RawConfig | None]
    params: dict[str, Any]
    params_interpolated: bool
    params_pure: bool
    catalog_runtime_keys: set[str]
    config_runtime_params: dict[str, set[str]]
    param_tables: dict[tuple[str, ...], dict[str, SharedValue]] = field(
        default_factory=dict
    )
    validators: dict[tuple[str, ...], ParameterValidator | None] = field(
        default_factory=dict
    )


def _runtime_params_alias(
    runtime_params: Mapping[str, Any] | None,
    extra_params: Mapping[str, Any] | None,
    method: str,
) -> Mapping[str, Any] | None:
    if extra_params is None:
        return runtime_params
    if runtime_params is not None:
        raise RuntimeParamsError(
            f"{method}() got both `runtime_params` and the deprecated `extra_params`. "
            f"Pass `runtime_params` only."
        )
    warnings.warn(
        f"`extra_params` in KedroSession.{method}() is deprecated and will be "
        f"removed in kedro-runtime 1.0; use `runtime_params` instead.",
        KedroDeprecationWarning,
        stacklevel=3,
    )
    return extra_params


def _as_list(
    value: Iterable[str] | None, argument: str = "names"
) -> tuple[str, ...] | None:
    """``value`` as a tuple of names, read once (a generator is not consumed twice).

    Raises:
        TypeError: If ``value`` is a string (Kedro would read it letter by
            letter) or not an iterable of strings.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"`{argument}` must be a list of names (str), e.g. {argument}=['a'], "
            f"got {type(value).__name__} {_short_repr(value)}."
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"`{argument}` must hold names (str), got {type(name).__name__} "
                f"{_short_repr(name)}."
            )
    return names


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


class KedroSession(_KedroSession):
    """A ``KedroSession`` that runs its project any number of times.

    Context, config, base catalog and pipelines are built once, on first use,
    and reused by every run. Each run gets its own catalog layer over the base
    (see :func:`kedro_runtime.override_catalog`), so runs are isolated and can
    be made from many threads at once.

    Enable it for a project in ``settings.py``:

    ``` python
    from kedro_runtime import KedroSession

    SESSION_CLASS = KedroSession
    ```

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

    def __init__(
        self,
        session_id: str,
        package_name: str | None = None,
        project_path: Path | str | None = None,
        save_on_close: bool = False,
        conf_source: str | None = None,
    ):
        super().__init__(
            session_id=session_id_for(session_id),
            package_name=package_name,
            project_path=project_path,
            save_on_close=save_on_close,
            conf_source=conf_source,
        )
        self._lock = threading.RLock()
        self._context: KedroContext | None = None
        self._project: _Project | None = None
        self._pipelines: dict[str, Pipeline] = {}
        self._filtered: dict[tuple[Any, ...], Pipeline] = {}
        self._warm: set[tuple[Any, ...]] = set()
        self._run_ids: set[str] = set()
        self._run_id_order: deque[str] = deque()
        self._session_id_offered = False
        self._untrusted = False

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
        untrusted_runtime_params: bool = False,
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
            untrusted_runtime_params: Treat the ``runtime_params`` of every run
                as coming from an untrusted caller (a web request): they may set
                parameters, but not hold interpolations, nor change catalog or
                credentials config except where the project allows it in
                ``settings.ALLOWED_CATALOG_RUNTIME_PARAMS``, nor choose a
                dataset's ``type``.

        Returns:
            A new session.

        Raises:
            RuntimeParamsError: If both ``runtime_params`` and ``extra_params``
                are given, or they are not a mapping of parameter names.
            TypeError: If ``env`` is not a string (Kedro would fail later, on
                the first run, joining it to the configuration path).
        """
        if env is not None and not isinstance(env, str):
            raise TypeError(
                f"`env` must be the name of a configuration environment (str), "
                f"e.g. env='local', got {type(env).__name__} {_short_repr(env)}."
            )
        params = _runtime_params_alias(runtime_params, extra_params, "create")
        nested = nest_params(params, argument="runtime_params")
        with new_session_ids():  # unique across processes: see run_id.py
            session = super().create(
                project_path=project_path,
                save_on_close=save_on_close,
                env=env,
                runtime_params=nested or None,
                conf_source=conf_source,
            )
        session._untrusted = bool(untrusted_runtime_params)  # type: ignore[attr-defined]
        return session  # type: ignore[return-value]

    # --- built once ------------------------------------------------------------

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
        with self._lock:
            if self._context is None:
                with CONFIG_LOCK:
                    context = new_session_context(
                        settings.CONTEXT_CLASS,
                        self._base_catalog,
                        package_name=self._package_name,
                        project_path=self._project_path,
                        config_loader=private.session_config_loader(self),
                        env=self.store.get("env"),
                        runtime_params=self.store.get("runtime_params"),
                        hook_manager=self._hook_manager,
                    )
                    # Set before the hook: a hook that reads `context.catalog`
                    # builds the base catalog with this very context.
                    self._context = context
                    try:
                        self._hook_manager.hook.after_context_created(context=context)
                    except BaseException:
                        self._context = None
                        raise
            return self._context

    def _base_catalog(self, pipeline_names: list[str] | None = None) -> DataCatalog:
        """The base catalog of the session, built once; what ``context.catalog`` is.

        Args:
            pipeline_names: The pipelines to validate parameters against if this
                call builds the catalog; ``None`` (reading ``context.catalog``)
                validates against every registered pipeline, as Kedro does.

        Returns:
            The catalog every run layers its own data over.
        """
        return self._ensure_project(pipeline_names).catalog

    def reload(self) -> None:
        """Drop the cached context, config, catalog and pipelines.

        The next run (or ``load_context()``) reads the project's config and
        settings again and calls ``register_pipelines()`` again. Use it in a
        notebook after editing config files; for edited Python code use
        ``%reload_kedro``, which also re-imports the project package.
        """
        with self._lock:
            self._context = None
            self._project = None
            self._pipelines.clear()
            self._filtered.clear()
            self._warm.clear()
            if self._package_name:
                configure_project(self._package_name, preserve_logging=True)

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
        pipe_key = (tuple(names), *(None,) * len(_FILTERS))
        pipe = self._pipeline(pipe_key, names, dict.fromkeys(_FILTERS))
        self._warm_base(project, pipe_key, pipe)
        self._param_table(project, names, {})

    def _create_params(self) -> dict[str, Any]:
        return dict(self.store.get("runtime_params") or {})

    def _build_project(self, pipeline_names: list[str] | None) -> _Project:
        context = self.load_context()
        loader = context.config_loader
        create_params = self._create_params()
        with CONFIG_LOCK:
            raw = {key: private.read_raw_config(loader, key) for key in _CONFIG_KEYS}
            for key, parsed in raw.items():
                if parsed is None or key in loader:
                    continue
                try:
                    # Kedro's config loader serves a key set on it without reading
                    # files again: the catalog below is built from this parse.
                    loader[key] = private.resolve_raw_config(
                        loader, key, parsed, loader.runtime_params or {}
                    )
                except MissingConfigException:
                    raw[key] = None
            catalog_class = settings.DATA_CATALOG_CLASS
            if not (
                isinstance(catalog_class, type)
                and issubclass(catalog_class, DataCatalog)
            ):
                raise KedroSessionError(
                    f"kedro-runtime layers each run over a kedro.io.DataCatalog, but "
                    f"settings.DATA_CATALOG_CLASS is {catalog_class!r}. Use "
                    f"DataCatalog or a subclass of it."
                )
            catalog = private.build_context_catalog(
                context, catalog_class, self.session_id, pipeline_names
            )
            try:
                params = dict(loader["parameters"])
            except MissingConfigException:
                params = dict(create_params)
        params_raw = raw["parameters"]
        params_files = {**params_raw[0], **params_raw[1]} if params_raw else {}
        creds_raw = raw["credentials"]
        catalog_raw = raw["catalog"]
        cred_keys = (
            keys_using_runtime_params({**creds_raw[0], **creds_raw[1]})
            if creds_raw
            else set()
        )
        return _Project(
            context=context,
            catalog=catalog,
            raw=raw,
            params=params,
            params_interpolated=bool(params_files and has_interpolation(params_files)),
            params_pure=interpolations_are_pure(params_files),
            config_runtime_params=runtime_params_read_by(
                {
                    **(catalog_raw[0] if catalog_raw else {}),
                    **(catalog_raw[1] if catalog_raw else {}),
                    **(creds_raw[0] if creds_raw else {}),
                    **(creds_raw[1] if creds_raw else {}),
                }
            ),
            catalog_runtime_keys=(
                keys_using_runtime_params(
                    {**catalog_raw[0], **catalog_raw[1]}, cred_keys
                )
                if catalog_raw
                else set()
            ),
        )

    def _pipeline(
        self, key: tuple[Any, ...], names: list[str], filters: dict[str, Any]
    ) -> Pipeline:
        cached = self._filtered.get(key)
        if cached is not None:
            return cached
        with self._lock:
            # As in Kedro: the context (after_context_created) comes before the
            # pipelines, and a run whose pipelines or filters are wrong fails
            # before the base catalog is built.
            self.load_context()
            combined = Pipeline([])
            for name in names:
                combined += self._registered_pipeline(name)
            filtered = combined.filter(
                tags=filters["tags"],
                from_nodes=filters["from_nodes"],
                to_nodes=filters["to_nodes"],
                node_names=filters["node_names"],
                from_inputs=filters["from_inputs"],
                to_outputs=filters["to_outputs"],
                node_namespaces=filters["namespaces"],
            )
            if len(self._filtered) >= _FILTER_CACHE_SIZE:
                self._filtered.pop(next(iter(self._filtered)))
            self._filtered[key] = filtered
            return filtered

    def _registered_pipeline(self, name: str) -> Pipeline:
        if name in self._pipelines:
            return self._pipelines[name]
        pipelines.set_requested([name])
        try:
            pipeline: Pipeline = pipelines[name]
        except (KeyError, ImportError) as exc:
            # A registry that calls find_pipelines(raise_errors=True) raises
            # ImportError for a requested name without a pipeline module: load
            # every pipeline to tell an unknown name from a broken module.
            pipelines.set_requested(None)
            try:
                registered = dict(pipelines.items())
            except Exception:
                raise exc from None
            if name not in registered:
                matches = difflib.get_close_matches(name, list(registered))
                hint = (
                    "Did you mean one of these instead?\n"
                    + textwrap.indent("\n".join(matches), " " * 4)
                    if matches
                    else ""
                )
                raise ValueError(
                    f"Failed to find the pipeline named '{name}'. It needs to be "
                    f"generated and returned by the 'register_pipelines' function. "
                    f"{hint}"
                ) from exc
            pipeline = registered[name]
        self._pipelines[name] = pipeline
        return pipeline

    def _ensure_project(self, names: list[str] | None) -> _Project:
        project = self._project
        if project is not None:
            return project
        with self._lock:
            if self._project is None:
                for name in names or ():
                    self._registered_pipeline(name)
                # Kedro's parameter validation reads `pipelines[name]` for every
                # name: request them all (each load above requested one only).
                pipelines.set_requested(None if names is None else list(names))
                self._project = self._build_project(names)
            return self._project

    def _warm_base(
        self, project: _Project, key: tuple[Any, ...], pipe: Pipeline
    ) -> None:
        """Build, once, the base entries a pipeline reads, so runs share them."""
        if key in self._warm:
            return
        with self._lock:
            lazy = private.catalog_lazy_datasets(project.catalog)
            for name in pipe.datasets():
                if name in lazy:
                    project.catalog.get(name)
            self._warm.add(key)

    # --- per run ---------------------------------------------------------------

    def _param_table(
        self, project: _Project, names: list[str], run_params: dict[str, Any]
    ) -> dict[str, SharedValue]:
        """The ``params:`` entries of a run; reused for the same runtime params.

        Reuse is safe when resolving again would give the same values: no
        runtime params, or a parameters config whose interpolations are plain
        lookups (see ``interpolations_are_pure``).
        """
        key = _cache_key(names, run_params)
        if key is not None:
            cached = project.param_tables.get(key)
            if cached is not None:
                return cached
        table = {
            name: SharedValue(value)
            for name, value in param_datasets(
                self._validate_params(
                    project, names, self._resolve_params(project, run_params)
                )
            ).items()
        }
        if key is not None and (not run_params or project.params_pure):
            with self._lock:
                project.param_tables[key] = table
                while len(project.param_tables) > _PARAM_CACHE_SIZE:
                    project.param_tables.pop(next(iter(project.param_tables)))
        return table

    def _resolve_params(
        self, project: _Project, run_params: dict[str, Any]
    ) -> dict[str, Any]:
        if not run_params:
            return project.params
        if project.params_interpolated and project.raw["parameters"]:
            effective = deep_merge(self._create_params(), run_params)
            with CONFIG_LOCK:
                return private.resolve_raw_config(
                    project.context.config_loader,
                    "parameters",
                    project.raw["parameters"],
                    effective,
                )
        return deep_merge(project.params, run_params)

    def _validate_params(
        self, project: _Project, names: list[str], params: dict[str, Any]
    ) -> dict[str, Any]:
        key = tuple(names)
        if key not in project.validators:
            validator = ParameterValidator(
                {name: self._registered_pipeline(name) for name in names}
            )
            typed = validator.type_extractor.extract_types_from_pipelines()
            project.validators[key] = validator if typed else None
        known = project.validators[key]
        return known.validate_raw_params(params) if known else params

    def _catalog_config_overrides(
        self,
        project: _Project,
        run_params: dict[str, Any],
        catalog_class: type[DataCatalog],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Entries and patterns that read ``${runtime_params:...}``, for this run.

        Nothing to do unless the run's params touch a runtime param that catalog
        or credentials config reads: the base was resolved with the rest.
        """
        raw_catalog = project.raw["catalog"]
        if (
            not project.catalog_runtime_keys
            or raw_catalog is None
            or not touched_variables(run_params, project.config_runtime_params)
        ):
            return {}, {}
        loader = project.context.config_loader
        effective = deep_merge(self._create_params(), run_params)
        with CONFIG_LOCK:
            conf = private.resolve_raw_config(
                loader,
                "catalog",
                raw_catalog,
                effective,
                restrict_type_selection=self._untrusted,
            )
            raw_creds = project.raw["credentials"]
            creds = (
                private.resolve_raw_config(loader, "credentials", raw_creds, effective)
                if raw_creds
                else {}
            )
        affected = {
            key: conf[key] for key in project.catalog_runtime_keys if key in conf
        }
        affected = private.absolute_paths(project.context.project_path, affected)
        resolver = CatalogConfigResolver(
            affected, creds, dict(catalog_class.default_runtime_patterns)
        )
        return dict(resolver.config), private.resolver_patterns(resolver)

    def _check_runtime_data(
        self, pipe: Pipeline, runtime_data: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], Pipeline]:
        """Validate injected names; drop the nodes whose outputs are all injected."""
        if runtime_data is None:
            return {}, pipe
        if not isinstance(runtime_data, Mapping):
            raise RuntimeDataError(
                f"`runtime_data` must be a mapping of dataset names to data or "
                f"datasets, got {type(runtime_data).__name__}."
            )
        data = dict(runtime_data)
        if not data:
            return data, pipe
        known = pipe.datasets()
        free_inputs = sorted(n for n in pipe.inputs() if not _is_param(n))
        for name in data:
            if not isinstance(name, str):
                raise RuntimeDataError(
                    f"`runtime_data` keys must be dataset names (str), got {name!r}."
                )
            if _is_param(name):
                raise RuntimeDataError(
                    f"'{name}' is a parameter, not a dataset: pass parameters with "
                    f"`runtime_params`, e.g. runtime_params={{'{_param_key(name)}': ...}}."
                )
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=3)
                raise RuntimeDataError(
                    f"Cannot inject '{name}': it is not a dataset of the pipeline "
                    f"being run.\nClosest matches: {close or 'none'}.\nThe "
                    f"pipeline's free inputs are: {free_inputs}."
                )
        skipped = []
        for node in pipe.nodes:
            injected = [out for out in node.outputs if out in data]
            if not injected:
                continue
            if len(injected) < len(node.outputs):
                missing = sorted(set(node.outputs) - set(injected))
                raise RuntimeDataError(
                    f"Node '{node.name}' produces {sorted(node.outputs)}, but only "
                    f"{sorted(injected)} were injected. A node runs whole or not at "
                    f"all: inject {missing} too to skip it, or inject none of its "
                    f"outputs to run it."
                )
            skipped.append(node)
        if skipped:
            logger.info(
                "Skipping %s: all their outputs are injected",
                [node.name for node in skipped],
            )
            pipe = Pipeline([node for node in pipe.nodes if node not in skipped])
        return data, pipe

    def _new_run_id(self, run_id: str | None) -> str:
        with self._lock:
            if run_id is None:
                first = not self._session_id_offered
                self._session_id_offered = True
                use_session_id = (
                    first
                    # A caller may have passed the session id as an explicit run id.
                    and self.session_id not in self._run_ids
                    and claim_session_id(self.session_id)
                )
                run_id = self.session_id if use_session_id else generate_run_id()
            else:
                check_run_id(run_id)
            if run_id in self._run_ids:
                raise RunIdError(
                    f"run_id '{run_id}' was already used in this session: every run "
                    f"needs its own id (it is the save version of versioned "
                    f"datasets). Leave run_id out to get a new one generated."
                )
            self._run_ids.add(run_id)
            self._run_id_order.append(run_id)
            if len(self._run_id_order) > RUN_ID_MEMORY:
                self._run_ids.discard(self._run_id_order.popleft())
        return run_id

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
    ) -> dict[str, Any]:
        """Run a pipeline; may be called any number of times, from many threads.

        Takes every argument of Kedro's ``KedroSession.run``, with the same
        meaning, plus the keyword-only arguments below.

        Args:
            pipeline_name: Deprecated by Kedro; use ``pipeline_names``.
            pipeline_names: Names of the pipelines to run (default
                ``["__default__"]``).
            tags: Run only the nodes with any of these tags.
            runner: The runner instance (default ``SequentialRunner()``).
            node_names: Run only these nodes.
            from_nodes: Run from these nodes on.
            to_nodes: Run up to these nodes.
            from_inputs: Run from the nodes that read these datasets.
            to_outputs: Run up to the nodes that write these datasets.
            load_versions: Dataset name to version to load.
            namespaces: Run only the nodes in these namespaces.
            only_missing_outputs: Run only the nodes whose outputs are missing.
            runtime_data: Dataset name to data (or a dataset object) that
                shadows the catalog entry for this run only. A node whose
                outputs are all injected is skipped.
            runtime_params: Parameters for this run only, over the project's
                and the session's. Dotted keys set nested values.
            extra_params: Deprecated alias of ``runtime_params``.
            run_id: Id of this run and save version of its versioned datasets;
                generated when not given.

        Returns:
            Every output of the pipeline run: dataset name to dataset object,
            whose ``.load()`` gives the data.

        Raises:
            RuntimeDataError: If ``runtime_data`` names something that is not a
                dataset of the pipeline being run, a parameter, some but not all
                outputs of a node, or gives None, a dataset class, data that
                cannot be copied, or data that cannot be pickled for
                ``ParallelRunner``.
            TypeError: If ``pipeline_names``, a filter argument or
                ``load_versions`` is not of the documented type (a string where
                a list of names is expected, for instance).
            RuntimeParamsError: If ``runtime_params`` is not a mapping of names.
            RunIdError: If ``run_id`` is not a valid version or was used before.
            KedroSessionError: If ``runner`` is not a runner instance.
            ValueError: If a pipeline name is not registered.
            Exception: Whatever a node raised, after ``on_pipeline_error``.
        """
        project_name = self._package_name or self._project_path.name
        logger.info("Kedro project %s", project_name)
        if pipeline_name:
            logger.warning(
                "`pipeline_name` is deprecated and will be removed in a future "
                "release. Please use `pipeline_names` instead."
            )
            pipeline_names = [pipeline_name]
        params = _runtime_params_alias(runtime_params, extra_params, "run")
        run_params = nest_params(params, argument="runtime_params")
        runner_label = getattr(runner, "__name__", str(runner))
        runner = _check_runner(runner or SequentialRunner())
        names = list(
            _as_list(
                pipeline_names, "pipeline_name" if pipeline_name else "pipeline_names"
            )
            or ["__default__"]
        )
        filters = {
            "tags": _as_list(tags, "tags"),
            "from_nodes": _as_list(from_nodes, "from_nodes"),
            "to_nodes": _as_list(to_nodes, "to_nodes"),
            "node_names": _as_list(node_names, "node_names"),
            "from_inputs": _as_list(from_inputs, "from_inputs"),
            "to_outputs": _as_list(to_outputs, "to_outputs"),
            "namespaces": _as_list(namespaces, "namespaces"),
        }
        _check_load_versions(load_versions)
        pipe_key = (tuple(names), *filters.values())
        pipe = self._pipeline(pipe_key, names, filters)
        project = self._ensure_project(names)
        if self._untrusted and run_params:
            check_untrusted_params(
                run_params,
                project.config_runtime_params,
                settings.get(ALLOWLIST_SETTING, ()),
            )
        # Warm what the filtered pipeline reads, not only what this run reads:
        # the key is the filter's, and later runs with it may inject less.
        filtered = pipe
        data, pipe = self._check_runtime_data(pipe, runtime_data)
        if run_id is not None:
            check_run_id(run_id)

        parallel = isinstance(runner, ParallelRunner)
        catalog_class: type[DataCatalog] = (
            SharedMemoryDataCatalog if parallel else type(project.catalog)
        )
        data = _injected_datasets(data)
        if parallel:
            _check_picklable(data)
        missing = sorted(n for n in load_versions or {} if n not in project.catalog)
        if missing:
            raise DatasetNotFoundError(
                f"'load_versions' keys [{', '.join(missing)}] are not found in the "
                f"catalog."
            )
        self._warm_base(project, pipe_key, filtered)
        overrides = {**self._param_table(project, names, run_params), **data}
        lazy_overrides, pattern_overrides = self._catalog_config_overrides(
            project, run_params, catalog_class
        )
        for name in data:
            lazy_overrides.pop(name, None)
        # Reserved last: a run rejected for its input does not use up its id.
        run_id = self._new_run_id(run_id)
        versions = (
            {} if only_missing_outputs else dict.fromkeys(pipe.all_outputs(), run_id)
        )
        versions.update(load_versions or {})
        catalog = override_catalog(
            project.catalog,
            overrides,
            save_version=run_id,
            load_versions=versions,
            catalog_class=catalog_class,
            lazy_overrides=lazy_overrides,
            pattern_overrides=pattern_overrides,
        )
        record_data = {
            "session_id": self.session_id,
            "run_id": run_id,
            "project_path": self._project_path.as_posix(),
            "env": project.context.env,
            "kedro_version": kedro_version,
            "tags": tags,
            "from_nodes": from_nodes,
            "to_nodes": to_nodes,
            "node_names": node_names,
            "from_inputs": from_inputs,
            "to_outputs": to_outputs,
            "load_versions": load_versions,
            "runtime_params": deep_merge(self._create_params(), run_params),
            "runtime_data": sorted(data),
            "pipeline_names": pipeline_names,
            "namespaces": namespaces,
            "runner": runner_label,
            "only_missing_outputs": only_missing_outputs,
        }
        hook = self._hook_manager.hook
        hook.before_pipeline_run(run_params=record_data, pipeline=pipe, catalog=catalog)
        try:
            result = runner.run(
                pipe,
                catalog,
                self._hook_manager,
                run_id=run_id,
                only_missing_outputs=only_missing_outputs,
            )
            if parallel:
                result = _copy_out_shared(result)
        except Exception as error:
            hook.on_pipeline_error(
                error=error, run_params=record_data, pipeline=pipe, catalog=catalog
            )
            raise
        hook.after_pipeline_run(
            run_params=record_data, run_result=result, pipeline=pipe, catalog=catalog
        )
        return result


def _cache_key(names: list[str], run_params: dict[str, Any]) -> tuple[str, ...] | None:
    """A key for the parameters of a run, or None when they cannot be keyed."""
    try:
        return (*names, json.dumps(run_params, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError):
        return None


def _is_param(name: str) -> bool:
    return name == "parameters" or name.startswith("params:")


def _param_key(name: str) -> str:
    return name.partition(":")[2] or "<name>"


def _check_runner(runner: Any) -> AbstractRunner:
    if isinstance(runner, AbstractRunner):
        return runner
    if isinstance(runner, type):
        raise KedroSessionError(
            "KedroSession expects an instance of a runner, not a class. "
            "Have you forgotten the `()` at the end, e.g. SequentialRunner()?"
        )
    raise KedroSessionError(
        f"KedroSession expects an instance of a runner, e.g. SequentialRunner(), "
        f"got {type(runner).__name__} {_short_repr(runner)}."
    )


def _check_load_versions(load_versions: Any) -> None:
    if load_versions is None:
        return
    if not isinstance(load_versions, Mapping):
        raise TypeError(
            f"`load_versions` must be a mapping of dataset names to versions "
            f"(str), e.g. {{'orders': '2026-01-01T00.00.00.000Z'}}, got "
            f"{type(load_versions).__name__} {_short_repr(load_versions)}."
        )
    for name, version in load_versions.items():
        if not isinstance(name, str) or not isinstance(version, str):
            raise TypeError(
                f"`load_versions` must map dataset names (str) to versions (str), "
                f"got {_short_repr(name)}: {_short_repr(version)}."
            )


def _injected_datasets(data: Mapping[str, Any]) -> dict[str, Any]:
    """Each injected value as the dataset the run reads it from, checked now.

    A raw value goes into a ``MemoryDataset`` with Kedro's default copy mode,
    which copies it at once: a value that cannot be copied fails here, before
    the run starts, with the dataset's name.
    """
    datasets = {}
    for name, value in data.items():
        if value is None:
            raise RuntimeDataError(
                f"'{name}' is None: a Kedro dataset cannot hold None (Kedro "
                f"refuses to save it). Leave '{name}' out of `runtime_data` to "
                f"read it from the catalog."
            )
        if isinstance(value, type) and issubclass(value, AbstractDataset):
            raise RuntimeDataError(
                f"'{name}' is the dataset class {value.__name__}, not a dataset: "
                f"pass an instance, e.g. {value.__name__}(...), or the data itself."
            )
        try:
            # Injected names are free inputs of the run: nothing saves into them,
            # so the copy mode can be inferred once.
            datasets[name] = (
                value
                if isinstance(value, AbstractDataset)
                else private.memory_dataset_for(value)
            )
        except Exception as exc:
            raise RuntimeDataError(
                f"Cannot inject '{name}': Kedro's MemoryDataset copies injected "
                f"data (a deep copy for anything but DataFrames and arrays), and "
                f"copying this {type(value).__name__} failed "
                f"({type(exc).__name__}: {exc}). Inject "
                f"MemoryDataset(data, copy_mode='assign') to pass it as it is."
            ) from exc
    return datasets


def _check_picklable(datasets: Mapping[str, AbstractDataset]) -> None:
    for name, dataset in datasets.items():
        try:
            ForkingPickler.dumps(dataset)
        except Exception as exc:
            raise RuntimeDataError(
                f"ParallelRunner runs nodes in other processes, so injected data "
                f"must pickle, but '{name}' does not ({type(exc).__name__}: {exc}). "
                f"Use SequentialRunner or ThreadRunner for this data, or inject "
                f"something picklable."
            ) from exc


def _copy_out_shared(result: dict[str, Any]) -> dict[str, Any]:
    """Outputs in shared memory die with the runner's manager: copy them out."""
    copied = {}
    for name, dataset in result.items():
        if isinstance(dataset, SharedMemoryDataset) and dataset.exists():
            copied[name] = MemoryDataset(data=dataset.load(), copy_mode="assign")
        else:
            copied[name] = dataset
    return copied
