"""Run ids across processes: unique, sorted by time, valid as dataset versions."""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from unittest import mock

from kedro.framework.hooks import hook_impl
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession
from kedro_runtime.run_id import generate_run_id

PROCESSES, RUNS = 4, 50
SAME_MILLISECOND = "2026-11-30T05.00.00.000Z"
KEDRO_VERSION = r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z"


def versioned_clean_orders(project: Path) -> Path:
    """Make ``clean_orders`` a versioned pickle; return its versions folder."""
    with (project / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(
            "\nclean_orders:\n"
            "  type: pickle.PickleDataset\n"
            "  filepath: data/02_intermediate/clean_orders.pkl\n"
            "  versioned: true\n"
        )
    return project / "data" / "02_intermediate" / "clean_orders.pkl"


class RunIds:
    """Records the run id of every run, and of every failed one."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.failed: list[str] = []

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self.done.append(run_params["run_id"])

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        self.failed.append(f"{run_params['run_id']}: {error}")


def save_versions(
    project: Path, barrier: Barrier, results: Any
) -> None:  # pragma: no cover (runs in a spawned process)
    """One process: create a session with the others, then save 50 versions."""
    bootstrap_project(project)
    recorder = RunIds()
    barrier.wait()
    # As if every process created its session in the same millisecond: Kedro
    # names a session by the millisecond, which is the first run's id.
    with mock.patch(
        "kedro.framework.session.session.generate_timestamp",
        return_value=SAME_MILLISECOND,
    ):
        session = KedroSession.create(project)
    with session:
        session._hook_manager.register(recorder)
        for _ in range(RUNS):
            try:
                session.run(to_outputs=["clean_orders"])
            except Exception:  # recorded by on_pipeline_error
                pass
    results.put((session.session_id, recorder.done, recorder.failed))


def test_four_processes_save_versions_without_a_clash(
    make_project: Callable[..., Path],
) -> None:
    project = make_project()
    versions = versioned_clean_orders(project)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=save_versions, args=(project, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    session_ids = [session_id for session_id, _, _ in outcomes]
    run_ids = [run_id for _, done, _ in outcomes for run_id in done]
    failed = [failure for _, _, failures in outcomes for failure in failures]
    assert failed == []
    assert len(run_ids) == PROCESSES * RUNS
    assert len(set(run_ids)) == len(run_ids), "duplicate run ids"
    assert len(set(session_ids)) == PROCESSES
    for session_id, done, _ in outcomes:
        assert done[0] == session_id  # the first run has the session id, as in Kedro
    assert sorted(p.name for p in versions.iterdir()) == sorted(run_ids)


def test_generated_ids_sort_by_time_and_keep_kedros_version_prefix() -> None:
    ids = [generate_run_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    # Sorted by time at millisecond resolution; within one millisecond the
    # random part decides (issue 17: no run id predicts another).
    stamps = [run_id[:24] for run_id in ids]
    assert stamps == sorted(stamps)
    for run_id in ids[:3]:
        assert re.fullmatch(rf"{KEDRO_VERSION}-[0-9a-f]{{16}}", run_id)


def _child_id(queue: Any) -> None:  # pragma: no cover (runs in a forked process)
    queue.put(generate_run_id())


def test_a_forked_process_draws_its_own_ids() -> None:
    """Forked server workers share the parent's memory, not its run ids."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    parent = generate_run_id()
    child = context.Process(target=_child_id, args=(queue,))
    child.start()
    child_id = queue.get(timeout=30)
    child.join(timeout=30)
    assert parent.split("-")[-1] != child_id.split("-")[-1]


def test_a_session_made_by_create_has_a_unique_id(
    project_path: Path,
) -> None:
    with mock.patch(
        "kedro.framework.session.session.generate_timestamp",
        return_value=SAME_MILLISECOND,
    ):
        first = KedroSession.create(project_path)
        second = KedroSession.create(project_path)
    assert first.session_id != second.session_id
    assert re.fullmatch(rf"{KEDRO_VERSION}-[0-9a-f]{{16}}", first.session_id)
    assert first.store["session_id"] == first.session_id
    # A session constructed directly keeps the id it is given.
    assert KedroSession("my-session", project_path=project_path).session_id == (
        "my-session"
    )


def test_a_session_built_by_hand_on_kedros_timestamp_gets_a_unique_id_too(
    project_path: Path, hook_recorder: Any
) -> None:
    """The rule is __init__'s, not create's: no hand-off between the two."""
    first = KedroSession(SAME_MILLISECOND, project_path=project_path)
    second = KedroSession(SAME_MILLISECOND, project_path=project_path)
    assert first.session_id != second.session_id
    assert re.fullmatch(rf"{SAME_MILLISECOND}-[0-9a-f]{{16}}", first.session_id)
    recorder = hook_recorder(first)
    with first:
        first.run(to_outputs=["clean_orders"])
    [run] = recorder.calls_of("before_pipeline_run")
    assert run["run_params"]["run_id"] == first.session_id  # as in Kedro
