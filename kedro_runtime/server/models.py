"""Request and response bodies of the server.

``RunBody``, the body of ``POST /run``, accepts every field of the request
body of Kedro's own server (``kedro server start``), with the same meaning, so
existing clients keep working, plus ``runtime_data`` and ``outputs``. Responses
carry Kedro's fields plus ``outputs``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from kedro.inspection.models import (
    DatasetSnapshot,
    PipelineSnapshot,
    ProjectMetadataSnapshot,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator


def _is_dotted_identifier(value: str) -> bool:
    return all(part.isidentifier() for part in value.split("."))


class RunBody(BaseModel):
    """The body of ``POST /run``, made into one ``kedro_runtime.RunRequest``.

    The configuration environment and source are the server's, not the
    request's (as in Kedro's server): unknown fields are refused.
    """

    model_config = ConfigDict(extra="forbid")

    pipeline_names: list[str] | None = Field(
        default=None,
        description="Registered pipelines to run, together (default `__default__`).",
    )
    tags: list[str] | None = Field(
        default=None, description="Run only the nodes with any of these tags."
    )
    node_names: list[str] | None = Field(
        default=None, description="Run only the nodes with these names."
    )
    from_nodes: list[str] | None = Field(
        default=None, description="Run from these nodes on."
    )
    to_nodes: list[str] | None = Field(
        default=None, description="Run up to these nodes."
    )
    from_inputs: list[str] | None = Field(
        default=None, description="Run from the nodes that read these datasets on."
    )
    to_outputs: list[str] | None = Field(
        default=None, description="Run up to the nodes that write these datasets."
    )
    namespaces: list[str] | None = Field(
        default=None, description="Run only the nodes in these namespaces."
    )
    load_versions: dict[str, str] | None = Field(
        default=None, description="Dataset name to the version to load."
    )
    runner: str | None = Field(
        default=None,
        description=(
            "Runner class name from `kedro.runner` (default `SequentialRunner`), "
            "or a dotted path into `kedro.runner`, the project's package or a "
            "module listed in `RUNNER_MODULE_ALLOWLIST` in `settings.py`."
        ),
    )
    is_async: bool = Field(
        default=False,
        description="Load node inputs and save node outputs asynchronously (threads).",
    )
    only_missing_outputs: bool = Field(
        default=False,
        description="Run only the nodes whose persisted outputs do not exist yet.",
    )
    params: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Parameters for this run only, over the project's (dotted keys such as "
            "`model.alpha` set nested values). Values may not hold `${...}` "
            "interpolations, and may change catalog config only where the project "
            "allows it in `ALLOWED_CATALOG_RUNTIME_PARAMS`."
        ),
    )
    runtime_data: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Data for this run only, by dataset name, used instead of the catalog "
            "entry. A pandas dataset takes a table as records (a list of row "
            "objects) or columns (an object of equal-length lists); any other "
            "dataset takes the JSON value as it is."
        ),
    )
    outputs: list[str] | None = Field(
        default=None,
        description=(
            "Outputs of the run to return in the response, encoded as JSON "
            "(tables as records). Each must be an output of the pipeline that runs "
            "(after `to_outputs` and the other filters)."
        ),
    )

    @field_validator("runner")
    @classmethod
    def _runner_is_a_dotted_name(cls, value: str | None) -> str | None:
        if value is not None and not _is_dotted_identifier(value):
            raise ValueError(
                f"runner {value!r} must be a class name such as 'SequentialRunner' "
                f"or a dotted path such as 'my_project.runners.MyRunner'."
            )
        return value

    @field_validator("outputs")
    @classmethod
    def _outputs_are_unique(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(value))


class ErrorDetail(BaseModel):
    """Why a run or a snapshot failed."""

    type: str = Field(description="Name of the exception's class.")
    message: str = Field(description="The exception's message.")


class RunSuccess(BaseModel):
    """A run that finished."""

    status: Literal["success"] = Field(description="`success`.")
    run_id: str = Field(description="The run's id (the save version of its outputs).")
    duration_ms: float = Field(description="How long the run took, in milliseconds.")
    outputs: dict[str, Any] = Field(
        default_factory=dict,
        description="The outputs asked for in the request, by name, as JSON.",
    )


class RunFailure(BaseModel):
    """A run that started and failed (a node raised, a dataset failed)."""

    status: Literal["failure"] = Field(description="`failure`.")
    run_id: str = Field(description="The run's id.")
    duration_ms: float = Field(description="How long the run took, in milliseconds.")
    error: ErrorDetail = Field(description="What went wrong.")


RunResponse = Annotated[RunSuccess | RunFailure, Field(discriminator="status")]


class HealthResponse(BaseModel):
    """Whether this worker serves requests."""

    status: Literal["healthy", "unhealthy"] = Field(
        description="`healthy` once the worker's session is warm."
    )
    kedro_version: str = Field(description="The Kedro version.")
    kedro_runtime_version: str = Field(description="The kedro-runtime version.")


class SnapshotSuccess(BaseModel):
    """A read-only description of the project."""

    status: Literal["success"] = Field(description="`success`.")
    metadata: ProjectMetadataSnapshot = Field(description="The project's metadata.")
    pipelines: list[PipelineSnapshot] = Field(description="The registered pipelines.")
    datasets: dict[str, DatasetSnapshot] = Field(
        description="The catalog's datasets by name."
    )
    parameters: list[str] = Field(description="Top-level parameter names, sorted.")


class SnapshotFailure(BaseModel):
    """A snapshot that could not be made."""

    status: Literal["failure"] = Field(description="`failure`.")
    error: ErrorDetail = Field(description="What went wrong.")


SnapshotResponse = Annotated[
    SnapshotSuccess | SnapshotFailure, Field(discriminator="status")
]


class ProblemItem(BaseModel):
    """One reason a request was refused."""

    type: str = Field(description="The kind of problem.")
    loc: list[str | int] = Field(description="Where in the request it is.")
    msg: str = Field(description="What is wrong and what to send instead.")


class Problem(BaseModel):
    """A refused request (422, as FastAPI's own validation errors)."""

    detail: list[ProblemItem]
