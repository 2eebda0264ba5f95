"""What a run sends back to the caller: small values that pickle across processes."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunError:
    """Why a run failed, without the exception object itself.

    Exceptions raised in node code may not pickle, or may need the project's
    code to unpickle; their type name, message and formatted traceback always do.

    Attributes:
        type: Qualified name of the exception class, e.g. ``"builtins.RuntimeError"``.
        message: ``str()`` of the exception.
        traceback: The formatted traceback, as text.
    """

    type: str
    message: str
    traceback: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> RunError:
        """The error value of an exception.

        Args:
            exc: The exception a run raised.

        Returns:
            Its type name, message and formatted traceback.
        """
        kind = type(exc)
        return cls(
            type=f"{kind.__module__}.{kind.__qualname__}",
            message=str(exc),
            traceback="".join(traceback.format_exception(kind, exc, exc.__traceback__)),
        )

    def __str__(self) -> str:
        return f"{self.type.rsplit('.', 1)[-1]}: {self.message}"


@dataclass(frozen=True)
class RunResult:
    """The result of one request of :func:`kedro_runtime.dask.run_many`.

    Attributes:
        index: Position of the request in the caller's iterable.
        run_id: Id of the attempt that produced this result (the save version
            of its versioned outputs); None if no attempt got to run.
        outputs: Output name to loaded data; empty when the run failed.
        error: None for a successful run, else why it failed.
        duration: Seconds the run took on the worker (0.0 if it never ran).
        worker: Address of the worker that ran it, if any.
        reused: Names of the nodes whose results the worker's node cache
            reused instead of running them (``run_many(..., node_cache=True)``);
            empty without the cache.
    """

    index: int
    run_id: str | None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: RunError | None = None
    duration: float = 0.0
    worker: str | None = None
    reused: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the run succeeded."""
        return self.error is None
