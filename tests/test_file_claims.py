"""A service session's runs hold their files against other processes too (issue 18,
finding 6: the shared-files guard saw the runs of its own process only)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kedro_runtime import KedroSession, SessionOptions, SharedFileError
from kedro_runtime.file_claims import hold_across_processes, lock_folder


def _summary_path(project_path: Path) -> str:
    return str(project_path / "data" / "08_reporting" / "summary_all.csv")


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {"order_id": [1], "region": ["north"], "product": ["widget"], "quantity": [3]}
    )


def _never(name: str, path: str, verb: str) -> str:
    raise AssertionError("not refused")


def test_a_file_another_process_holds_refuses_a_service_run(
    project_path: Path,
) -> None:
    options = SessionOptions.for_service(untrusted_runtime_params=False)
    assert options.shared_files_across_processes
    with KedroSession.create(project_path, options=options) as session:
        session.run(runtime_data={"orders": _orders()})
        # What a run of another worker process holds while it saves the summary.
        with hold_across_processes(
            {_summary_path(project_path): "summary"}, {}, wait=False, refusal=_never
        ):
            with pytest.raises(SharedFileError) as info:
                session.run(runtime_data={"orders": _orders()})
        message = str(info.value)
        assert "'summary'" in message and "another process" in message
        assert "MemoryDataset" in message
        session.run(runtime_data={"orders": _orders()})  # released: runs again


def test_readers_share_a_file_writers_do_not(project_path: Path) -> None:
    path = _summary_path(project_path)

    def refusal(name: str, held: str, verb: str) -> str:
        return f"{name} {verb}"

    with hold_across_processes({}, {path: "summary"}, wait=False, refusal=_never):
        with hold_across_processes({}, {path: "summary"}, wait=False, refusal=_never):
            pass
        with pytest.raises(SharedFileError, match="summary saves"):
            with hold_across_processes(
                {path: "summary"}, {}, wait=False, refusal=refusal
            ):
                pass
    assert lock_folder().stat().st_mode & 0o077 == 0, "only its user may enter it"


def test_a_session_of_its_own_does_not_hold_files_across_processes(
    project_path: Path,
) -> None:
    assert not SessionOptions().shared_files_across_processes
    with KedroSession.create(project_path) as session:
        with hold_across_processes(
            {_summary_path(project_path): "summary"}, {}, wait=False, refusal=_never
        ):
            session.run(runtime_data={"orders": _orders()})
    with pytest.raises(TypeError, match="shared_files_across_processes"):
        SessionOptions(shared_files_across_processes="yes")  # type: ignore[arg-type]
