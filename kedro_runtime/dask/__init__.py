"""Scale out over Dask: many runs of one project, one warm session per worker.

Needs the ``dask`` extra (``pip install -e ".[dask]"`` from a clone, or
``pip install "dask[distributed]"``). See
``docs/scale-out.md``.
"""

from __future__ import annotations

from ._requests import UnpicklableRuntimeDataError
from ._results import RunError, RunResult
from ._run_many import iter_run_many, local_cluster, run_many
from ._worker import KedroSessionPlugin

__all__ = [
    "KedroSessionPlugin",
    "RunError",
    "RunResult",
    "UnpicklableRuntimeDataError",
    "iter_run_many",
    "local_cluster",
    "run_many",
]
