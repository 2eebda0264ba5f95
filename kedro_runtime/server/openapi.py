"""The server's OpenAPI description: the served pipelines and the API key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .middleware import OPEN_PATHS
from .project import ServedProject
from .settings import API_KEY_ENV

RUNNER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
"""The ``runner`` values the schema describes: a class name or a dotted path."""

_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
    "title": "Message",
}


def message_response(description: str) -> dict[str, Any]:
    """An OpenAPI response whose body is ``{"detail": "<message>"}``.

    Args:
        description: When the server answers with it.

    Returns:
        The response object, for a route's ``responses``.
    """
    return {
        "description": description,
        "content": {"application/json": {"schema": _MESSAGE_SCHEMA}},
    }


NOT_STARTED = message_response(
    "The worker's session is not started: an app mounted without its lifespan."
)
BODY_NOT_READ = message_response(
    "The body cannot be parsed: not UTF-8 text, or JSON nested too deep."
)
SHARED_FILE_CLASH = (
    "The run would save a non-versioned file that a run in flight saves or "
    "reads, or read one it saves: refused before it starts (retry later)."
)
_TOO_LARGE = message_response("The body is larger than the server's limit.")
_NO_KEY = message_response("The API key is missing or wrong.")

_PANDAS_DATA_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "array",
            "items": {"type": "object"},
            "title": "records",
            "description": "One object per row.",
        },
        {
            "type": "object",
            "additionalProperties": {"type": "array"},
            "title": "columns",
            "description": "One equal-length list per column.",
        },
    ],
    "description": "A table (pandas dataset): records or columns.",
}


def describe_pipelines(schema: dict[str, Any], served: ServedProject) -> None:
    """Name each served pipeline's free inputs, outputs and parameters in ``schema``.

    Adds ``x-kedro-pipelines``, a table to the ``/run`` description, and the
    free inputs as properties of ``runtime_data``.

    Args:
        schema: The OpenAPI schema, changed in place.
        served: The started project.
    """
    schema["x-kedro-pipelines"] = {
        name: {
            "inputs": list(info.inputs),
            "outputs": list(info.outputs),
            "parameters": list(info.parameters),
        }
        for name, info in served.pipelines.items()
    }
    lines = [
        "",
        "",
        "Served pipelines (free inputs go in `runtime_data`, outputs in `outputs`):",
        "",
        "| pipeline | free inputs | outputs | parameters |",
        "| --- | --- | --- | --- |",
    ]
    for name, info in served.pipelines.items():
        lines.append(
            f"| `{name}` | {_names(info.inputs)} | {_names(info.outputs)} | "
            f"{_names(info.parameters)} |"
        )
    run_post = schema.get("paths", {}).get("/run", {}).get("post")
    if run_post is not None:
        run_post["description"] = run_post.get("description", "") + "\n".join(lines)
    request = schema.get("components", {}).get("schemas", {}).get("RunBody")
    if request is not None:
        _describe_request(request["properties"], served)


def _describe_request(properties: dict[str, Any], served: ServedProject) -> None:
    inputs = sorted(set().union(*(info.inputs for info in served.pipelines.values())))
    data = properties["runtime_data"]
    data["anyOf"] = [
        {
            "type": "object",
            "properties": {
                name: (
                    _PANDAS_DATA_SCHEMA
                    if served.kinds.get(name) == "pandas"
                    else {"description": "Any JSON value."}
                )
                for name in inputs
            },
            "additionalProperties": True,
        },
        {"type": "null"},
    ]
    data["description"] = (
        data.get("description", "")
        + " Free inputs: "
        + "; ".join(
            f"`{name}`: {_names(info.inputs)}"
            for name, info in served.pipelines.items()
        )
        + "."
    )
    outputs = properties["outputs"]
    outputs["description"] = (
        outputs.get("description", "")
        + " Outputs: "
        + "; ".join(
            f"`{name}`: {_names(info.outputs)}"
            for name, info in served.pipelines.items()
        )
        + "."
    )
    properties["pipeline_names"]["description"] = (
        properties["pipeline_names"].get("description", "")
        + f" Served: {_names(sorted(served.pipelines))}."
    )


def describe_api_key(schema: dict[str, Any]) -> None:
    """Declare the API key in ``schema`` and require it on every path but ``OPEN_PATHS``.

    Args:
        schema: The OpenAPI schema, changed in place.
    """
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["apiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": f"The server's key (${API_KEY_ENV}); or send "
        f"`Authorization: Bearer <key>`.",
    }
    for path, operations in schema.get("paths", {}).items():
        if path in OPEN_PATHS:
            continue
        for operation in operations.values():
            operation["security"] = [{"apiKey": []}]
            operation.setdefault("responses", {})["401"] = _NO_KEY


def describe_run_timeout(schema: dict[str, Any], seconds: float) -> None:
    """Document the run timeout of ``POST /run``: its header and the 504.

    Args:
        schema: The OpenAPI schema, changed in place.
        seconds: The server's run timeout.
    """
    operation = schema.get("paths", {}).get("/run", {}).get("post")
    if operation is None:
        return
    operation.setdefault("parameters", []).append(
        {
            "name": "X-Run-Timeout",
            "in": "header",
            "required": False,
            "description": f"Seconds this run may take, at most {seconds:g}.",
            "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": seconds},
        }
    )
    operation.setdefault("responses", {})["504"] = {
        "description": "The run took longer than its timeout: it was stopped "
        "before its next node.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/RunFailure"}}
        },
    }


def describe_refusals(schema: dict[str, Any]) -> None:
    """Document what every request may be refused for, and the ``runner`` pattern.

    The body limit applies to every path (413); ``RunBody.runner`` gets the
    pattern of a class name or dotted path, which the server checks (422).

    Args:
        schema: The OpenAPI schema, changed in place.
    """
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {})["413"] = _TOO_LARGE
    request = schema.get("components", {}).get("schemas", {}).get("RunBody", {})
    runner = request.get("properties", {}).get("runner", {})
    for choice in runner.get("anyOf", []):
        if choice.get("type") == "string":
            choice["pattern"] = RUNNER_PATTERN


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "none"
