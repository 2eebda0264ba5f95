"""How tests reach what a session keeps to itself: its base catalog, its hooks.

This module is the one place the tests read a session's private state:
``session._project`` (whether the base catalog is built yet cannot be asked
without building it) and Kedro's hook manager (a session has no public way to
register a hook object of a test), read through kedro-runtime's adapter of
Kedro's private APIs. Everything else goes through the public API.
"""

from __future__ import annotations

from typing import Any

from kedro.framework.session import KedroSession as KedroOwnSession
from kedro.io import DataCatalog

from kedro_runtime import KedroSession
from kedro_runtime import _kedro_private as private


def built_base_catalog(session: KedroSession) -> DataCatalog | None:
    """The session's base catalog if it is built yet, else ``None``; builds nothing.

    Args:
        session: A kedro-runtime session.

    Returns:
        The catalog every run layers over, or ``None`` before the first run (or
        ``context.catalog``) and after ``reload()``.
    """
    project = session._project
    return None if project is None else project.catalog


def base_catalog(session: KedroSession) -> DataCatalog:
    """The session's base catalog, which must be built already.

    Read the documented way, ``session.load_context().catalog``, after checking
    that it is built, so that reading it builds nothing and fires no hook; and
    checked to be the very catalog the session holds.

    Args:
        session: A kedro-runtime session that has built its base catalog.

    Returns:
        The catalog every run layers over.
    """
    built = built_base_catalog(session)
    assert built is not None, "the session has not built its base catalog yet"
    catalog = session.load_context().catalog
    assert catalog is built, "context.catalog is not the session's base catalog"
    return catalog


def hook_manager(session: KedroOwnSession) -> Any:
    """The pluggy manager that calls the hooks of ``session`` (Kedro's or ours).

    Args:
        session: A Kedro session, of any session class.

    Returns:
        Its hook manager: ``register``/``unregister`` a test's hook objects.
    """
    return private.session_hook_manager(session)


def turn_lock(session: KedroSession) -> Any:
    """The re-entrant lock through which the runs of ``session`` take turns.

    Args:
        session: A kedro-runtime session.

    Returns:
        The lock its run guard owns (see ``kedro_runtime.hook_safety``).
    """
    return session._guard.turn


def run_logging_of(session: KedroSession) -> Any:
    """The ``SummaryLogging`` of a summary-mode session (``None`` otherwise).

    Args:
        session: A kedro-runtime session.

    Returns:
        What the session owns for summary logging (see
        ``kedro_runtime.run_logging``).
    """
    return session._run_logging
