"""Request execution: a ``POST /run`` or ``GET /snapshot`` request on the warm session.

:func:`execute_run` answers ``POST /run`` and :func:`execute_snapshot` answers
``GET /snapshot``. :func:`run_request` is the one place that turns a request
body into the :class:`kedro_runtime.RunRequest` the session runs as it is.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from kedro_runtime import (
    KedroRuntimeError,
    RunRequest,
    RuntimeDataError,
    RunTimeoutError,
    RuntimeParamsError,
    SharedFileError,
    UntrustedLoadVersionsError,
    generate_run_id,
    is_param,
    parse_params,
    project_snapshot,
)

from .codec import DecodeError, EncodeError, encode_outputs
from .limits import RequestLimitError, check_request, some
from .models import (
    ErrorDetail,
    Problem,
    RunBody,
    RunFailure,
    SnapshotFailure,
    SnapshotSuccess,
)
from .project import (
    ParallelRunnerNotAllowedError,
    RunnerNotAllowedError,
    ServedProject,
)
from .redact import redact
from .settings import RUN_TIMEOUT_ENV

logger = logging.getLogger(__name__)


class SafeJSONResponse(JSONResponse):
    """A JSON response that can echo any string a request sent.

    JSON text may hold a lone surrogate (``"\\ud800"``), which has no UTF-8
    form: such a body is written with ASCII escapes instead of failing (500).
    """

    def render(self, content: Any) -> bytes:
        """The body's bytes: UTF-8, or ASCII escapes if it holds a lone surrogate.

        Args:
            content: The body.

        Returns:
            The JSON bytes.
        """
        try:
            return super().render(content)
        except UnicodeEncodeError:
            text = json.dumps(content, allow_nan=False, separators=(",", ":"))
            return text.encode("ascii")


async def refuse_invalid_request(request: Request, exc: Exception) -> SafeJSONResponse:
    """FastAPI's answer to a body or query that does not validate (422).

    The same body as FastAPI's own handler, written with
    :class:`SafeJSONResponse`.

    Args:
        request: The request.
        exc: The validation error.

    Returns:
        The 422 response.
    """
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return SafeJSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


MAX_MESSAGE_CHARS = 4_000
"""The longest error message a response carries: a message that names what a
request sent is cut there, so that no refusal echoes a whole request."""


def _problem(
    kind: str, loc: list[str | int], message: str, status_code: int = 422
) -> SafeJSONResponse:
    if len(message) > MAX_MESSAGE_CHARS:
        cut = len(message) - MAX_MESSAGE_CHARS
        message = f"{message[:MAX_MESSAGE_CHARS]}... ({cut:,} more characters)"
    loc = [part if isinstance(part, int) else part[:200] for part in loc]
    body = Problem.model_validate(
        {"detail": [{"type": kind, "loc": loc, "msg": message}]}
    )
    return SafeJSONResponse(body.model_dump(), status_code=status_code)


class _Refused(KedroRuntimeError):
    """A request that cannot be used: answered with 422."""

    def __init__(self, kind: str, loc: list[str | int], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.loc = loc


RUN_TIMEOUT_HEADER = "X-Run-Timeout"
"""The request header that asks for a run timeout (seconds), at most the server's."""


def execute_run(
    served: ServedProject, body: RunBody, timeout: str | None = None
) -> Response:
    """Answer ``POST /run``: run the request on the warm session.

    Args:
        served: The started project.
        body: The request.
        timeout: The request's ``X-Run-Timeout`` header, if any.

    Returns:
        ``success`` with the outputs asked for; ``failure`` (still 200, as
        Kedro's server) when the run fails; 422 when the request cannot be used;
        409 when the run would share a non-versioned file with a run in flight.
    """
    run_id = generate_run_id()
    started = time.perf_counter()
    try:
        encoded = _run_and_encode(served, body, run_id, _timeout(served, timeout))
    except _Refused as refused:
        return _problem(refused.kind, refused.loc, _public(served, str(refused)))
    except RequestLimitError as exc:
        return _problem("limit", ["body", exc.field], str(exc))
    except SharedFileError as exc:
        message = _public(served, str(exc))
        return _problem("shared_files", ["body"], message, status_code=409)
    except RunTimeoutError as exc:
        return _failure(served, run_id, started, exc, status_code=504)
    except Exception as exc:
        return _failure(served, run_id, started, exc)
    duration = round((time.perf_counter() - started) * 1000, 2)
    content = (
        f'{{"status":"success","run_id":{json.dumps(run_id)},'
        f'"duration_ms":{duration},"outputs":{encoded}}}'
    )
    return Response(content, media_type="application/json")


