"""The FastAPI app: one warm kedro-runtime session per worker process.

Endpoints (the same paths and request fields as Kedro's ``kedro server start``):

- ``GET /health``: ``healthy`` once the worker's session is warm. Never needs
  the API key.
- ``POST /run``: run pipelines with Kedro's request fields, plus
  ``runtime_data`` (data in, by dataset name) and ``outputs`` (the outputs to
  send back, as JSON).
- ``GET /snapshot``: Kedro's read-only description of the project.

Request execution lives in :mod:`.execute`, the OpenAPI description in
:mod:`.openapi`, and the API key guard and body limits in :mod:`.middleware`.
See ``docs/serving.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from kedro import __version__ as kedro_version
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .. import __version__ as kedro_runtime_version
from .body import IncrementalJSONRoute
from .execute import (
    RUN_TIMEOUT_HEADER,
    SafeJSONResponse,
    execute_run,
    execute_snapshot,
    refuse_invalid_request,
)
from .middleware import ApiKeyGuard, BodyLimits
from .models import (
    HealthResponse,
    Problem,
    RunBody,
    RunResponse,
    SnapshotResponse,
)
from .openapi import (
    BODY_NOT_READ,
    NOT_STARTED,
    SHARED_FILE_CLASH,
    describe_api_key,
    describe_pipelines,
    describe_refusals,
    describe_run_timeout,
)
from .project import ServedProject
from .settings import ServerSettings


class KedroRuntimeApp(FastAPI):
    """A FastAPI app whose OpenAPI schema describes the served pipelines.

    Until the app's lifespan has started the session, the schema describes the
    endpoints only; from then on it also names each served pipeline's free
    inputs, outputs and parameters (``x-kedro-pipelines``, the ``/run``
    description, and the properties of ``runtime_data``).
    """

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI schema, with the served pipelines once they are known.

        Returns:
            The schema as a dictionary.
        """
        served: ServedProject | None = getattr(self.state, "served", None)
        if (
            self.openapi_schema is not None
            and getattr(self.state, "openapi_served", None) is served
        ):
            return self.openapi_schema
        self.openapi_schema = None
        schema = super().openapi()
        settings: ServerSettings = self.state.server_settings
        describe_refusals(schema)
        if settings.api_key:
            describe_api_key(schema)
        if settings.run_timeout is not None:
            describe_run_timeout(schema, settings.run_timeout)
        if served is not None:
            describe_pipelines(schema, served)
        self.state.openapi_served = served
        return schema


def create_app(
    project_path: str | Path | None = None,
    env: str | None = None,
    conf_source: str | None = None,
    pipelines: Sequence[str] | None = None,
    api_key: str | None = None,
    max_request_bytes: int | None = None,
    preload: bool | None = None,
    request_timeout: float | None = None,
    allowed_hosts: Sequence[str] | None = None,
    run_timeout: float | None = None,
    node_cache: bool | None = None,
) -> FastAPI:
    """Create the FastAPI app that serves a Kedro project from one warm session.

    The app's lifespan bootstraps the project, creates a kedro-runtime session
    with ``SessionOptions.for_service(preload=..., node_cache=...)``, warms up
    every served pipeline before the app takes requests, and closes the session
    at shutdown; each process (each uvicorn worker) gets its own. Starlette does
    not run the lifespan of mounted apps (docs/serving.md). An argument left
    out is read from its environment variable (docs/options.md).

    Args:
        project_path: The project's root folder.
        env: The configuration environment.
        conf_source: The configuration source.
        pipelines: The pipelines requests may run (default: every one).
        api_key: The key every request but ``GET /health`` must send, in an
            ``X-API-Key`` header or as ``Authorization: Bearer <key>``.
        max_request_bytes: The largest request body; larger ones get 413.
        preload: Load the served pipelines' read-only inputs once, at start-up.
        request_timeout: Seconds a client has to send its body once its
            headers are in; a slower one gets 408 and is disconnected.
        allowed_hosts: The ``Host`` header values the app answers, e.g.
            ``["api.example.com", "*.internal"]``; others get 400.
        run_timeout: Seconds a run may take: past them it stops before its next
            node and the request gets 504 (``X-Run-Timeout`` may ask for less).
        node_cache: Keep a node cache in the session (docs/node-cache.md).

    Returns:
        The app.
    """
    settings = ServerSettings.resolve(
        project_path=project_path,
        env=env,
        conf_source=conf_source,
        pipelines=pipelines,
        api_key=api_key,
        max_request_bytes=max_request_bytes,
        preload=preload,
        request_timeout=request_timeout,
        allowed_hosts=allowed_hosts,
        run_timeout=run_timeout,
        node_cache=node_cache,
    )
    app = KedroRuntimeApp(
        title="Kedro project server (kedro-runtime)",
        description=(
            "Runs the project's pipelines on one warm kedro-runtime session per "
            "worker: send data with `runtime_data`, get outputs back with `outputs`."
        ),
        version=kedro_runtime_version,
        lifespan=_lifespan,
    )
    app.state.server_settings = settings
    app.state.served = None
    app.add_exception_handler(RequestValidationError, refuse_invalid_request)
    _add_middleware(app, settings)
    _add_routes(app)
    return app


