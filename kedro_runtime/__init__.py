"""kedro-runtime: a re-entrant KedroSession that runs a Kedro project many times,
with in-memory data and per-run parameters."""

from __future__ import annotations

from .catalog import as_dataset, is_fresh_per_run, override_catalog
from .errors import (
    CatalogOverrideError,
    KedroRuntimeError,
    NestedRunError,
    PreloadError,
    PreloadTypeError,
    RunIdError,
    RunIdTypeError,
    RunOptionError,
    RuntimeDataError,
    RuntimeDataTypeError,
    RunTimeoutError,
    RuntimeParamsError,
    RuntimeParamsTypeError,
    SettingsError,
    SettingsTypeError,
    SharedFileError,
    UnreadRuntimeParamsError,
    UntrustedLoadVersionsError,
    UntrustedParamsError,
    UntrustedParamsTypeError,
)
from .options import SessionOptions
from .parameters import is_param, parse_params
from .preload import PreloadInfo
from .registry import project_snapshot
from .registry import registered_names as registered_pipeline_names
from .request import RunRequest
from .run_id import generate_run_id
from .session import KedroSession
from .session_class import runtime_session_class

__version__ = "0.1.0"

__all__ = [
    "CatalogOverrideError",
    "KedroRuntimeError",
    "KedroSession",
    "NestedRunError",
    "PreloadError",
    "PreloadInfo",
    "PreloadTypeError",
    "RunIdError",
    "RunIdTypeError",
    "RunOptionError",
    "RunRequest",
    "RunTimeoutError",
    "RuntimeDataError",
    "RuntimeDataTypeError",
    "RuntimeParamsError",
    "RuntimeParamsTypeError",
    "SessionOptions",
    "SettingsError",
    "SettingsTypeError",
    "SharedFileError",
    "UnreadRuntimeParamsError",
    "UntrustedLoadVersionsError",
    "UntrustedParamsError",
    "UntrustedParamsTypeError",
    "as_dataset",
    "generate_run_id",
    "is_fresh_per_run",
    "is_param",
    "override_catalog",
    "parse_params",
    "project_snapshot",
    "registered_pipeline_names",
    "runtime_session_class",
]
