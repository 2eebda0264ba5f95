"""A run started from inside a run of the same session that would wait for it is refused.

Each nested run is started by a hook of the parent run in the thread where a
node of the parent runs (as a node calling ``session.run`` would be); the
parent runs in a daemon thread joined with a timeout, so that a regression
fails the test instead of hanging it.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from _session import hook_manager
from kedro.framework.hooks import hook_impl
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.runner import AbstractRunner, SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession, NestedRunError

WAIT = 120  # seconds; only reached when the behaviour under test is broken


class RunsItsOwnSession:
    """At the first node of the parent run, runs the same session (not safe)."""

    def __init__(self, session: KedroSession, params: dict[str, Any]) -> None:
        self.session = session
        self.params = params
        self.nested: list[BaseException | dict[str, Any]] = []
        self._started = False

    @hook_impl
    def before_node_run(self, run_id: str) -> None:
        if run_id != "parent" or self._started:
            return
        self._started = True
        try:
            self.nested.append(self.session.run(runtime_params=self.params))
        except NestedRunError as error:
            self.nested.append(error)


def _run_parent(session: KedroSession, runner: AbstractRunner) -> None:
    """Run the parent in a daemon thread; fail if it has not ended in time."""
    failed: list[BaseException] = []

    def parent() -> None:
        try:
            session.run(runner=runner, run_id="parent")
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=parent, daemon=True)
    thread.start()
    thread.join(timeout=WAIT)
    assert not thread.is_alive(), "the nested run waits for its parent forever"
    assert failed == []


def test_a_node_in_a_thread_runner_worker_cannot_run_its_own_session(
    session: KedroSession,
) -> None:
    # Its own output file: only the session's turn is shared.
    hook = RunsItsOwnSession(session, {"region": "nested"})
    hook_manager(session).register(hook)
    _run_parent(session, ThreadRunner(max_workers=2))
    [error] = hook.nested
    assert isinstance(error, NestedRunError)
    assert isinstance(error, KedroSessionError)
    assert "inside run 'parent'" in str(error)
    assert "another session" in str(error)
    session.run()  # the session stays usable


@pytest.mark.parametrize("mode", ["warn", "wait", "error"])
@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_a_nested_run_that_shares_a_file_with_its_parent_is_refused(
    project_path: Any, mode: str, runner: type[AbstractRunner]
) -> None:
    with KedroSession.create(project_path, shared_files=mode) as session:
        hook = RunsItsOwnSession(session, {})  # the parent's output files
        hook_manager(session).register(hook)
        _run_parent(session, runner())
        [error] = hook.nested
        assert isinstance(error, NestedRunError)
        assert "shares a file with it" in str(error)
        assert "another session" in str(error)


def test_a_nested_run_in_the_runs_thread_with_its_own_files_goes_ahead(
    session: KedroSession,
) -> None:
    hook = RunsItsOwnSession(session, {"region": "nested"})
    hook_manager(session).register(hook)
    _run_parent(session, SequentialRunner())
    [outputs] = hook.nested
    assert isinstance(outputs, dict)
    assert outputs  # the nested run ran to the end, inside its parent
