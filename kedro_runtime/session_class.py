"""Which kedro-runtime session class a project uses (``kedro run``, the server)."""

from __future__ import annotations

from kedro.framework.project import settings
from kedro.framework.session import KedroSession as KedroDefaultSession

from .session import KedroSession


def runtime_session_class() -> type[KedroSession] | None:
    """The kedro-runtime session class for this project's settings.

    Returns:
        ``settings.SESSION_CLASS`` if it is a kedro-runtime session,
        :class:`kedro_runtime.KedroSession` if it is Kedro's default session,
        ``None`` for any other class.
    """
    configured = settings.SESSION_CLASS
    if isinstance(configured, type) and issubclass(configured, KedroSession):
        return configured
    if configured is KedroDefaultSession:
        return KedroSession
    return None


def opted_in() -> bool:
    """Whether ``settings.SESSION_CLASS`` is a kedro-runtime session.

    Returns:
        True if it is :class:`kedro_runtime.KedroSession` or a subclass of it;
        False for Kedro's default session or any other class.
    """
    configured = settings.SESSION_CLASS
    return isinstance(configured, type) and issubclass(configured, KedroSession)
