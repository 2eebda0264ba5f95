"""Shared fixtures: a fresh copy of the example project for every test that needs one."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _example import copy_example, raw
from _hooks import PIPELINE_AND_NODE_HOOKS, HookRecorder
from _session import hook_manager
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")


def quiet_kedro_logs() -> None:
    """Kedro logs every dataset load and node at INFO; tests need only warnings.

    Called after each ``bootstrap_project``, which applies the project's logging
    configuration again.
    """
    logging.getLogger("kedro").setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def _quiet_kedro_logs() -> None:
    quiet_kedro_logs()


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    """A copy of ``examples/orders`` in a temporary directory, bootstrapped."""
    path = copy_example(tmp_path / "orders")
    bootstrap_project(path)
    quiet_kedro_logs()
    return path


@pytest.fixture
def session(project_path: Path) -> Iterator[KedroSession]:
    """A kedro-runtime session on the example project."""
    with KedroSession.create(project_path) as session:
        yield session


@pytest.fixture
def orders() -> pd.DataFrame:
    """Orders to inject instead of ``data/01_raw/orders.csv``."""
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3],
            "region": ["alpha", "beta", "alpha"],
            "product": ["widget", "gadget", "gizmo"],
            "quantity": [2, 5, 4],
        }
    )


@pytest.fixture
def prices(project_path: Path) -> pd.DataFrame:
    """The prices of the ``project_path`` copy (``data/01_raw/prices.csv``)."""
    return raw(project_path, "prices")


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as possible, so races show instead of hiding."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


# --- project variants and hook recording (session, runner and hook tests) ------

EXTRAS_PIPELINE = Path(__file__).resolve().parent / "projects" / "extras"


class ProjectFactory:
    """Makes variants of ``examples/orders``, each under a package name of its own.

    A fresh package name means edited or added node code is imported afresh,
    whatever other tests imported before. The returned directory is named after
    the package, so ``path.name`` is the package to import node modules from.
    """

    _count = 0

    def __init__(self, tmp_path: Path) -> None:
        self._tmp_path = tmp_path
        self.packages: list[str] = []

    def __call__(self, *, extras: bool = False) -> Path:
        """Copy the example project, rename its package and bootstrap it.

        With ``extras``, the ``tests/projects/extras`` pipeline (a two-output
        node ``split``, ``count`` and a ``checkpoint`` node that raises when
        ``params:fail`` is true) is added, and ``fail: false`` to the parameters.
        """
        ProjectFactory._count += 1
        package = f"orders_variant_{ProjectFactory._count}"
        path = copy_example(self._tmp_path / package)
        (path / "src" / "orders_demo").rename(path / "src" / package)
        for file in [path / "pyproject.toml", *(path / "src").rglob("*.py")]:
            file.write_text(file.read_text().replace("orders_demo", package))
        if extras:
            shutil.copytree(
                EXTRAS_PIPELINE,
                path / "src" / package / "pipelines" / "extras",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
            with (path / "conf" / "base" / "parameters.yml").open("a") as file:
                file.write("fail: false\n")
        self.packages.append(package)
        bootstrap_project(path)
        quiet_kedro_logs()
        return path

    def forget(self) -> None:
        """Drop the variants' modules, so they do not pile up in the process."""
        for name in list(sys.modules):
            if name.split(".")[0] in self.packages:
                del sys.modules[name]


@pytest.fixture
def make_project(tmp_path: Path) -> Iterator[ProjectFactory]:
    """A factory of example-project variants (see ``ProjectFactory``)."""
    factory = ProjectFactory(tmp_path)
    yield factory
    factory.forget()


@pytest.fixture
def hook_recorder() -> Iterator[Callable[[KedroSession], HookRecorder]]:
    """``hook_recorder(session)`` registers, and returns, a hook call recorder.

    The recorder (a ``HookRecorder``) keeps ``(hook name, arguments)`` for the
    pipeline, node, context and catalog hooks and ``after_dataset_saved``, in
    call order, from any thread; ``recorder.calls_of(name)`` gives the arguments
    of each call to one hook, ``recorder.nodes_run()`` the nodes started.
    """

    def register(session: KedroSession) -> HookRecorder:
        recorder = HookRecorder(hooks=PIPELINE_AND_NODE_HOOKS)
        hook_manager(session).register(recorder)
        return recorder

    yield register


@pytest.fixture
def recorder(session: KedroSession, hook_recorder: Any) -> Any:
    """A ``hook_recorder`` recorder, registered on the ``session`` fixture."""
    return hook_recorder(session)
