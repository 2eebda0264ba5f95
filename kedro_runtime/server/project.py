"""One warm kedro-runtime session and what a server needs to know about it.

Nothing here needs a web framework: :func:`warm_session` is also what a
model-serving hook (a DataRobot ``custom.py``, a batch worker) calls once at
start-up.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.framework.project import settings
from kedro.framework.startup import ProjectMetadata, bootstrap_project
from kedro.io import CatalogProtocol, MemoryDataset
from kedro.io.core import DatasetError, parse_dataset_definition
from kedro.pipeline import Pipeline
from kedro.runner import AbstractRunner, ParallelRunner
from kedro.utils import load_obj

from kedro_runtime import (
    KedroRuntimeError,
    KedroSession,
    SessionOptions,
    is_param,
    registered_pipeline_names,
    runtime_session_class,
)

from .codec import DataKind, dataset_kind, decode_value
from .settings import RequestLimits

logger = logging.getLogger(__name__)

METADATA_KEY = "kedro_runtime"
"""The key of a catalog entry's ``metadata`` that kedro-runtime reads: ``decode:
pandas`` or ``decode: json`` sets how the server decodes request data for it."""

RUNNER_ALLOWLIST_SETTING = "RUNNER_MODULE_ALLOWLIST"
"""The ``settings.py`` name of the extra modules a request may take a runner from."""


PARALLEL_RUNNER_SETTING = "ALLOW_PARALLEL_RUNNER"
"""The ``settings.py`` name that lets requests pick ``ParallelRunner`` (``True``)."""


class RunnerNotAllowedError(KedroRuntimeError, ValueError):
    """A request named a runner the server does not run."""


class ParallelRunnerNotAllowedError(RunnerNotAllowedError):
    """A request picked ``ParallelRunner`` (or a subclass), which the server
    does not run unless ``settings.ALLOW_PARALLEL_RUNNER`` is ``True``: answered
    with 422."""


@dataclass(frozen=True)
class PipelineInfo:
    """What a client of one pipeline needs to know.

    Attributes:
        name: The registered pipeline name.
        inputs: The pipeline's free inputs (datasets no node produces), sorted;
            parameters excluded.
        outputs: The pipeline's outputs (datasets no node reads), sorted.
        parameters: The parameters its nodes read (``params:`` names without
            the prefix, and ``parameters`` for the whole set), sorted.
        datasets: Every dataset of the pipeline, parameters excluded.
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    parameters: tuple[str, ...]
    datasets: frozenset[str]

    @classmethod
    def of(cls, name: str, pipeline: Pipeline) -> PipelineInfo:
        """Describe a pipeline.

        Args:
            name: Its registered name.
            pipeline: The pipeline.

        Returns:
            Its description.
        """
        params = sorted(
            n.removeprefix("params:") for n in pipeline.inputs() if is_param(n)
        )
        return cls(
            name=name,
            inputs=tuple(sorted(n for n in pipeline.inputs() if not is_param(n))),
            outputs=tuple(sorted(pipeline.outputs())),
            parameters=tuple(params),
            datasets=frozenset(n for n in pipeline.datasets() if not is_param(n)),
        )


def warm_session(
    project_path: str | Path | None = None,
    *,
    env: str | None = None,
    conf_source: str | None = None,
    pipelines: Sequence[str] | None = None,
    runtime_params: Mapping[str, Any] | None = None,
    options: SessionOptions | None = None,
) -> KedroSession:
    """Bootstrap a project and return a kedro-runtime session, warmed up.

    Call it once per process, at start-up; keep the session and call
    ``session.run(...)`` for every request. The session class is the project's
    ``settings.SESSION_CLASS`` when that is a kedro-runtime session, and
    :class:`kedro_runtime.KedroSession` otherwise.

    Args:
        project_path: The project's root folder (default: the current one).
        env: The configuration environment.
        conf_source: The configuration source.
        pipelines: The pipelines to warm up (default ``["__default__"]``).
        runtime_params: Trusted parameters for every run (from your code).
        options: The session's options; default
            ``SessionOptions.for_service()``, the server's: untrusted runtime
            params, summary run logging, strict runtime params and
            ``shared_files="error"``. Change a field with, for example,
            ``SessionOptions.for_service(untrusted_runtime_params=False)``; with
            ``preload=True`` the warm-up loads the warmed pipelines' read-only
            inputs.

    Returns:
        The session; close it (or use it in a ``with`` block) at shutdown.
    """
    path = Path(project_path or Path.cwd()).expanduser().resolve()
    bootstrap_project(path)
    return _warm_session(
        path,
        env=env,
        conf_source=conf_source,
        pipelines=list(pipelines or ["__default__"]),
        runtime_params=runtime_params,
        options=options or SessionOptions.for_service(),
    )


def _warm_session(
    path: Path,
    *,
    env: str | None,
    conf_source: str | None,
    pipelines: list[str],
    runtime_params: Mapping[str, Any] | None,
    options: SessionOptions,
) -> KedroSession:
    """``warm_session`` for a project that is bootstrapped already."""
    session = _session_class().create(
        path,
        env=env,
        conf_source=conf_source,
        runtime_params=runtime_params,
        options=options,
    )
    try:
        # Together first, so that preloading knows what every served pipeline
        # writes; then each alone, as requests name them.
        session.warm_up(pipelines)
        for name in pipelines:
            session.warm_up([name])
    except BaseException:
        session.close()
        raise
    return session


