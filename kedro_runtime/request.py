"""One run of a project, as a value: every argument of ``session.run``, checked once.

:class:`RunRequest` is what ``KedroSession.run(...)`` builds from its arguments
(``kedro run`` calls ``run`` with its options) and hands to
``KedroSession._run``. A service builds one itself and passes it as
``session.run(request=...)``: the server from a request body, ``run_many`` on
the client, for its workers. It is frozen and picklable, so a request can
travel to another process (see the class's notes on ``runtime_data`` and
``runner``).

Adding a run argument means adding a field here (with its check in
``__post_init__`` and, if pipeline hooks should see it, its entry in
:meth:`RunRequest.hook_run_params`), an argument of the same name to
``KedroSession.run`` (documented there), and reading it where it is used.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kedro import KedroDeprecationWarning
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.runner import AbstractRunner

from .deadline import check_timeout
from .errors import (
    RunIdError,
    RunIdTypeError,
    RuntimeDataTypeError,
    RuntimeParamsError,
)
from .parameters import nest_params
from .run_id import check_run_id

logger = logging.getLogger(__name__)

FILTERS = (
    "tags",
    "from_nodes",
    "to_nodes",
    "node_names",
    "from_inputs",
    "to_outputs",
    "namespaces",
)
"""The names of the pipeline filter arguments of a run, in Kedro's order."""

DEFAULT_PIPELINES = ("__default__",)