def _run_and_encode(
    served: ServedProject, body: RunBody, run_id: str, timeout: float | None
) -> str:
    """Run the request; the JSON text of the outputs it asks for.

    Args:
        served: The started project.
        body: The request.
        run_id: The id of this run.
        timeout: The run's timeout, if any.

    Returns:
        The JSON text of ``{output name: value}``.

    Raises:
        _Refused: If the request cannot be used (422).
        Exception: Whatever the run raised (a failed run).
    """
    check_request(body, served.limits)
    served_datasets = set().union(*(i.datasets for i in served.pipelines.values()))
    _check_names(
        "runtime_data",
        [name for name in body.runtime_data or {} if not is_param(name)],
        served_datasets,
        f"the served pipelines. Their inputs: {_by_pipeline(served, 'inputs')}",
    )
    wanted = body.outputs or []
    _check_names(
        "outputs",
        wanted,
        served_datasets,
        f"the served pipelines. Their outputs: {_by_pipeline(served, 'outputs')}",
    )
    try:
        data = served.decode(body.runtime_data or {})
    except DecodeError as exc:
        raise _Refused(
            "runtime_data", ["body", "runtime_data", exc.name], str(exc)
        ) from exc
    try:
        request = run_request(served, body, data, run_id)
        if timeout is not None:
            request = dataclasses.replace(request, timeout=timeout)
        result = served.session.run(request=request)
    except ParallelRunnerNotAllowedError as exc:
        raise _Refused("runner", ["body", "runner"], str(exc)) from exc
    except UntrustedLoadVersionsError as exc:
        raise _Refused("load_versions", ["body", "load_versions"], str(exc)) from exc
    except RuntimeDataError as exc:
        raise _Refused("runtime_data", ["body", "runtime_data"], str(exc)) from exc
    except RuntimeParamsError as exc:
        raise _Refused("params", ["body", "params"], str(exc)) from exc
    missing = [name for name in wanted if name not in result]
    if missing:
        raise _Refused(
            "outputs",
            ["body", "outputs", missing[0]],
            f"{some(missing)} are not outputs of this run (datasets that no node "
            f"of the run reads), so they are not kept; this run's outputs are "
            f"{some(sorted(result), 50)}. Stop the run at a dataset with `to_outputs` to get "
            f"it back.",
        )
    values = {name: result[name].load() for name in wanted}
    try:
        return encode_outputs(values)
    except EncodeError as exc:
        raise _Refused("outputs", ["body", "outputs", exc.name], str(exc)) from exc


def _check_names(field: str, names: list[str], known: set[str], what: str) -> None:
    """Refuse names that are not datasets of ``known``, naming a few of them.

    Raises:
        _Refused: If a name is unknown; the message names a few of them, and
            the closest known names to the first.
    """
    unknown = [name for name in names if name not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), n=3)
        raise _Refused(
            field,
            ["body", field, unknown[0]],
            f"{some(unknown)} are not datasets of {what}.\nClosest matches: "
            f"{close or 'none'}.",
        )


def run_request(
    served: ServedProject, body: RunBody, data: dict[str, Any], run_id: str
) -> RunRequest:
    """The run a request body asks for, as the one value the session runs.

    The one place that maps the body's fields to a run: the served project
    checks the pipelines and makes the runner, the request checks the rest.

    Args:
        served: The started project.
        body: The request body.
        data: The body's ``runtime_data``, decoded.
        run_id: The id of this run.

    Returns:
        The run, for ``session.run(request=...)``.

    Raises:
        ValueError: If a pipeline is not served or the runner is not allowed
            (``RunnerNotAllowedError``).
        RuntimeParamsError: If a ``params`` key is empty or two clash once
            nested (other checks: :class:`kedro_runtime.RunRequest`).
    """
    return RunRequest(
        pipeline_names=served.check_pipelines(body.pipeline_names),
        **{name: getattr(body, name) or None for name in RunRequest().filters},
        runner=served.runner(body.runner, body.is_async),
        load_versions=body.load_versions,
        only_missing_outputs=body.only_missing_outputs,
        runtime_data=data or None,
        runtime_params=body.params,
        run_id=run_id,
        load_outputs=body.outputs,
        timeout=served.run_timeout,
    )


