"""Claims on files that hold across the processes of one machine.

A session's :class:`~kedro_runtime.shared_files.InFlightFiles` sees the runs of
its own process only. With the session option ``shared_files_across_processes``
(on for services: the server's worker processes, Dask workers), a run also holds,
for its whole time, a reader/writer lock per non-versioned file it touches: a
write lock on each path it saves, a read lock on each path it only loads. Runs of
other processes that save a path this run saves or loads, or load a path it
saves, then clash with it as runs of one process do.

The locks are ``filelock.ReadWriteLock`` s, one small SQLite file per path, in a
folder of the system's temporary directory that only the current user may
enter, named by a hash of the path (:func:`lock_folder`). They are taken in the
order of their paths, so two runs that wait for each other's files cannot
deadlock. Only processes of one machine see each other's claims.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from filelock import ReadWriteLock, Timeout

from .errors import SharedFileError

logger = logging.getLogger(__name__)


def lock_folder() -> Path:
    """The folder of the lock files: ``<tmp>/kedro-runtime-files-<user id>``.

    Returns:
        The folder, made (readable by its user only) if it did not exist.

    Raises:
        SharedFileError: If the folder is a link, belongs to another user or
            others may enter it (someone could then hold or forge claims).
    """
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = (
        Path(tempfile.gettempdir())
        / f"kedro-runtime-files-{'user' if uid is None else uid}"
    )
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if uid is not None and (
        not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077
    ):
        raise SharedFileError(
            f"The folder of kedro-runtime's file locks, '{folder}', is not a "
            f"folder of this user that only this user may enter. Remove it; it "
            f"is made again as it should be."
        )
    return folder


def _lock_file(folder: Path, path: str) -> Path:
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()
    return folder / f"{digest[:32]}.lock"


@contextmanager
def hold_across_processes(
    saves: dict[str, str],
    loads: dict[str, str],
    *,
    wait: bool,
    refusal: Callable[[str, str, str], str],
    warning: Callable[[str, str, str], str] | None = None,
) -> Iterator[None]:
    """Hold write locks on ``saves`` and read locks on ``loads`` for the block.

    Args:
        saves: Path to dataset name, for each file the run saves.
        loads: The same for the files it loads (those it also saves are
            held for writing only).
        wait: Wait for a path held by another process (``False``: refuse).
        refusal: Makes the message of the ``SharedFileError`` from a dataset
            name, a path and what the run does with it (``saves``, ``reads``).
        warning: Makes the message logged before waiting, if any.

    Yields:
        Nothing; every lock is released when the block ends.

    Raises:
        SharedFileError: If ``wait`` is ``False`` and another process holds a
            path in a way that clashes.
    """
    wanted = {path: (name, True) for path, name in saves.items()}
    for path, name in loads.items():
        wanted.setdefault(path, (name, False))
    if not wanted:
        yield
        return
    folder = lock_folder()
    with ExitStack() as held:
        for path in sorted(wanted):
            name, write = wanted[path]
            lock = ReadWriteLock(_lock_file(folder, path), is_singleton=False)
            held.callback(lock.close)
            acquire = lock.acquire_write if write else lock.acquire_read
            verb = "saves" if write else "reads"
            try:
                acquire(blocking=False)
            except Timeout:
                if not wait:
                    raise SharedFileError(refusal(name, path, verb)) from None
                if warning is not None:
                    logger.warning(warning(name, path, verb))
                acquire(blocking=True)
            held.callback(lock.release)
        yield
