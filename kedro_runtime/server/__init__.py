"""Serve a Kedro project over HTTP from one warm kedro-runtime session.

Needs the ``server`` extra (FastAPI and uvicorn: ``pip install -e ".[server]"``
from a clone, or ``pip install fastapi uvicorn``), then
run ``kedro server start`` in the project, or build the app yourself with
:func:`create_app`. :func:`warm_session` needs no web framework.

Names are imported on first use, so ``import kedro_runtime.server`` (and the
``kedro server`` command) works without FastAPI installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app, served_project
    from .body import TooDeepError
    from .codec import CodecError, DecodeError, EncodeError
    from .limits import RequestLimitError
    from .models import RunBody
    from .project import (
        ParallelRunnerNotAllowedError,
        RunnerNotAllowedError,
        ServedProject,
        ServerStartError,
        warm_session,
    )
    from .settings import ServerSettingsError

__all__ = [
    "CodecError",
    "DecodeError",
    "EncodeError",
    "ParallelRunnerNotAllowedError",
    "RequestLimitError",
    "RunBody",
    "RunnerNotAllowedError",
    "ServedProject",
    "ServerSettingsError",
    "ServerStartError",
    "TooDeepError",
    "create_app",
    "served_project",
    "warm_session",
]

_HOMES = {
    "create_app": ".app",
    "served_project": ".app",
    "TooDeepError": ".body",
    "CodecError": ".codec",
    "DecodeError": ".codec",
    "EncodeError": ".codec",
    "RequestLimitError": ".limits",
    "RunBody": ".models",
    "ParallelRunnerNotAllowedError": ".project",
    "RunnerNotAllowedError": ".project",
    "ServedProject": ".project",
    "ServerStartError": ".project",
    "warm_session": ".project",
    "ServerSettingsError": ".settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)
