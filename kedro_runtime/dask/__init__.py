"""Scale out over Dask: many runs of one project, one warm session per worker.

Needs the ``dask`` extra: ``pip install "kedro-runtime[dask]"``. See
``docs/scale-out.md``.
"""

from __future__ import annotations

from ._requests import UnpicklableRuntimeDataError
from ._results import RunError, RunResult
from ._run_many import run_many
from ._worker import KedroSessionPlugin

__all__ = [
    "KedroSessionPlugin",
    "RunError",
    "RunResult",
    "UnpicklableRuntimeDataError",
    "run_many",
]
