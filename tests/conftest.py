"""Shared fixtures: a fresh copy of the example project for every test that needs one."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from _example import copy_example
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
def hook_recorder() -> Iterator[object]:
    """``hook_recorder(session)`` registers, and returns, a hook call recorder.

    The recorder keeps ``(hook name, arguments)`` for the pipeline, node,
    context and catalog hooks, in call order, from any thread;
    ``recorder.calls_of(name)`` gives the arguments of each call to one hook.
    """
    import threading  # noqa: PLC0415

    from kedro.framework.hooks import hook_impl  # noqa: PLC0415

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, dict[str, object]]] = []
            self._lock = threading.Lock()

        def _add(self, hook: str, **kwargs: object) -> None:
            with self._lock:
                self.calls.append((hook, kwargs))

        def calls_of(self, hook: str) -> list[dict[str, object]]:
            with self._lock:
                return [kwargs for name, kwargs in self.calls if name == hook]

        def nodes_run(self) -> list[str]:
            return [call["node"].name for call in self.calls_of("before_node_run")]  # type: ignore[attr-defined]

        @hook_impl
        def after_context_created(self, context: object) -> None:
            self._add("after_context_created", context=context)

        @hook_impl
        def after_catalog_created(self, catalog: object) -> None:
            self._add("after_catalog_created", catalog=catalog)

        @hook_impl
        def before_pipeline_run(
            self, run_params: dict, pipeline: object, catalog: object
        ) -> None:
            self._add(
                "before_pipeline_run",
                run_params=run_params,
                pipeline=pipeline,
                catalog=catalog,
            )

        @hook_impl
        def after_pipeline_run(
            self, run_params: dict, run_result: dict, pipeline: object
        ) -> None:
            self._add(
                "after_pipeline_run",
                run_params=run_params,
                run_result=run_result,
                pipeline=pipeline,
            )

        @hook_impl
        def on_pipeline_error(
            self, error: Exception, run_params: dict, pipeline: object
        ) -> None:
            self._add(
                "on_pipeline_error",
                error=error,
                run_params=run_params,
                pipeline=pipeline,
            )

        @hook_impl
        def before_node_run(self, node: object, run_id: str) -> None:
            self._add("before_node_run", node=node, run_id=run_id)

        @hook_impl
        def after_node_run(self, node: object, outputs: dict, run_id: str) -> None:
            self._add("after_node_run", node=node, outputs=outputs, run_id=run_id)

        @hook_impl
        def on_node_error(self, error: Exception, node: object, run_id: str) -> None:
            self._add("on_node_error", error=error, node=node, run_id=run_id)

        @hook_impl
        def after_dataset_saved(self, dataset_name: str, node: object) -> None:
            self._add("after_dataset_saved", dataset_name=dataset_name, node=node)

    def register(session: KedroSession) -> Recorder:
        recorder = Recorder()
        session._hook_manager.register(recorder)
        return recorder

    yield register