@dataclass(frozen=True)
class RunRequest:
    """Every argument of one run, validated and normalised when it is made.

    Its fields are the arguments of :meth:`KedroSession.run` of the same names,
    documented there (the deprecated ``pipeline_name`` and ``extra_params``
    excepted: ``run`` turns them into ``pipeline_names`` and
    ``runtime_params``). Each defaults to what ``run``'s argument does.

    Normalised on creation: name arguments (``pipeline_names`` and each filter)
    are copied once, so a generator is read once (a list stays a list, a tuple
    a tuple, any other iterable becomes a tuple); ``load_versions`` and
    ``runtime_data`` are copied into dicts; ``runtime_params`` is nested
    (``{"model.alpha": 1}`` becomes ``{"model": {"alpha": 1}}``).

    Pickling: a request pickles when its values do. ``runtime_data`` travels as
    it is (data or dataset objects, which must pickle themselves to be sent),
    and so does ``runner``: a runner instance that holds something unpicklable
    (a process pool, a lock) cannot be sent; leave ``runner`` as ``None``
    (``SequentialRunner()``) or make the runner where the request is executed.
    A request that was pickled is not checked again when it is loaded.

    Raises:
        RuntimeParamsTypeError: If ``runtime_params`` is not a mapping or a key
            is not a string.
        RuntimeParamsError: If a key is empty or two keys clash once nested.
        KedroSessionError: If ``runner`` is not a runner instance (as Kedro).
        TypeError: If ``pipeline_names``, a filter or ``load_versions`` is not
            of the documented type.
        RuntimeDataTypeError: If ``runtime_data`` is not a mapping of names.
        RunIdTypeError: If ``run_id`` is not a string.
        RunIdError: If ``run_id`` cannot be a dataset version.
        TypeError: If ``node_cache`` is not a bool or None.

    Example:
    ``` python
    request = RunRequest(tags=["pricing"], runtime_params={"model.alpha": 0.5})
    result = session.run(request=request)
    ```
    """

    pipeline_names: Iterable[str] | None = None
    tags: Iterable[str] | None = None
    from_nodes: Iterable[str] | None = None
    to_nodes: Iterable[str] | None = None
    node_names: Iterable[str] | None = None
    from_inputs: Iterable[str] | None = None
    to_outputs: Iterable[str] | None = None
    namespaces: Iterable[str] | None = None
    runner: AbstractRunner | None = None
    load_versions: Mapping[str, str] | None = None
    only_missing_outputs: bool = False
    runtime_data: Mapping[str, Any] | None = None
    runtime_params: Mapping[str, Any] | None = None
    run_id: str | None = None
    node_cache: bool | None = None
    load_outputs: Iterable[str] | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        """Check every field (in the order ``run`` always checked them) and
        normalise it."""
        params = nest_params(self.runtime_params, argument="runtime_params")
        self._set("runtime_params", params)
        self._set("runner", check_runner(self.runner))
        self._set("pipeline_names", as_names(self.pipeline_names, "pipeline_names"))
        for name in (*FILTERS, "load_outputs"):
            self._set(name, as_names(getattr(self, name), name))
        self._set("load_versions", check_load_versions_type(self.load_versions))
        self._set("runtime_data", check_runtime_data_type(self.runtime_data))
        if self.node_cache is not None and not isinstance(self.node_cache, bool):
            raise TypeError(
                f"`node_cache` must be True, False or None, got {self.node_cache!r}."
            )
        self._set("timeout", check_timeout(self.timeout))
        if self.run_id is not None:
            try:
                check_run_id(self.run_id)
            except RunIdError as exc:
                if isinstance(self.run_id, str):
                    raise
                raise RunIdTypeError(str(exc)) from None

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @property
    def pipelines(self) -> tuple[str, ...]:
        """The names of the pipelines to run (``("__default__",)`` by default)."""
        return tuple(self.pipeline_names or DEFAULT_PIPELINES)

    @property
    def filters(self) -> dict[str, tuple[str, ...] | None]:
        """Each filter name (see :data:`FILTERS`) to its names, or ``None``."""
        return {
            name: None if value is None else tuple(value)
            for name in FILTERS
            for value in (getattr(self, name),)
        }

    @property
    def pipeline_key(self) -> tuple[Any, ...]:
        """What selects the nodes of the run: pipeline names and filters."""
        return (self.pipelines, *self.filters.values())

    def hook_run_params(self, **run_values: Any) -> dict[str, Any]:
        """The ``run_params`` that pipeline hooks get for this request.

        Args:
            **run_values: The values the session decides for the run:
                ``session_id``, ``run_id``, ``project_path``, ``env``,
                ``kedro_version``, ``runtime_params`` (the merged ones) and
                ``runtime_data`` (the injected names).

        Returns:
            Kedro's ``run_params`` keys plus ``runtime_params`` and
            ``runtime_data``; the run's arguments as given (filters and
            ``pipeline_names`` are ``None`` when not given; ``runner`` is the
            runner's ``str``, ``"None"`` when none was given).
        """
        return {
            **run_values,
            **{name: getattr(self, name) for name in FILTERS},
            "load_versions": self.load_versions,
            "pipeline_names": self.pipeline_names,
            "runner": getattr(self.runner, "__name__", str(self.runner)),
            "only_missing_outputs": self.only_missing_outputs,
        }


