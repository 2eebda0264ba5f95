"""Run ids: unique across processes and machines, sorted by time, valid versions.

A generated id is Kedro's save-version timestamp (UTC, milliseconds) and 64
random bits drawn from :mod:`secrets` for each id, e.g.
``2026-11-25T18.40.00.123Z-3f9a1c2b7e4d5a60``. Ids sort by time at millisecond
resolution; two ids made in the same millisecond have no fixed order. No id
predicts another, and two ids are the same only if they were made in the same
millisecond and drew the same 64 bits.

Session ids: Kedro names a session by the millisecond it was made (its bare
timestamp, ``2026-11-25T18.40.00.123Z``), which two processes can share. A
kedro-runtime session given such an id (by ``KedroSession.create()`` or by hand)
takes it with 64 random bits appended (see :func:`unique_session_id`), and its
first run uses that id as run id, as in Kedro. An id a caller chose is kept as
it is and is not used as a run id (the caller may give it to several sessions):
every run of such a session gets a generated id.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import deque
from datetime import datetime, timezone

from kedro.io.core import VERSION_FORMAT

from .errors import RunIdError

_RANDOM_BYTES = 8
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
_KEDRO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z\Z")


def generate_run_id() -> str:
    """A new run id such as ``2026-11-25T18.40.00.123Z-3f9a1c2b7e4d5a60``.

    Kedro's save-version timestamp (UTC, milliseconds), then 64 random bits:
    unique across processes and machines, sorted by time (ids of the same
    millisecond in no fixed order), and valid as a dataset version.

    Returns:
        The run id.
    """
    return f"{_timestamp()}-{secrets.token_hex(_RANDOM_BYTES)}"


def _timestamp() -> str:
    """Now, as Kedro's save-version timestamp (UTC, milliseconds)."""
    now = datetime.now(tz=timezone.utc).strftime(VERSION_FORMAT)
    return f"{now[:-4]}{now[-1:]}"


def save_version(run_id: str) -> str:
    """The save version of a run: its id, kept in Kedro's time order.

    Kedro loads as "latest" the version whose name sorts last. A run id that
    starts with Kedro's timestamp of a moment not later than now (every
    generated id, a session's id) is its own save version. Any other id, such
    as ``"nightly"``, gets the current timestamp in front
    (``2026-11-25T18.40.00.123Z-nightly``), so that it never sorts after the
    versions of runs that start later.

    Args:
        run_id: A checked run id.

    Returns:
        The version the run saves its versioned outputs under.
    """
    now = _timestamp()
    stamp = run_id[: len(now)]
    if _KEDRO_TIMESTAMP.match(stamp) and run_id[len(now) : len(now) + 1] in ("", "-"):
        if stamp <= now:
            return run_id
    return f"{now}-{run_id}"


def unique_session_id(session_id: str) -> str:
    """The id a session takes: Kedro's bare timestamp gets 64 random bits.

    Args:
        session_id: The id the session was given (by Kedro's ``create``, a
            timestamp; by a caller constructing a session, any id).

    Returns:
        ``session_id`` with ``-`` and 16 hex digits appended if it is a bare
        Kedro timestamp, else ``session_id``.
    """
    if isinstance(session_id, str) and _KEDRO_TIMESTAMP.match(session_id):
        return f"{session_id}-{secrets.token_hex(_RANDOM_BYTES)}"
    return session_id


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

    Thread-safe. The session's first run gets the session's id, as in Kedro,
    if :func:`unique_session_id` made it and the run gives no ``run_id``; every
    other run without one gets a generated id (a session id is as old as the
    session: given to a run after another, it would sort before it).
    """

    def __init__(self, first_run_id: str | None) -> None:
        """Remember no run id yet.

        Args:
            first_run_id: The id the session's first run takes if it gives
                none (the session id made by :func:`unique_session_id`), or
                ``None`` to generate it too.
        """
        self._first = first_run_id
        self._lock = threading.Lock()
        self._used: set[str] = set()
        self._order: deque[str] = deque()

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
            first, self._first = self._first, None
            if run_id is None:
                run_id = first or generate_run_id()
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