def _add_middleware(app: FastAPI, settings: ServerSettings) -> None:
    """The body limits, the API key guard if there is a key, then the host check
    (outermost) if hosts are named."""
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_request_bytes,
        timeout=settings.request_timeout,
    )
    if settings.api_key:
        app.add_middleware(ApiKeyGuard, api_key=settings.api_key)
    if settings.allowed_hosts:
        app.add_middleware(
            TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)
        )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ServerSettings = app.state.server_settings
    served = ServedProject.start(
        settings.project_path,
        env=settings.env,
        conf_source=settings.conf_source,
        pipelines=settings.pipelines,
        preload=settings.preload,
        node_cache=settings.node_cache,
        limits=settings.limits,
        run_timeout=settings.run_timeout,
    )
    app.state.served = served
    try:
        yield
    finally:
        app.state.served = None
        served.close()


def served_project(app: FastAPI) -> ServedProject | None:
    """The started project of an app made by :func:`create_app`.

    Args:
        app: The app.

    Returns:
        The project (whose ``session`` is the warm session) while the app's
        lifespan runs, ``None`` before and after.
    """
    served: ServedProject | None = getattr(app.state, "served", None)
    return served


def _not_started() -> SafeJSONResponse:
    return SafeJSONResponse(
        {
            "detail": (
                "The Kedro session is not started: the app's lifespan has not run. "
                "When you mount the app in another app, enter its lifespan from "
                "yours (see the kedro-runtime serving guide)."
            )
        },
        status_code=503,
    )


def _add_routes(app: FastAPI) -> None:
    app.router.route_class = IncrementalJSONRoute  # large bodies off the loop

    @app.get(
        "/health",
        response_model=HealthResponse,
        tags=["health"],
        responses={503: {"model": HealthResponse}},
    )
    async def health() -> JSONResponse:
        """Whether this worker's session is warm and it takes requests."""
        ready = served_project(app) is not None
        body = HealthResponse(
            status="healthy" if ready else "unhealthy",
            kedro_version=kedro_version,
            kedro_runtime_version=kedro_runtime_version,
        )
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.post(
        "/run",
        response_model=RunResponse,
        tags=["pipeline"],
        responses={
            400: BODY_NOT_READ,
            409: {"model": Problem, "description": SHARED_FILE_CLASH},
            422: {"model": Problem},
            503: NOT_STARTED,
        },
    )
    def run(body: RunBody, request: Request) -> Response:
        """Run pipelines on the warm session, with the request's data and parameters.

        Answers `success` with the outputs asked for, or `failure` (still 200,
        as Kedro's server) when the run fails. A request that cannot be used
        (data that does not decode to its dataset's type, a name that is not a
        dataset or output of the pipeline, parameters the server refuses, an
        output with no JSON form) gets 422. A run that would save a
        non-versioned file a run in flight saves or reads (or read one it saves)
        is refused before it starts with 409; send it again later.
        """
        served = served_project(app)
        if served is None:
            return _not_started()
        return execute_run(served, body, request.headers.get(RUN_TIMEOUT_HEADER))

    @app.get(
        "/snapshot",
        response_model=SnapshotResponse,
        tags=["inspection"],
        responses={422: {"model": Problem}, 503: NOT_STARTED},
    )
    def snapshot(
        params: str | None = Query(
            default=None,
            description=(
                "Parameters for this snapshot, as `kedro run --params` takes them: "
                "`key=value` items separated by commas (values without commas)."
            ),
        ),
    ) -> Response:
        """A read-only description of the project: pipelines, datasets, parameters.

        Params that cannot be parsed, or that the server refuses (an
        interpolation), get 422.
        """
        served = served_project(app)
        if served is None:
            return _not_started()
        return execute_snapshot(served, params)
