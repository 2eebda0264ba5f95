"""Per-run deadlines: a run given a ``timeout`` is stopped before its next node.

:class:`Deadlines` is a hook on the session's own hook manager (declared safe for
concurrent runs): before every node it looks up the deadline of the node's run
and raises :class:`~kedro_runtime.RunTimeoutError` once it has passed. A node
that is running is not interrupted; the run stops between nodes, its
``on_pipeline_error`` hooks fire, and the session serves the next run as usual.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kedro.framework.hooks import hook_impl

from .errors import RunTimeoutError


def check_timeout(timeout: Any) -> float | None:
    """``timeout`` if it is ``None`` or a positive, finite number of seconds.

    Raises:
        TypeError: If it is not a number (a bool is not).
        ValueError: If it is not positive and finite.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            f"`timeout` must be a number of seconds, got {type(timeout).__name__}."
        )
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(
            f"`timeout` must be a positive number of seconds, got {timeout}."
        )
    return float(timeout)


class Deadlines:
    """The deadlines of a session's runs in flight, checked before each node."""

    kedro_runtime_concurrent_safe = True

    def __init__(self) -> None:
        # Guards _deadlines: run id to (monotonic deadline, timeout given).
        self._lock = threading.Lock()
        self._deadlines: dict[str, tuple[float, float]] = {}

    @contextmanager
    def running(self, run_id: str, timeout: float | None) -> Iterator[None]:
        """Hold the deadline of run ``run_id``, ``timeout`` seconds from now.

        Args:
            run_id: The run's id.
            timeout: Seconds the run may take, or ``None`` for no deadline.

        Yields:
            Nothing; the deadline is forgotten when the block ends.
        """
        if timeout is None:
            yield
            return
        with self._lock:
            self._deadlines[run_id] = (time.monotonic() + timeout, timeout)
        try:
            yield
        finally:
            with self._lock:
                del self._deadlines[run_id]

    @hook_impl(tryfirst=True)
    def before_node_run(self, node: Any, run_id: str) -> None:
        """Stop run ``run_id`` before ``node`` if its deadline has passed.

        Raises:
            RunTimeoutError: If it has.
        """
        with self._lock:
            found = self._deadlines.get(run_id)
        if found is not None and time.monotonic() > found[0]:
            raise RunTimeoutError(
                f"Run '{run_id}' took longer than its timeout of {found[1]:g} s: "
                f"stopped before node '{node.name}'. Give it a larger timeout, or "
                f"run fewer nodes."
            )
