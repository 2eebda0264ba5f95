"""The warm-run promise, by counting calls: after the first run, no config is read,
no catalog is built from config and no subprocess is started.

Every spy is installed before the session is created, and each test first checks
that the spy did see the first (cold) run do the work, so a spy that watches the
wrong function makes the test fail instead of passing vacuously.
"""

from __future__ import annotations

import builtins
import itertools
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.context import KedroContext
from kedro.io import DataCatalog
from kedro.runner import ThreadRunner
from pytest_mock import MockerFixture

from kedro_runtime import KedroSession


@dataclass
class Spies:
    """Call counters on everything a warm run must not do."""

    project: Path
    mocks: dict[str, Any] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Calls per spied function, and config files opened."""
        counts = {name: mock.call_count for name, mock in self.mocks.items()}
        counts["open(conf/...)"] = len(self.config_files_opened())
        return counts

    def config_files_opened(self) -> list[str]:
        conf = str(self.project / "conf")
        return [path for path in self.opened if path.startswith(conf)]

    def reset(self) -> None:
        for mock in self.mocks.values():
            mock.reset_mock()
        self.opened.clear()


@pytest.fixture
def spies(project_path: Path, mocker: MockerFixture) -> Spies:
    """Spies on config loading, catalog building, subprocesses and ``open``."""
    spies = Spies(project_path)
    spies.mocks["OmegaConfigLoader.__getitem__"] = mocker.spy(
        OmegaConfigLoader, "__getitem__"
    )
    spies.mocks["OmegaConfigLoader._read_raw_config"] = mocker.spy(
        OmegaConfigLoader, "_read_raw_config"
    )
    spies.mocks["OmegaConfigLoader.__init__"] = mocker.spy(
        OmegaConfigLoader, "__init__"
    )
    spies.mocks["KedroContext._get_catalog"] = mocker.spy(KedroContext, "_get_catalog")
    spies.mocks["DataCatalog.from_config"] = mocker.spy(DataCatalog, "from_config")
    spies.mocks["subprocess.Popen"] = mocker.patch.object(
        subprocess, "Popen", wraps=subprocess.Popen
    )
    spies.mocks["subprocess.check_output"] = mocker.patch.object(
        subprocess, "check_output", wraps=subprocess.check_output
    )
    spies.mocks["subprocess.run"] = mocker.patch.object(
        subprocess, "run", wraps=subprocess.run
    )
    real_open = builtins.open

    def recording_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        spies.opened.append(str(file))
        return real_open(file, *args, **kwargs)

    mocker.patch.object(builtins, "open", side_effect=recording_open)
    return spies


def cold_start(spies: Spies, **create: Any) -> KedroSession:
    """Create a session and make its first run; check the spies saw the work."""
    session = KedroSession.create(spies.project, **create)
    session.run()
    counts = spies.counts()
    for name in (
        "OmegaConfigLoader.__init__",
        "OmegaConfigLoader._read_raw_config",
        "KedroContext._get_catalog",
        "DataCatalog.from_config",
        "subprocess.Popen",
        "open(conf/...)",
    ):
        assert counts[name] > 0, f"the spy on {name} saw nothing of the cold start"
    spies.reset()
    return session


def assert_cold_work_not_repeated(spies: Spies) -> None:
    counts = spies.counts()
    assert counts == dict.fromkeys(counts, 0), (
        f"a warm run did cold-start work: {counts}; "
        f"config files opened: {spies.config_files_opened()}"
    )


RUN_IDS = itertools.count()
WarmRun = Callable[[KedroSession, pd.DataFrame], object]

WARM_RUNS: dict[str, WarmRun] = {
    "plain": lambda s, df: s.run(),
    "runtime_data": lambda s, df: s.run(runtime_data={"orders": df}),
    "params_outside_interpolation": lambda s, df: s.run(
        runtime_data={"orders": df}, runtime_params={"top_n": 1, "currency": "USD"}
    ),
    "nested_param": lambda s, df: s.run(runtime_params={"discount.rate": 0.2}),
    "filtered_pipeline": lambda s, df: s.run(
        pipeline_names=["orders"],
        tags=["pricing"],
        runtime_data={"with_revenue": df.assign(revenue=1.0)},
    ),
    "thread_runner": lambda s, df: s.run(
        runner=ThreadRunner(max_workers=2), runtime_data={"orders": df}
    ),
    "run_id": lambda s, df: s.run(run_id=f"warm-run-{next(RUN_IDS)}"),
}


@pytest.mark.parametrize("name", list(WARM_RUNS))
def test_warm_run_does_no_cold_start_work(
    spies: Spies, orders: pd.DataFrame, name: str
) -> None:
    session = cold_start(spies)
    with session:
        for _ in range(3):
            WARM_RUNS[name](session, orders)
            assert_cold_work_not_repeated(spies)


def test_many_kinds_of_warm_runs_in_a_row(spies: Spies, orders: pd.DataFrame) -> None:
    session = cold_start(spies, runtime_params={"vat_rate": 0.1})
    with session:
        for run in WARM_RUNS.values():
            run(session, orders)
        session.load_context()
    assert_cold_work_not_repeated(spies)


@pytest.mark.parametrize(
    "params",
    [{"factor": 2}, {"derived": 5}, {"region": "eu"}, {"region": "us", "factor": 3}],
    ids=["feeds-derived", "replaces-derived", "catalog-path", "both"],
)
def test_runs_that_feed_interpolation_read_no_config_file(
    spies: Spies, orders: pd.DataFrame, params: dict[str, Any]
) -> None:
    """These runs resolve config again, from the parse cached at the first build."""
    session = cold_start(spies)
    with session:
        for _ in range(2):
            result = session.run(runtime_data={"orders": orders}, runtime_params=params)
            assert_cold_work_not_repeated(spies)
    # The new values were used, so resolution did happen.
    factor = params.get("derived", params.get("factor", 1.0))
    assert result["headline"].load().endswith(f"(factor {factor})")  # type: ignore[index]
    if "region" in params:
        summary = (
            spies.project / "data" / "08_reporting" / f"summary_{params['region']}.csv"
        )
        assert summary.is_file()


def test_reload_does_the_cold_start_work_again(spies: Spies) -> None:
    """The counters are not blind: a reload makes the next run read config again."""
    session = cold_start(spies)
    with session:
        session.reload()
        session.run()
    counts = spies.counts()
    assert counts["OmegaConfigLoader._read_raw_config"] > 0
    assert counts["KedroContext._get_catalog"] == 1
    assert counts["open(conf/...)"] > 0


def test_warm_up_does_the_cold_start_work_before_the_first_run(
    spies: Spies, orders: pd.DataFrame
) -> None:
    """A service calls warm_up() at startup: its first request is a warm run."""
    with KedroSession.create(spies.project) as session:
        session.warm_up()
        assert spies.counts()["KedroContext._get_catalog"] == 1
        spies.reset()
        session.run(runtime_data={"orders": orders})
        assert_cold_work_not_repeated(spies)


def test_the_same_runtime_params_reuse_their_resolution(
    project_path: Path, mocker: MockerFixture, orders: pd.DataFrame
) -> None:
    """``derived: ${factor}`` is a plain lookup: same params, same values."""
    from kedro_runtime import _kedro_private  # noqa: PLC0415

    resolve = mocker.spy(_kedro_private, "resolve_raw_config")
    with KedroSession.create(project_path) as session:
        session.run()
        resolve.reset_mock()
        headlines = [
            session.run(runtime_data={"orders": orders}, runtime_params=params)[
                "headline"
            ].load()
            for params in ({"factor": 2}, {"factor": 2}, {"factor": 3}, {"factor": 2})
        ]
    keys = [call.args[1] for call in resolve.call_args_list]
    assert keys == ["parameters", "parameters"], "factor 2 and 3, once each"
    assert [h.endswith("(factor 2)") for h in headlines] == [True, True, False, True]
    assert headlines[2].endswith("(factor 3)")


def test_params_with_a_custom_resolver_are_resolved_on_every_run(
    make_project: Callable[..., Path], hook_recorder: Any
) -> None:
    """A resolver may give a new value each time: nothing is reused."""
    import sys  # noqa: PLC0415

    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    path = make_project()
    settings = path / "src" / path.name / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nimport itertools\n_ticks = itertools.count()\n"
        + "CONFIG_LOADER_ARGS = {'base_env': 'base', 'default_run_env': 'local', "
        + "'custom_resolvers': {'tick': lambda: next(_ticks)}}\n"
    )
    sys.modules.pop(f"{path.name}.settings", None)
    with (path / "conf" / "base" / "parameters.yml").open("a") as file:
        file.write("stamp: ${tick:}\n")
    bootstrap_project(path)
    with KedroSession.create(path) as session:
        recorder = hook_recorder(session)
        for _ in range(3):
            session.run(runtime_params={"factor": 2})
    stamps = [
        call["catalog"].load("params:stamp")
        for call in recorder.calls_of("before_pipeline_run")
    ]
    assert len(set(stamps)) == 3, stamps
