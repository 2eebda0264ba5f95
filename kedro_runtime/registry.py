"""The one owner, in kedro-runtime, of Kedro's process-wide pipeline registry.

``kedro.framework.project.pipelines`` is one object for the whole process. Which
pipelines it loads is set with ``set_requested()`` and read back on the next
access: two threads that each request their pipelines and then read would read
each other's selection. Every access kedro-runtime makes (sessions and server
alike) therefore goes through this module, under :data:`REGISTRY_LOCK`.

Under the lock runs the project's ``register_pipelines()`` (when a name is first
loaded) and Kedro's parameter validation; no hook is ever called under it.
Lock order: :data:`REGISTRY_LOCK` may be held while taking the config lock of
:mod:`kedro_runtime._kedro_private`, never the other way round.
"""

from __future__ import annotations

import difflib
import textwrap
import threading
from typing import TYPE_CHECKING, Any

from kedro.framework.project import configure_project, pipelines

from . import _kedro_private as private

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.framework.startup import ProjectMetadata
    from kedro.inspection.models import ProjectSnapshot
    from kedro.pipeline import Pipeline

REGISTRY_LOCK = threading.RLock()
"""Held for every read of Kedro's pipeline registry and every change of it."""


def load_pipeline(name: str) -> Pipeline:
    """The registered pipeline ``name``, loading only that one when it can.

    Args:
        name: A registered pipeline name.

    Returns:
        The pipeline.

    Raises:
        ValueError: If ``register_pipelines()`` does not return ``name``, with
            the closest registered names (Kedro's message).
        Exception: Whatever loading the registry raised, for a broken one.
    """
    with REGISTRY_LOCK:
        pipelines.set_requested([name])
        try:
            pipeline: Pipeline = pipelines[name]
        except (KeyError, ImportError) as exc:
            # A registry that calls find_pipelines(raise_errors=True) raises
            # ImportError for a requested name without a pipeline module: load
            # every pipeline to tell an unknown name from a broken module.
            pipelines.set_requested(None)
            try:
                registered = dict(pipelines.items())
            except Exception:
                raise exc from None
            if name not in registered:
                raise _unknown(name, registered) from exc
            pipeline = registered[name]
        return pipeline


def _unknown(name: str, registered: dict[str, Pipeline]) -> ValueError:
    matches = difflib.get_close_matches(name, list(registered))
    hint = (
        "Did you mean one of these instead?\n"
        + textwrap.indent("\n".join(matches), " " * 4)
        if matches
        else ""
    )
    return ValueError(
        f"Failed to find the pipeline named '{name}'. It needs to be "
        f"generated and returned by the 'register_pipelines' function. "
        f"{hint}"
    )


def validate_parameters(context: KedroContext, names: list[str] | None) -> None:
    """Have ``context`` validate its parameters against the pipelines ``names``.

    Kedro's context validates parameters (reading the registry) when its
    catalog is built, and caches the result; doing it here, under the lock,
    lets the catalog be built (and ``after_catalog_created`` fire) without it.

    Args:
        context: The session's context.
        names: The pipelines to validate against; ``None`` for every one.

    Raises:
        Exception: Whatever Kedro's validation raised.
    """
    with REGISTRY_LOCK:
        pipelines.set_requested(None if names is None else list(names))
        private.validated_params(context, names)


def registered_names() -> list[str]:
    """Every registered pipeline name.

    Returns:
        The names, in the registry's order.

    Raises:
        Exception: Whatever ``register_pipelines()`` raised.
    """
    with REGISTRY_LOCK:
        pipelines.set_requested(None)
        return list(pipelines.keys())


def reconfigure(package_name: str) -> None:
    """Configure the project again, so that the registry loads anew.

    Args:
        package_name: The project's package.
    """
    with REGISTRY_LOCK:
        configure_project(package_name, preserve_logging=True)


def project_snapshot(
    metadata: ProjectMetadata,
    env: str | None,
    conf_source: str | None,
    runtime_params: dict[str, Any] | None,
) -> ProjectSnapshot:
    """Kedro's ``get_project_snapshot`` of every pipeline, under both locks.

    It reads the registry and resolves config, so it holds this module's lock
    and then the config lock.

    Args:
        metadata: The project's metadata (from ``bootstrap_project``).
        env: The configuration environment.
        conf_source: The configuration source.
        runtime_params: Parameters to resolve the config with.

    Returns:
        The snapshot.
    """
    from kedro.inspection import get_project_snapshot  # noqa: PLC0415

    with REGISTRY_LOCK, private.CONFIG_LOCK:
        pipelines.set_requested(None)
        return get_project_snapshot(
            metadata=metadata,
            env=env,
            conf_source=conf_source,
            runtime_params=runtime_params,
        )
