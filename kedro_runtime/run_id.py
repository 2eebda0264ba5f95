"""Run ids: unique across processes and machines, sortable, valid dataset versions.

A generated id is Kedro's save-version timestamp (UTC, milliseconds), a token
drawn at random for each process (again in a forked child), and a counter of the
ids the process made in that millisecond, e.g.
``2026-11-25T18.40.00.123Z-3f9a1c2b7e4d-0000``. Ids sort by time, and within one
process in the order they were made; two processes share an id only if they drew
the same 48-bit token and made an id in the same millisecond.

Kedro's own session runs once, with its session id (Kedro's timestamp) as run id.
A kedro-runtime session made by ``KedroSession.create()`` gets a generated id as
session id instead (see :func:`new_session_ids`), and its first run uses it, so
that run id is unique across processes too.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from kedro.io.core import VERSION_FORMAT

from .errors import RunIdError

_TOKEN_BYTES = 6
_lock = threading.Lock()
_last: tuple[str, int] = ("", -1)
_token = secrets.token_hex(_TOKEN_BYTES)
_claimed_session_ids: set[str] = set()
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
_creating_session: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "kedro_runtime_creating_session", default=False
)


def _after_fork_in_child() -> None:
    """A forked child draws its own token (and a lock no thread of it holds)."""
    global _lock, _token  # noqa: PLW0603
    _lock = threading.Lock()
    _token = secrets.token_hex(_TOKEN_BYTES)


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def generate_run_id() -> str:
    """A new run id such as ``2026-11-25T18.40.00.123Z-3f9a1c2b7e4d-0000``.

    It starts with Kedro's save-version timestamp (UTC, milliseconds), then the
    process's random token and a counter for ids made in the same millisecond:
    unique across processes and machines, sorted by time (and, within a
    process, in the order they were made), and valid as a dataset version.

    Returns:
        The run id.
    """
    global _last  # noqa: PLW0603
    now = datetime.now(tz=timezone.utc).strftime(VERSION_FORMAT)
    stamp = now[:-4] + now[-1:]
    with _lock:
        last_stamp, counter = _last
        if stamp <= last_stamp:
            stamp, counter = last_stamp, counter + 1
        else:
            counter = 0
        _last = (stamp, counter)
        token = _token
    return f"{stamp}-{token}-{counter:04d}"


@contextmanager
def new_session_ids() -> Iterator[None]:
    """While active, :func:`session_id_for` gives new sessions a generated id.

    ``KedroSession.create()`` runs Kedro's ``create`` in it: Kedro names a new
    session by the millisecond it was made, which two processes can share.

    Yields:
        Nothing.
    """
    token = _creating_session.set(True)
    try:
        yield
    finally:
        _creating_session.reset(token)


def session_id_for(session_id: str) -> str:
    """The id a session takes: a generated one when made by ``create()``.

    Args:
        session_id: The id the session was given (by Kedro's ``create``, a
            timestamp; by a caller constructing a session, any id).

    Returns:
        A new run id inside :func:`new_session_ids`, else ``session_id``.
    """
    return generate_run_id() if _creating_session.get() else session_id


def claim_session_id(session_id: str) -> bool:
    """Whether a session may use its own id as the id of its first run.

    As in Kedro, the first run of a session has the session id as run id. A
    session made by ``create()`` has a generated id, unique across processes;
    a session constructed with an id another session of this process already
    claimed (or an id that is not a valid version) gets a generated run id.

    Args:
        session_id: The session's id.

    Returns:
        True the first time a valid id is claimed in this process.
    """
    if not isinstance(session_id, str) or not _VALID.match(session_id):
        return False
    with _lock:
        if session_id in _claimed_session_ids:
            return False
        _claimed_session_ids.add(session_id)
        return True


def check_run_id(run_id: object) -> str:
    """Check that a caller's run id can name a dataset version.

    Args:
        run_id: The id a caller gave.

    Returns:
        The run id.

    Raises:
        RunIdError: If it is not a non-empty string made of letters, digits,
            ``.``, ``_``, ``:`` and ``-`` that starts with a letter or digit.
    """
    if not isinstance(run_id, str) or not _VALID.match(run_id) or len(run_id) > 128:
        raise RunIdError(
            f"run_id {run_id!r} cannot be used as a dataset save version: use a "
            f"string of at most 128 letters, digits, '.', '_', ':' or '-' that "
            f"starts with a letter or digit, or leave run_id out to get one "
            f"generated."
        )
    return run_id


RUN_ID_MEMORY = 100_000
"""How many of its latest run ids a session remembers, to refuse a reused one.

Bounded so that a long-lived session does not grow with every run (about 100
bytes an id). An older id reused for a versioned dataset is still refused by
Kedro itself: a version that exists on disk is never overwritten."""


class RunIds:
    """The run ids one session has used: gives each run its own.

    Thread-safe. The first run without a ``run_id`` gets the session's id, as
    in Kedro (see :func:`claim_session_id`); later ones a generated id.
    """

    def __init__(self, session_id: str) -> None:
        """Remember no run id yet.

        Args:
            session_id: The id of the session.
        """
        self._session_id = session_id
        self._lock = threading.Lock()
        self._used: set[str] = set()
        self._order: deque[str] = deque()
        self._session_id_offered = False

    def __len__(self) -> int:
        """How many run ids are remembered (at most :data:`RUN_ID_MEMORY`)."""
        return len(self._used)

    def reserve(self, run_id: str | None) -> str:
        """Take ``run_id`` for a run, or a new id when it is ``None``.

        Args:
            run_id: A checked run id (see :func:`check_run_id`), or ``None``.

        Returns:
            The run's id.

        Raises:
            RunIdError: If ``run_id`` is one of the latest ids used.
        """
        with self._lock:
            if run_id is None:
                first = not self._session_id_offered
                self._session_id_offered = True
                use_session_id = (
                    first
                    # A caller may have passed the session id as an explicit run id.
                    and self._session_id not in self._used
                    and claim_session_id(self._session_id)
                )
                run_id = self._session_id if use_session_id else generate_run_id()
            if run_id in self._used:
                raise RunIdError(
                    f"run_id '{run_id}' was already used in this session: every run "
                    f"needs its own id (it is the save version of versioned "
                    f"datasets). Leave run_id out to get a new one generated."
                )
            self._used.add(run_id)
            self._order.append(run_id)
            if len(self._order) > RUN_ID_MEMORY:
                self._used.discard(self._order.popleft())
        return run_id
