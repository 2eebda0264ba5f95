"""Hooks not declared safe make runs take turns; run scopes wrap every run."""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _session import hook_manager, turn_lock
from conftest import quiet_kedro_logs
from kedro.framework.hooks import hook_impl
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession
from kedro_runtime.hook_safety import unsafe_hooks

WAIT = 60  # seconds; only reached when the behaviour under test is broken


class Visits:
    """Counts the runs inside the hooked part at once (not declared safe)."""

    def __init__(self, wait_for: threading.Event | None = None) -> None:
        self.inside = 0
        self.most = 0
        self.order: list[str] = []
        self.wait_for = wait_for
        self._lock = threading.Lock()

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.order.append("start")
        if self.wait_for is not None:
            self.wait_for.wait(WAIT)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        with self._lock:
            self.inside -= 1
            self.order.append("end")


class Meeting:
    """Both runs must be inside their hooks at once to get past the barrier."""

    kedro_runtime_concurrent_safe = True

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=WAIT)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if node.name == "clean_orders":
            self.barrier.wait()


class WarningSeen(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.seen.set()


def two_runs_at_once(session: KedroSession) -> list[BaseException]:
    start = threading.Barrier(2, timeout=WAIT)
    errors: list[BaseException] = []

    def work(factor: float) -> None:
        try:
            start.wait()
            # Its own region: its own summary file (runs overlap or not).
            session.run(runtime_params={"factor": factor, "region": f"r{factor}"})
        except BaseException as error:  # asserted on by the caller
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f,)) for f in (2.0, 3.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def with_settings(path: Path, text: str, *, append: bool = True) -> Any:
    """Add ``text`` to (or replace) the project's settings.py and bootstrap it."""
    settings = path / "src" / path.name / "settings.py"
    settings.write_text((settings.read_text() if append else "") + text)
    sys.modules.pop(f"{path.name}.settings", None)
    bootstrap_project(path)
    quiet_kedro_logs()
    return importlib.import_module(f"{path.name}.settings")


def test_runs_with_only_concurrent_safe_hooks_overlap(
    session: KedroSession, hook_recorder: Callable[[KedroSession], Any]
) -> None:
    recorder = hook_recorder(session)  # the suite's recorder is declared safe
    session.run()  # built before the threads
    hook_manager(session).register(Meeting())
    # Each run waits in its first node for the other: they must overlap.
    assert two_runs_at_once(session) == []
    assert len(recorder.calls_of("after_pipeline_run")) == 3


def test_an_unsafe_hook_makes_runs_take_turns(session: KedroSession) -> None:
    handler = WarningSeen()
    logger = logging.getLogger("kedro_runtime.hook_safety")
    logger.addHandler(handler)
    # The first run in waits until the second one is found waiting its turn.
    visits = Visits(wait_for=handler.seen)
    hook_manager(session).register(visits)
    try:
        errors = two_runs_at_once(session)
    finally:
        logger.removeHandler(handler)
    assert errors == []
    assert visits.most == 1
    assert visits.order == ["start", "end", "start", "end"]
    assert len(handler.messages) == 1
    assert "test_hook_safety.Visits" in handler.messages[0]
    assert "take turns" in handler.messages[0]


class MeetsAcrossSessions:
    """Not declared safe; two runs must be in ``before_pipeline_run`` at once."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=WAIT)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self.barrier.wait()


def test_two_sessions_that_share_an_unsafe_hook_do_not_take_turns(
    session: KedroSession, project_path: Path
) -> None:
    shared = MeetsAcrossSessions()
    errors: list[BaseException] = []

    def run(one: KedroSession, region: str) -> None:
        try:
            one.run(runtime_params={"region": region})  # its own output file
        except BaseException as error:
            errors.append(error)

    with KedroSession.create(project_path) as other:
        threads = []
        for one, region in ((session, "a"), (other, "b")):
            hook_manager(one).register(shared)
            threads.append(threading.Thread(target=run, args=(one, region)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * WAIT)
    assert errors == []  # each run met the other one inside its hooks


def test_concurrent_safe_hooks_setting_names_a_class(
    make_project: Callable[..., Path],
) -> None:
    path = make_project()
    with KedroSession.create(path) as session:
        visits = Visits()
        hook_manager(session).register(visits)
        assert [hook for _, hook in unsafe_hooks(hook_manager(session))] == [visits]
    with_settings(path, f"\nCONCURRENT_SAFE_HOOKS = ('{__name__}.Visits',)\n")
    with KedroSession.create(path) as session:
        hook_manager(session).register(Visits())
        assert unsafe_hooks(hook_manager(session)) == []


def test_a_hook_without_per_run_hooks_is_safe(session: KedroSession) -> None:
    class OncePerSession:
        @hook_impl
        def after_context_created(self, context: Any) -> None:
            pass

    hook_manager(session).register(OncePerSession())
    assert unsafe_hooks(hook_manager(session)) == []


def test_the_turn_is_per_session_and_released_when_a_hook_raises(
    session: KedroSession, project_path: Path
) -> None:
    class Fails(Visits):
        @hook_impl
        def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
            raise RuntimeError("hook failed")

    failing = Fails()
    hook_manager(session).register(failing)
    assert turn_lock(session) is turn_lock(session)
    with KedroSession.create(project_path) as other_session:
        hook_manager(other_session).register(failing)  # the same hook object
        assert turn_lock(other_session) is not turn_lock(session)
    with pytest.raises(RuntimeError, match="hook failed"):
        session.run()
    acquired: list[bool] = []

    def try_lock() -> None:
        lock = turn_lock(session)
        acquired.append(lock.acquire(blocking=False))
        if acquired[-1]:
            lock.release()

    other = threading.Thread(target=try_lock)
    other.start()
    other.join()
    assert acquired == [True]  # released although before_pipeline_run raised


SCOPE = """
import contextlib

SCOPE_LOG = []


@contextlib.contextmanager
def record(run_id):
    SCOPE_LOG.append(("enter", run_id))
    try:
        yield
    except Exception as error:
        SCOPE_LOG.append(("raised", str(error)))
        raise
    finally:
        SCOPE_LOG.append(("exit", run_id))


RUN_SCOPES = (record,)
"""


def test_run_scopes_wrap_every_run_and_exit_when_it_fails(
    make_project: Callable[..., Path],
) -> None:
    path = make_project()
    settings = with_settings(path, SCOPE)

    class Fails:
        kedro_runtime_concurrent_safe = True
        fail = False

        @hook_impl
        def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
            settings.SCOPE_LOG.append(("hook", run_params["run_id"]))
            if self.fail:
                raise RuntimeError("hook failed")

    fails = Fails()
    with KedroSession.create(path) as session:
        hook_manager(session).register(fails)
        session.run(run_id="one")
        fails.fail = True
        with pytest.raises(RuntimeError, match="hook failed"):
            session.run(run_id="two")
    assert settings.SCOPE_LOG == [
        ("enter", "one"),
        ("hook", "one"),
        ("exit", "one"),
        ("enter", "two"),
        ("hook", "two"),
        ("raised", "hook failed"),
        ("exit", "two"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CONCURRENT_SAFE_HOOKS = 'kedro-mlflow'", "list or tuple of class paths"),
        ("CONCURRENT_SAFE_HOOKS = (object,)", "each entry must be a string"),
        ("RUN_SCOPES = (1,)", "not callable"),
        ("RUN_SCOPES = (lambda run_id: 1,)", "not a context manager"),
    ],
)
def test_malformed_settings_are_a_type_error_and_the_session_stays_usable(
    make_project: Callable[..., Path], text: str, message: str
) -> None:
    path = make_project()
    original = (path / "src" / path.name / "settings.py").read_text()
    with_settings(path, f"\n{text}\n")
    with KedroSession.create(path) as session:
        hook_manager(session).register(Visits())
        with pytest.raises(TypeError, match=message):
            session.run()
        with_settings(path, original, append=False)
        assert "headline" in session.run()
