"""The concurrency rule: no hook runs while a process-wide lock is held."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

import pytest
from kedro.framework.hooks import hook_impl

from kedro_runtime import KedroSession
from kedro_runtime import _kedro_private as private
from kedro_runtime.registry import REGISTRY_LOCK

LOCKS = {"CONFIG_LOCK": private.CONFIG_LOCK, "REGISTRY_LOCK": REGISTRY_LOCK}


def held_locks() -> list[str]:
    """The process-wide locks that some thread holds now (tried from another one)."""
    held: list[str] = []

    def probe() -> None:
        for name, lock in LOCKS.items():
            if lock.acquire(blocking=False):
                lock.release()
            else:
                held.append(name)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return held


class LockProbe:
    """Records, for every hook it gets, which process-wide locks were held."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def note(self, hook: str) -> None:
        self.seen[hook] = held_locks()

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self.note("after_context_created")

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self.note("after_catalog_created")

    @hook_impl
    def before_pipeline_run(self, run_params: Any) -> None:
        self.note("before_pipeline_run")

    @hook_impl
    def after_pipeline_run(self, run_params: Any) -> None:
        self.note("after_pipeline_run")


def test_no_hook_runs_under_a_process_wide_lock(project_path: Path) -> None:
    probe = LockProbe()
    with KedroSession.create(project_path) as session:
        private.session_hook_manager(session).register(probe)
        session.run(runtime_params={"factor": 2, "region": "eu"})
    assert set(probe.seen) == {
        "after_context_created",
        "after_catalog_created",
        "before_pipeline_run",
        "after_pipeline_run",
    }
    assert probe.seen == {hook: [] for hook in probe.seen}


def test_a_reload_reads_config_and_pipelines_again_without_holding_locks(
    project_path: Path,
) -> None:
    probe = LockProbe()
    with KedroSession.create(project_path) as session:
        private.session_hook_manager(session).register(probe)
        session.run()
        session.reload()
        probe.seen.clear()
        session.run(pipeline_names=["orders"])
    assert probe.seen["after_context_created"] == []
    assert probe.seen["after_catalog_created"] == []
    assert held_locks() == []


LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()), threading.Condition)


@pytest.mark.parametrize(
    "module",
    [
        "kedro_runtime.hook_safety",
        "kedro_runtime.run_logging",
        "kedro_runtime._context",
        "kedro_runtime.shared_files",
        "kedro_runtime.project",
        "kedro_runtime.resolve",
        "kedro_runtime.integrations",
        "kedro_runtime.integrations.mlflow",
    ],
)
def test_no_module_level_lock_beside_the_two_process_wide_ones(module: str) -> None:
    found = [
        name
        for name, value in vars(importlib.import_module(module)).items()
        if isinstance(value, LOCK_TYPES) and value not in LOCKS.values()
    ]
    assert found == []