def as_names(value: Iterable[str] | None, argument: str) -> Sequence[str] | None:
    """``value`` as a list or tuple of names, read once.

    Args:
        value: The names a caller gave, or ``None``.
        argument: The argument's name, for the error message.

    Returns:
        ``None``, a copy of a list, or a tuple of the names.

    Raises:
        TypeError: If ``value`` is a string (Kedro would read it letter by
            letter) or not an iterable of strings.
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"`{argument}` must be a list of names (str), e.g. {argument}=['a'], "
            f"got {type(value).__name__} {short_repr(value)}."
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"`{argument}` must hold names (str), got {type(name).__name__} "
                f"{short_repr(name)}."
            )
    return list(names) if isinstance(value, list) else names


def check_runner(runner: Any) -> AbstractRunner | None:
    """``runner`` if it is ``None`` or a runner instance.

    Raises:
        KedroSessionError: If it is a runner class or anything else, as Kedro.
    """
    if runner is None or isinstance(runner, AbstractRunner):
        return runner
    if isinstance(runner, type):
        raise KedroSessionError(
            "KedroSession expects an instance of a runner, not a class. "
            "Have you forgotten the `()` at the end, e.g. SequentialRunner()?"
        )
    raise KedroSessionError(
        f"KedroSession expects an instance of a runner, e.g. SequentialRunner(), "
        f"got {type(runner).__name__} {short_repr(runner)}."
    )


def check_load_versions_type(load_versions: Any) -> dict[str, str] | None:
    """A copy of ``load_versions`` if it maps dataset names to version strings.

    Raises:
        TypeError: If it is not a mapping of strings to strings.
    """
    if load_versions is None:
        return None
    if not isinstance(load_versions, Mapping):
        raise TypeError(
            f"`load_versions` must be a mapping of dataset names to versions "
            f"(str), e.g. {{'orders': '2026-01-01T00.00.00.000Z'}}, got "
            f"{type(load_versions).__name__} {short_repr(load_versions)}."
        )
    for name, version in load_versions.items():
        if not isinstance(name, str) or not isinstance(version, str):
            raise TypeError(
                f"`load_versions` must map dataset names (str) to versions (str), "
                f"got {short_repr(name)}: {short_repr(version)}."
            )
    return dict(load_versions)


def check_runtime_data_type(runtime_data: Any) -> dict[str, Any] | None:
    """A copy of ``runtime_data`` if it is a mapping of names (values as given).

    Raises:
        RuntimeDataTypeError: If it is not a mapping or a key is not a string.
    """
    if runtime_data is None:
        return None
    if not isinstance(runtime_data, Mapping):
        raise RuntimeDataTypeError(
            f"`runtime_data` must be a mapping of dataset names to data or "
            f"datasets, got {type(runtime_data).__name__}."
        )
    for name in runtime_data:
        if not isinstance(name, str):
            raise RuntimeDataTypeError(
                f"`runtime_data` keys must be dataset names (str), got {name!r}."
            )
    return dict(runtime_data)


def request_alone(request: object, arguments: Mapping[str, Any]) -> RunRequest:
    """``request`` if it is a :class:`RunRequest` given without another argument.

    Args:
        request: ``run``'s ``request``.
        arguments: ``run``'s arguments (its ``locals()``).

    Returns:
        The request.

    Raises:
        TypeError: If it is not a ``RunRequest``, or another argument was given.
    """
    given = [
        name
        for name, value in arguments.items()
        if name not in ("self", "request") and value not in (None, False)
    ]
    if not isinstance(request, RunRequest) or given:
        raise TypeError(
            f"`request` must be a kedro_runtime.RunRequest given alone; got "
            f"{type(request).__name__} with {given or 'nothing'} else."
        )
    return request


def check_env(env: object) -> None:
    """Refuse an ``env`` that is not a string (Kedro would fail on the first run).

    Raises:
        TypeError: If ``env`` is neither ``None`` nor a string.
    """
    if env is not None and not isinstance(env, str):
        raise TypeError(
            f"`env` must be the name of a configuration environment (str), "
            f"e.g. env='local', got {type(env).__name__} {short_repr(env)}."
        )


def pipeline_name_alias(
    pipeline_name: str | None, pipeline_names: Iterable[str] | None
) -> Iterable[str] | None:
    """``pipeline_names``, or ``[pipeline_name]`` (deprecated) with a warning.

    Raises:
        TypeError: If ``pipeline_name`` is not a string.
    """
    if not pipeline_name:
        return pipeline_names
    logger.warning(
        "`pipeline_name` is deprecated and will be removed in a future "
        "release. Please use `pipeline_names` instead."
    )
    return as_names([pipeline_name], "pipeline_name")


def runtime_params_alias(
    runtime_params: Mapping[str, Any] | None,
    extra_params: Mapping[str, Any] | None,
    method: str,
) -> Mapping[str, Any] | None:
    """``runtime_params``, or the deprecated ``extra_params`` with a warning.

    Raises:
        RuntimeParamsError: If both are given.
    """
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


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut at ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."
