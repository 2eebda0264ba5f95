"""Where the server reads its settings: arguments first, then environment variables.

``kedro server start`` passes its options to every worker process through the
environment variables below (worker processes import the app factory afresh),
and ``create_app()`` reads them for any argument it is not given.

Two prefixes, on purpose: ``KEDRO_PROJECT_PATH``, ``KEDRO_SERVER_ENV`` and
``KEDRO_SERVER_CONF_SOURCE`` are the variables Kedro's own ``kedro server
start`` sets and reads (``kedro.framework.cli.server``), so a deployment that
sets them for Kedro's server works unchanged. Every variable kedro-runtime adds
starts with ``KEDRO_RUNTIME_SERVER_``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kedro import KedroDeprecationWarning

from kedro_runtime import KedroRuntimeError

PROJECT_PATH_ENV = "KEDRO_PROJECT_PATH"
"""The Kedro project to serve (as for Kedro's server)."""
ENV_ENV = "KEDRO_SERVER_ENV"
"""The Kedro configuration environment (as for Kedro's server)."""
CONF_SOURCE_ENV = "KEDRO_SERVER_CONF_SOURCE"
"""The configuration source (as for Kedro's server)."""
PIPELINES_ENV = "KEDRO_RUNTIME_SERVER_PIPELINES"
"""Comma-separated names of the pipelines to serve (default: every registered one)."""
MAX_REQUEST_BYTES_ENV = "KEDRO_RUNTIME_SERVER_MAX_REQUEST_BYTES"
"""The largest request body accepted, in bytes."""
REQUEST_TIMEOUT_ENV = "KEDRO_RUNTIME_SERVER_REQUEST_TIMEOUT"
"""Seconds a client has to send its request body, once its headers are in."""
PRELOAD_ENV = "KEDRO_RUNTIME_SERVER_PRELOAD"
"""``0`` or ``false`` to not preload the served pipelines' read-only inputs."""
NODE_CACHE_ENV = "KEDRO_RUNTIME_SERVER_NODE_CACHE"
"""``1`` or ``true`` to give the served session a node cache (default: none)."""
API_KEY_ENV = "KEDRO_RUNTIME_SERVER_API_KEY"
"""The API key clients must send; unset or empty for no key."""
DEPRECATED_API_KEY_ENV = "KEDRO_RUNTIME_API_KEY"
"""The former name of :data:`API_KEY_ENV`, still read (with a warning) when the
new one is not set."""
RUN_TIMEOUT_ENV = "KEDRO_RUNTIME_SERVER_RUN_TIMEOUT"
"""Seconds a run may take (a request may ask for less); unset for no deadline."""
ALLOWED_HOSTS_ENV = "KEDRO_RUNTIME_SERVER_ALLOWED_HOSTS"
"""Comma-separated ``Host`` header values the server answers (default: any);
``*.example.com`` allows subdomains. Others get 400 (DNS rebinding)."""
MAX_JSON_DEPTH_ENV = "KEDRO_RUNTIME_SERVER_MAX_JSON_DEPTH"
"""How deep arrays and objects may nest in a request body."""
MAX_TABLE_CELLS_ENV = "KEDRO_RUNTIME_SERVER_MAX_TABLE_CELLS"
"""The most cells (rows x columns) a table sent in ``runtime_data`` may have."""
MAX_TABLE_COLUMNS_ENV = "KEDRO_RUNTIME_SERVER_MAX_TABLE_COLUMNS"
"""The most distinct columns a table sent in ``runtime_data`` may have."""
MAX_PARAMS_LEAVES_ENV = "KEDRO_RUNTIME_SERVER_MAX_PARAMS_LEAVES"
"""The most values (leaves, list items included) a request's ``params`` may hold."""
MAX_PARAMS_DEPTH_ENV = "KEDRO_RUNTIME_SERVER_MAX_PARAMS_DEPTH"
"""How deep a request's ``params`` may nest, dotted keys counted part by part."""
MAX_RUNTIME_DATA_ENV = "KEDRO_RUNTIME_SERVER_MAX_RUNTIME_DATA"
"""The most datasets a request's ``runtime_data`` may name."""
MAX_OUTPUTS_ENV = "KEDRO_RUNTIME_SERVER_MAX_OUTPUTS"
"""The most datasets a request's ``outputs`` may name."""
MAX_JSON_DEPTH_CEILING = 500
"""The deepest nesting limit a server may set."""
_LIMIT_VARIABLES = {
    "max_json_depth": MAX_JSON_DEPTH_ENV,
    "max_table_cells": MAX_TABLE_CELLS_ENV,
    "max_table_columns": MAX_TABLE_COLUMNS_ENV,
    "max_params_leaves": MAX_PARAMS_LEAVES_ENV,
    "max_params_depth": MAX_PARAMS_DEPTH_ENV,
    "max_runtime_data": MAX_RUNTIME_DATA_ENV,
    "max_outputs": MAX_OUTPUTS_ENV,
}

DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""10 MiB: about 100,000 rows of a small table as JSON records."""
DEFAULT_REQUEST_TIMEOUT = 60.0
"""Seconds a client has to send its request body: ample for 10 MiB on a slow link."""


@dataclass(frozen=True)
class RequestLimits:
    """The work one request may ask of a worker, checked before the work.

    Attributes:
        max_json_depth: How deep arrays and objects may nest in a body (64; at
            most :data:`MAX_JSON_DEPTH_CEILING`).
        max_table_cells: The most cells (rows x columns) of one table decoded
            from ``runtime_data`` (2,000,000).
        max_table_columns: The most distinct columns of one such table (1,000).
        max_params_leaves: The most values ``params`` may hold, each key and list
            item counted (10,000).
        max_params_depth: How deep ``params`` may nest, each part of a dotted
            key counted (32).
        max_runtime_data: The most datasets ``runtime_data`` may name (1,000).
        max_outputs: The most datasets ``outputs`` may name (1,000).
    """

    max_json_depth: int = 64
    max_table_cells: int = 2_000_000
    max_table_columns: int = 1_000
    max_params_leaves: int = 10_000
    max_params_depth: int = 32
    max_runtime_data: int = 1_000
    max_outputs: int = 1_000

    def __post_init__(self) -> None:
        """Refuse limits that are not positive integers, or a depth over 500.

        Raises:
            ServerSettingsError: If a limit is not usable.
        """
        for name, variable in _LIMIT_VARIABLES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ServerSettingsError(
                    f"{name} ({variable}) must be a positive integer, got {value!r}."
                )
        if self.max_json_depth > MAX_JSON_DEPTH_CEILING:
            raise ServerSettingsError(
                f"max_json_depth ({MAX_JSON_DEPTH_ENV}) may be at most "
                f"{MAX_JSON_DEPTH_CEILING}: deeper values exhaust Python's stack in "
                f"validation and error handling. Got {self.max_json_depth}."
            )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RequestLimits:
        """The limits set by environment variables, the defaults for the rest.

        Args:
            environ: The environment to read.

        Returns:
            The limits.

        Raises:
            ServerSettingsError: If a value is not a positive integer.
        """
        values = {}
        for name, variable in _LIMIT_VARIABLES.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            if not raw.isdigit():
                raise ServerSettingsError(
                    f"{variable} must be a positive integer, got {raw!r}."
                )
            values[name] = int(raw)
        return cls(**values)


ENV_VARIABLES = (
    PROJECT_PATH_ENV,
    ENV_ENV,
    CONF_SOURCE_ENV,
    PIPELINES_ENV,
    MAX_REQUEST_BYTES_ENV,
    REQUEST_TIMEOUT_ENV,
    PRELOAD_ENV,
    NODE_CACHE_ENV,
    ALLOWED_HOSTS_ENV,
    RUN_TIMEOUT_ENV,
)
"""What ``kedro server start`` sets for its workers (the API key is never set by
the command: it comes from the environment the command runs in)."""


class ServerSettingsError(KedroRuntimeError, ValueError):
    """A server setting that is missing or not usable."""


@dataclass(frozen=True)
class ServerSettings:
    """What one server process serves, and how.

    Attributes:
        project_path: The Kedro project's root folder.
        env: The configuration environment, or ``None`` for the project's default.
        conf_source: The configuration source, or ``None`` for the project's.
        pipelines: The pipelines to serve, or ``None`` for every registered one.
        max_request_bytes: The largest request body accepted.
        api_key: The key clients must send, or ``None`` for no key.
        preload: Whether the session preloads the served pipelines' read-only
            inputs before the server takes requests.
        node_cache: Whether the session keeps a node cache, so that a request
            repeating the work of an earlier one reuses its nodes' results.
        request_timeout: Seconds a client has to send its request body once
            its headers are in; a slower one gets 408 and is disconnected.
        limits: The work one request may ask for (see :class:`RequestLimits`).
        allowed_hosts: The ``Host`` header values answered, or ``None`` for any.
        run_timeout: Seconds a run may take, or ``None`` for no deadline; a
            request may ask for less.
    """

    project_path: Path
    env: str | None
    conf_source: str | None
    pipelines: tuple[str, ...] | None
    max_request_bytes: int
    api_key: str | None
    preload: bool = True
    node_cache: bool = False
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    limits: RequestLimits = RequestLimits()
    allowed_hosts: tuple[str, ...] | None = None
    run_timeout: float | None = None

    @classmethod
    def resolve(
        cls,
        project_path: str | Path | None = None,
        env: str | None = None,
        conf_source: str | None = None,
        pipelines: Sequence[str] | None = None,
        api_key: str | None = None,
        max_request_bytes: int | None = None,
        environ: Mapping[str, str] | None = None,
        preload: bool | None = None,
        request_timeout: float | None = None,
        allowed_hosts: Sequence[str] | None = None,
        run_timeout: float | None = None,
        node_cache: bool | None = None,
    ) -> ServerSettings:
        """Settings from the arguments given, the environment for the rest.

        Args:
            project_path: The project; default ``$KEDRO_PROJECT_PATH``, then
                the current directory.
            env: Default ``$KEDRO_SERVER_ENV``.
            conf_source: Default ``$KEDRO_SERVER_CONF_SOURCE``.
            pipelines: Default ``$KEDRO_RUNTIME_SERVER_PIPELINES``
                (comma-separated), then every registered pipeline.
            api_key: Default ``$KEDRO_RUNTIME_SERVER_API_KEY`` (or the
                deprecated ``$KEDRO_RUNTIME_API_KEY``); ``""``: no key.
            max_request_bytes: Default ``$KEDRO_RUNTIME_SERVER_MAX_REQUEST_BYTES``.
            environ: The environment to read (default ``os.environ``).
            preload: Default ``$KEDRO_RUNTIME_SERVER_PRELOAD``, then ``True``.
            request_timeout: Default ``$KEDRO_RUNTIME_SERVER_REQUEST_TIMEOUT``,
                then 60 seconds.
            allowed_hosts: Default ``$KEDRO_RUNTIME_SERVER_ALLOWED_HOSTS``
                (comma-separated), then any host.
            run_timeout: Default ``$KEDRO_RUNTIME_SERVER_RUN_TIMEOUT``, or none.
            node_cache: Default ``$KEDRO_RUNTIME_SERVER_NODE_CACHE``, then off.

        Returns:
            The resolved settings.

        Raises:
            ServerSettingsError: If the project folder does not exist, a number
                is not positive, a request limit is not usable, or no pipeline
                is named.
        """
        environ = os.environ if environ is None else environ
        key = _api_key(environ) if api_key is None else api_key
        return cls(
            project_path=_project_path(project_path, environ),
            env=_or_variable(env, environ, ENV_ENV),
            conf_source=_or_variable(conf_source, environ, CONF_SOURCE_ENV),
            pipelines=_pipelines(pipelines, environ),
            max_request_bytes=int(
                _positive(
                    max_request_bytes,
                    environ,
                    MAX_REQUEST_BYTES_ENV,
                    DEFAULT_MAX_REQUEST_BYTES,
                    int,
                )
            ),
            api_key=key or None,
            preload=_flag(preload, environ, PRELOAD_ENV, default=True),
            node_cache=_flag(node_cache, environ, NODE_CACHE_ENV, default=False),
            request_timeout=_positive(
                request_timeout, environ, REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT
            ),
            limits=RequestLimits.from_environ(environ),
            allowed_hosts=_allowed_hosts(allowed_hosts, environ),
            run_timeout=_run_timeout(run_timeout, environ),
        )


def _project_path(given: str | Path | None, environ: Mapping[str, str]) -> Path:
    path = Path(given or environ.get(PROJECT_PATH_ENV) or Path.cwd())
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise ServerSettingsError(
            f"The project folder '{path}' does not exist. Pass project_path, or "
            f"set {PROJECT_PATH_ENV}, or start the server in the project folder."
        )
    return path


def _run_timeout(given: float | None, environ: Mapping[str, str]) -> float | None:
    if given is None and not environ.get(RUN_TIMEOUT_ENV, "").strip():
        return None  # no deadline
    return _positive(given, environ, RUN_TIMEOUT_ENV, 0)


def _allowed_hosts(
    given: Sequence[str] | None, environ: Mapping[str, str]
) -> tuple[str, ...] | None:
    if given is None and environ.get(ALLOWED_HOSTS_ENV, "").strip():
        given = environ[ALLOWED_HOSTS_ENV].split(",")
    if given is None:
        return None
    hosts = tuple(dict.fromkeys(h.strip() for h in given if h.strip()))
    if not hosts:
        raise ServerSettingsError(
            f"No allowed host ({ALLOWED_HOSTS_ENV}, --allowed-hosts): name at "
            f"least one, e.g. 'api.example.com,localhost', or leave it out to "
            f"answer any Host header."
        )
    return hosts


def _or_variable(
    given: str | None, environ: Mapping[str, str], name: str
) -> str | None:
    return given if given is not None else environ.get(name) or None


def _flag(
    given: bool | None, environ: Mapping[str, str], name: str, *, default: bool
) -> bool:
    """``given``, else the variable ``name`` (``0``, ``false``, ``no``: off)."""
    if given is not None:
        return given
    raw = environ.get(name, "").strip().lower()
    return default if not raw else raw not in ("0", "false", "no")


def _pipelines(
    given: Sequence[str] | None, environ: Mapping[str, str]
) -> tuple[str, ...] | None:
    if given is None and environ.get(PIPELINES_ENV):
        given = environ[PIPELINES_ENV].split(",")
    if given is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in given if n.strip()))
    if not names:
        raise ServerSettingsError(
            "No pipeline to serve: name at least one, or leave `pipelines` out "
            "to serve every registered pipeline."
        )
    return names


_NUMBERS = {
    MAX_REQUEST_BYTES_ENV: "The request size limit (--max-request-bytes, ",
    REQUEST_TIMEOUT_ENV: "The request timeout (--request-timeout, ",
    RUN_TIMEOUT_ENV: "The run timeout (--run-timeout, ",
}
"""The number settings :func:`_positive` reads, by variable, named for messages."""


def _positive(
    given: float | None,
    environ: Mapping[str, str],
    variable: str,
    default: float,
    kind: type[float] | type[int] = float,
) -> float:
    """``given``, else ``$variable``, else ``default``: a positive, finite number.

    Raises:
        ServerSettingsError: If the value is not one, naming the setting.
    """
    raw = given if given is not None else environ.get(variable, "").strip() or default
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = 0
    if not (value > 0 and math.isfinite(value)):
        unit = "bytes" if kind is int else "seconds"
        raise ServerSettingsError(
            f"{_NUMBERS[variable]}{variable}) must be a positive number of "
            f"{unit}, got {raw!r}."
        )
    return value


def _api_key(environ: Mapping[str, str]) -> str | None:
    if API_KEY_ENV in environ or DEPRECATED_API_KEY_ENV not in environ:
        return environ.get(API_KEY_ENV)
    warnings.warn(
        f"{DEPRECATED_API_KEY_ENV} is deprecated and will be removed in "
        f"kedro-runtime 1.0; set {API_KEY_ENV} instead.",
        KedroDeprecationWarning,
        stacklevel=3,
    )
    return environ[DEPRECATED_API_KEY_ENV]
