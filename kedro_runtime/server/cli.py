"""``kedro server start`` from kedro-runtime.

Installing kedro-runtime registers :data:`commands` under the
``kedro.project_commands`` entry point; Kedro lets a plugin's command take the
place of a built-in one, so ``kedro server start`` in a project runs
:func:`start`. It keeps every option of Kedro's command (the option objects are
Kedro's own) and adds:

- ``--workers N``: N uvicorn worker processes, each warming its own session
  before it accepts requests; a worker that dies is replaced.
- ``--pipelines a,b``: the pipelines to serve (default: every registered one).
- ``--max-request-bytes N``: the largest request body accepted.
- ``--request-timeout S``: seconds a client has to send its request body.

The API key comes from the ``KEDRO_RUNTIME_SERVER_API_KEY`` environment variable,
never from the command line (where other users of the machine could read it).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import click
from kedro.framework.cli.server import server_start as kedro_server_start
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.startup import ProjectMetadata

from .settings import (
    ALLOWED_HOSTS_ENV,
    CONF_SOURCE_ENV,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    ENV_ENV,
    ENV_VARIABLES,
    MAX_REQUEST_BYTES_ENV,
    NODE_CACHE_ENV,
    PIPELINES_ENV,
    PRELOAD_ENV,
    PROJECT_PATH_ENV,
    REQUEST_TIMEOUT_ENV,
    RUN_TIMEOUT_ENV,
)

APP_FACTORY = "kedro_runtime.server.app:create_app"
"""What uvicorn imports in every worker: it reads its settings from the environment."""

_MISSING_EXTRA = (
    "`kedro server start` from kedro-runtime needs FastAPI and uvicorn (the "
    "`server` extra). From the root of a kedro-runtime clone, install them "
    'with: pip install -e ".[server]"'
)


def _split_names(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if not value:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not names:
        noun = "host" if param.name == "allowed_hosts" else "pipeline"
        raise click.BadParameter(f"name at least one {noun}.", ctx=ctx, param=param)
    return names


_OWN_OPTIONS = (
    click.Option(
        ["--workers", "-w"],
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Worker processes, each warming its own session before it serves.",
    ),
    click.Option(
        ["--pipelines"],
        type=str,
        default=None,
        callback=_split_names,
        help=(
            "Pipelines to serve, separated by commas (default: every "
            "registered pipeline). Each is warmed up at start."
        ),
    ),
    click.Option(
        ["--preload/--no-preload"],
        default=True,
        show_default=True,
        help=(
            "Load the served pipelines' read-only inputs (datasets no node "
            "writes) once per worker, before it reports healthy."
        ),
    ),
    click.Option(
        ["--node-cache"],
        is_flag=True,
        default=False,
        help=(
            "Keep a node cache in each worker's session: a request that "
            "repeats an earlier one's work reuses its nodes' results."
        ),
    ),
    click.Option(
        ["--max-request-bytes"],
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_REQUEST_BYTES,
        show_default=True,
        help="Largest request body accepted; larger ones get 413.",
    ),
    click.Option(
        ["--request-timeout"],
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_REQUEST_TIMEOUT,
        show_default=True,
        help=(
            "Seconds a client has to send its request body once its headers "
            "are in; a slower one gets 408 and is disconnected. Bound slow "
            "headers at a reverse proxy (docs/serving.md)."
        ),
    ),
    click.Option(
        ["--run-timeout"],
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help=(
            "Seconds a run may take: past them it is stopped before its next "
            "node and the request gets 504. A request may ask for less with "
            "an X-Run-Timeout header. Default: no deadline."
        ),
    ),
    click.Option(
        ["--allowed-hosts"],
        type=str,
        default=None,
        callback=_split_names,
        help=(
            "Host header values to answer, separated by commas (e.g. "
            "'api.example.com,*.internal'); others get 400. Default: any."
        ),
    ),
)
"""The options kedro-runtime adds to those of Kedro's ``kedro server start``."""


# Named "kedro" as Kedro's built-in project commands: Kedro merges groups of
# the same name, so `kedro --help` lists `server` once (this one wins).
@click.group(name="kedro")
def commands() -> None:
    """Commands from kedro-runtime's server."""


@commands.group(name="server")
def server() -> None:
    """Commands for running Kedro as a server."""


@server.command(
    name="start",
    params=[*kedro_server_start.params, *_OWN_OPTIONS],
    context_settings=CONTEXT_SETTINGS,
)
@click.pass_obj
def start(metadata: ProjectMetadata, /, **options: Any) -> None:
    """Start the Kedro HTTP server, from kedro-runtime.

    Kedro's server with the same options, endpoints and request fields, served
    from one warm kedro-runtime session per worker: POST /run takes data in
    `runtime_data` and returns the `outputs` asked for.

    \b
    Endpoints:
      GET  /health    - Health check (no API key needed)
      POST /run       - Run pipelines, with data in and outputs back
      GET  /snapshot  - Describe the project

    \b
    Set KEDRO_RUNTIME_SERVER_API_KEY to require an API key on every endpoint
    but /health.

    \b
    Examples:
      kedro server start
      kedro server start --host 0.0.0.0 --port 8080 --workers 4
      kedro server start --env service --pipelines __default__
    """
    try:
        import fastapi  # noqa: F401, PLC0415
        import uvicorn  # noqa: PLC0415
    except ImportError as exc:
        # A plain ClickException: Kedro's KedroCliError prints the exception
        # being handled, which (with click 8.5) is gone when click shows it.
        raise click.ClickException(_MISSING_EXTRA) from exc
    workers: int = options["workers"]
    reload: bool = options["reload"]
    if reload and workers > 1:
        raise click.UsageError(
            "--reload and --workers cannot be used together: --reload runs one "
            "process that restarts on code changes (for development only)."
        )
    if reload:
        warnings.warn(
            "--reload restarts the server when the project's code changes; it is "
            "for development only. Do not use it in production.",
            UserWarning,
            stacklevel=1,
        )
    project_path = metadata.project_path
    _export_settings(project_path, options)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        http="h11",
        host=options["host"],
        port=options["port"],
        reload=reload,
        reload_dirs=[str(project_path)] if reload else None,
        workers=workers if workers > 1 else None,
        log_level="info",
    )


def _export_settings(project_path: Any, options: dict[str, Any]) -> None:
    """Put the command's settings where the workers read them: the environment.

    Every variable is set or removed, so that a value from an earlier command
    in the same shell is never picked up.
    """
    for name in ENV_VARIABLES:
        os.environ.pop(name, None)
    os.environ[PROJECT_PATH_ENV] = str(project_path)
    if options["env"]:
        os.environ[ENV_ENV] = options["env"]
    if options["conf_source"]:
        os.environ[CONF_SOURCE_ENV] = str(options["conf_source"])
    if options["pipelines"]:
        os.environ[PIPELINES_ENV] = ",".join(options["pipelines"])
    os.environ[MAX_REQUEST_BYTES_ENV] = str(options["max_request_bytes"])
    os.environ[REQUEST_TIMEOUT_ENV] = str(options["request_timeout"])
    os.environ[PRELOAD_ENV] = "1" if options["preload"] else "0"
    os.environ[NODE_CACHE_ENV] = "1" if options["node_cache"] else "0"
    if options["run_timeout"] is not None:
        os.environ[RUN_TIMEOUT_ENV] = str(options["run_timeout"])
    if options["allowed_hosts"]:
        os.environ[ALLOWED_HOSTS_ENV] = ",".join(options["allowed_hosts"])