def _timeout(served: ServedProject, header: str | None) -> float | None:
    """The run's timeout: the request's ``X-Run-Timeout``, at most the server's.

    Raises:
        _Refused: If the header is not a positive number, or asks for more
            than the server's run timeout.
    """
    limit = served.run_timeout
    if header is None:
        return limit
    try:
        asked = float(header)
    except ValueError:
        asked = math.nan
    if not (0 < asked < math.inf) or (limit is not None and asked > limit):
        bound = "" if limit is None else f" of at most {limit:g}"
        raise _Refused(
            "timeout",
            ["header", RUN_TIMEOUT_HEADER],
            f"{RUN_TIMEOUT_HEADER} must be a positive number of seconds{bound} "
            f"(the server's run timeout: --run-timeout, {RUN_TIMEOUT_ENV}).",
        )
    return asked


def _failure(
    served: ServedProject,
    run_id: str,
    started: float,
    exc: Exception,
    status_code: int = 200,
) -> SafeJSONResponse:
    duration = round((time.perf_counter() - started) * 1000, 2)
    logger.error(
        "Run %s failed: %s\n%s",
        run_id,
        redact(str(exc)),
        redact("".join(traceback.format_exception(exc))),
    )
    message = _public(served, str(exc))
    body = RunFailure(
        status="failure",
        run_id=run_id,
        duration_ms=duration,
        error=ErrorDetail(type=_error_type(exc), message=message),
    )
    return SafeJSONResponse(body.model_dump(), status_code=status_code)


def _error_type(exc: Exception) -> str:
    """The ``error.type`` of a failed run: what Kedro's server would report.

    Kedro's server refuses a runner with a ``ValueError``, or fails to import
    it with an ``ImportError`` or ``AttributeError``; clients check that name.
    """
    if isinstance(exc, RunnerNotAllowedError):
        cause = exc.__cause__
        found = isinstance(cause, ImportError | AttributeError)
        return type(cause).__qualname__ if found else ValueError.__qualname__
    return type(exc).__qualname__


def execute_snapshot(served: ServedProject, params: str | None) -> SafeJSONResponse:
    """Answer ``GET /snapshot``: Kedro's description of the project.

    Args:
        served: The started project.
        params: The ``params`` query value (``key=value`` items), if any.

    Returns:
        ``success`` with the snapshot; ``failure`` naming what went wrong; 422
        when the params cannot be parsed or are refused.
    """
    try:
        runtime_params = parse_params(params) if params else None
        if runtime_params:
            served.session.check_runtime_params(runtime_params)
    except (ValueError, RuntimeParamsError) as exc:
        return _problem("params", ["query", "params"], _public(served, str(exc)))
    try:
        snap = project_snapshot(
            served.metadata, served.env, served.conf_source, runtime_params
        )
    except Exception as exc:
        logger.error("Snapshot failed: %s", redact(str(exc)))
        message = _public(served, str(exc))
        failure = SnapshotFailure(
            status="failure",
            error=ErrorDetail(type=type(exc).__qualname__, message=message),
        )
        return SafeJSONResponse(failure.model_dump())
    success = SnapshotSuccess(
        status="success",
        metadata=snap.metadata,
        pipelines=snap.pipelines,
        datasets=snap.datasets,
        parameters=snap.parameters,
    )
    return SafeJSONResponse(success.model_dump(mode="json"))


def _public(served: ServedProject, text: str) -> str:
    """``text`` for a caller: credentials hidden (:func:`redact`), and the
    project's folder, Python's and the home folder named instead of shown
    (``<project>``, ``<python>``, ``~``). The server's log keeps them."""
    text = redact(text)
    folders = [
        (str(served.metadata.project_path), "<project>"),
        (sys.prefix, "<python>"),
        (sys.base_prefix, "<python>"),
    ]
    try:
        folders.append((str(Path.home()), "~"))
    except (KeyError, RuntimeError):  # no home folder: nothing to hide
        pass
    for folder, name in folders:
        if len(folder) > 1:
            text = text.replace(folder, name)
    return text


def _by_pipeline(served: ServedProject, field: str) -> dict[str, list[str]]:
    """The ``inputs`` or ``outputs`` of each served pipeline."""
    return {name: list(getattr(info, field)) for name, info in served.pipelines.items()}