def _session_class() -> type[KedroSession]:
    session_class = runtime_session_class()
    if session_class is None:
        warnings.warn(
            f"settings.SESSION_CLASS is {settings.SESSION_CLASS!r}, which is not a "
            f"kedro-runtime session: the server uses kedro_runtime.KedroSession.",
            UserWarning,
            stacklevel=3,
        )
        return KedroSession
    return session_class


class ServedProject:
    """A warm session plus what the server needs to answer requests with it.

    Built once per worker process by :meth:`start`, before the worker accepts
    requests.

    Attributes:
        session: The warm session every request runs on.
        metadata: The project's metadata, from ``bootstrap_project``.
        env: The configuration environment (``None`` for the default).
        conf_source: The configuration source (``None`` for the project's).
        pipelines: Served pipeline name to its description.
        kinds: Dataset name to how its request data is decoded.
        limits: The limits request data is decoded within.
        run_timeout: Seconds a run may take, or ``None`` for no deadline.
    """

    def __init__(
        self,
        session: KedroSession,
        metadata: ProjectMetadata,
        env: str | None,
        conf_source: str | None,
        pipelines: Mapping[str, PipelineInfo],
        kinds: Mapping[str, DataKind],
        limits: RequestLimits | None = None,
        run_timeout: float | None = None,
    ) -> None:
        """Hold a started project; use :meth:`start` to make one.

        Args:
            session: The warm session.
            metadata: The project's metadata.
            env: The configuration environment.
            conf_source: The configuration source.
            pipelines: Served pipeline name to its description.
            kinds: Dataset name to how its request data is decoded.
            limits: The limits request data is decoded within (default:
                :class:`RequestLimits`' defaults).
            run_timeout: Seconds a run may take, or ``None`` for no deadline.
        """
        self.session = session
        self.metadata = metadata
        self.env = env
        self.conf_source = conf_source
        self.pipelines = dict(pipelines)
        self.kinds = dict(kinds)
        self.limits = limits or RequestLimits()
        self.run_timeout = run_timeout

    @classmethod
    def start(
        cls,
        project_path: Path,
        *,
        env: str | None = None,
        conf_source: str | None = None,
        pipelines: Sequence[str] | None = None,
        preload: bool = True,
        node_cache: bool = False,
        limits: RequestLimits | None = None,
        run_timeout: float | None = None,
    ) -> ServedProject:
        """Bootstrap the project, create its session and warm every served pipeline.

        Args:
            project_path: The project's root folder.
            env: The configuration environment.
            conf_source: The configuration source.
            pipelines: The pipelines to serve; ``None`` for every registered one.
            preload: Load the served pipelines' read-only inputs while
                warming up. The session's other options are those of
                ``SessionOptions.for_service()``; only ``preload`` differs from
                that preset's default, because a server warms up before it
                takes requests (``--no-preload`` turns it off).
            node_cache: Keep a node cache in the session (``--node-cache``).
            limits: The limits request data is decoded within.
            run_timeout: Seconds a run may take, or ``None`` for no deadline.

        Returns:
            The started project.

        Raises:
            ServerStartError: If the pipeline registry cannot be loaded to list
                the pipelines (name them instead).
        """
        metadata = bootstrap_project(project_path)
        names = list(pipelines) if pipelines is not None else _registered_names()
        session = _warm_session(
            project_path,
            env=env,
            conf_source=conf_source,
            pipelines=names,
            runtime_params=None,
            options=SessionOptions.for_service(preload=preload, node_cache=node_cache),
        )
        try:
            infos = {
                name: PipelineInfo.of(name, session.pipeline(name)) for name in names
            }
            catalog = session.load_context().catalog
            datasets = sorted(set().union(*(i.datasets for i in infos.values())))
            kinds = {name: _data_kind(catalog, name) for name in datasets}
        except BaseException:
            session.close()
            raise
        logger.info(
            "Serving pipelines %s of %s from session %s",
            names,
            metadata.package_name,
            session.session_id,
        )
        return cls(
            session, metadata, env, conf_source, infos, kinds, limits, run_timeout
        )

    def close(self) -> None:
        """Close the session."""
        self.session.close()

    def decode(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Decode a request's ``runtime_data`` by each dataset's declared type.

        Args:
            data: Dataset name to JSON value.

        Returns:
            Dataset name to a ``MemoryDataset`` holding the decoded value (the
            request owns it, so nodes get it without a copy).

        Raises:
            DecodeError: If a value does not decode to its dataset's type.
        """
        return {
            name: MemoryDataset(
                decode_value(name, self.kinds.get(name, "json"), value, self.limits),
                copy_mode="assign",
            )
            for name, value in data.items()
        }

    def check_pipelines(self, names: Iterable[str] | None) -> list[str]:
        """The pipelines a request runs, if this server serves them all.

        Args:
            names: The request's ``pipeline_names``.

        Returns:
            The names (``["__default__"]`` when none are given).

        Raises:
            ValueError: If a name is not served, listing the served ones.
        """
        wanted = list(names or ["__default__"])
        unknown = [name for name in wanted if name not in self.pipelines]
        if unknown:
            raise ValueError(
                f"Pipeline(s) {unknown} are not served here. Served pipelines: "
                f"{sorted(self.pipelines)}."
            )
        return wanted

    def runner(self, name: str | None, is_async: bool) -> AbstractRunner:
        """The runner a request asks for, if it comes from an allowed module.

        Runners are taken by class name from ``kedro.runner``, or by dotted path
        from ``kedro.runner``, the project's package, or a module listed in
        ``RUNNER_MODULE_ALLOWLIST`` in ``settings.py`` (as Kedro's server does).

        Args:
            name: The class name or dotted path (default ``SequentialRunner``).
            is_async: Whether the runner loads and saves asynchronously.

        Returns:
            A new runner instance.

        Raises:
            RunnerNotAllowedError: If the module is not allowed or the object
                is not a runner class.
            ParallelRunnerNotAllowedError: If it is a ``ParallelRunner`` and
                ``settings.ALLOW_PARALLEL_RUNNER`` is not ``True``.
        """
        name = name or "SequentialRunner"
        module, _, _ = name.rpartition(".")
        if module:
            allowed = [
                "kedro.runner",
                self.metadata.package_name,
                *settings.get(RUNNER_ALLOWLIST_SETTING, ()),
            ]
            if not any(
                module == prefix or module.startswith(f"{prefix}.")
                for prefix in allowed
                if prefix
            ):
                raise RunnerNotAllowedError(
                    f"Runner module '{module}' is not allowed. Runners come from "
                    f"'kedro.runner', the project package "
                    f"'{self.metadata.package_name}', or a module listed in "
                    f"{RUNNER_ALLOWLIST_SETTING} in settings.py."
                )
        try:
            runner_class = load_obj(name, "kedro.runner")
        except (ImportError, AttributeError) as exc:
            raise RunnerNotAllowedError(f"Runner '{name}' not found: {exc}") from exc
        if not (
            isinstance(runner_class, type) and issubclass(runner_class, AbstractRunner)
        ):
            raise RunnerNotAllowedError(
                f"'{name}' is not a runner: it must be a subclass of "
                f"kedro.runner.AbstractRunner."
            )
        if issubclass(runner_class, ParallelRunner) and not settings.get(
            PARALLEL_RUNNER_SETTING, False
        ):
            raise ParallelRunnerNotAllowedError(
                f"This server does not run '{name}': ParallelRunner starts a pool "
                f"of processes per request and needs picklable data and "
                f"datasets. Use SequentialRunner or ThreadRunner, or set "
                f"{PARALLEL_RUNNER_SETTING} = True in the project's settings.py."
            )
        runner: AbstractRunner = runner_class(is_async=is_async)
        return runner


def _registered_names() -> list[str]:
    """Every registered pipeline name, ``__default__`` first."""
    try:
        names = registered_pipeline_names()
    except Exception as exc:
        raise ServerStartError(
            f"Cannot list the project's pipelines: register_pipelines() failed "
            f"({type(exc).__name__}: {exc}). Name the pipelines to serve (kedro "
            f"server start --pipelines, or create_app(pipelines=...)) to load "
            f"only those."
        ) from exc
    if not names:
        raise ServerStartError("The project registers no pipeline: nothing to serve.")
    return sorted(names, key=lambda name: (name != "__default__", name))


def _data_kind(catalog: CatalogProtocol, name: str) -> DataKind:
    """How request data for ``name`` is decoded: the catalog entry's
    ``metadata: {kedro_runtime: {decode: pandas|json}}`` if it has one, else by
    its declared class."""
    resolver = getattr(catalog, "config_resolver", None)
    config = resolver.resolve_pattern(name) if resolver is not None else None
    metadata = (config or {}).get("metadata") or {}
    options = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if options is not None:
        kind = options.get("decode") if isinstance(options, Mapping) else None
        if kind not in ("pandas", "json"):
            raise ServerStartError(
                f"Catalog entry '{name}': metadata.{METADATA_KEY}.decode must be "
                f"'pandas' or 'json', got {kind!r}."
            )
        return "pandas" if kind == "pandas" else "json"
    return dataset_kind(_declared_type(catalog, name))


def _declared_type(catalog: CatalogProtocol, name: str) -> type | None:
    """The dataset class the catalog declares for ``name``; ``None`` if it does not."""
    resolver = getattr(catalog, "config_resolver", None)
    config = resolver.resolve_pattern(name) if resolver is not None else None
    if config and config.get("type"):
        try:
            dataset_class, _ = parse_dataset_definition(dict(config))
        except DatasetError:
            return None
        return dataset_class
    if name in catalog:
        return type(catalog.get(name))
    return None


class ServerStartError(KedroRuntimeError, RuntimeError):
    """The project cannot be served as configured."""
