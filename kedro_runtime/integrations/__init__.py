"""Integrations with plugins, outside the core: each is active only if its plugin is.

:data:`DEFAULT_RUN_SCOPES` is the value of ``settings.RUN_SCOPES`` when a
project does not set it: :func:`kedro_runtime.integrations.mlflow.mlflow_run_scope`
when kedro-mlflow is installed, else nothing. No module here imports a
plugin's package: each reads it from ``sys.modules`` when a run ends.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from .mlflow import mlflow_run_scope

RunScope = Callable[[str], AbstractContextManager[Any]]
"""A run scope: ``scope(run_id)`` returns the context manager around one run."""


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


DEFAULT_RUN_SCOPES: tuple[RunScope, ...] = (
    (mlflow_run_scope,) if _installed("kedro_mlflow") else ()
)
"""The run scopes when ``settings.RUN_SCOPES`` is not set."""

__all__ = ["DEFAULT_RUN_SCOPES", "RunScope", "mlflow_run_scope"]
