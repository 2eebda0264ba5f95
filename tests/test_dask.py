"""run_many and ``kedro sweep`` on a real LocalCluster of two worker processes."""

from __future__ import annotations

import csv
import functools
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ProjectFactory, quiet_kedro_logs
from distributed import Client, LocalCluster
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession, RunRequest
from kedro_runtime.dask import (
    RunError,
    RunResult,
    UnpicklableRuntimeDataError,
    run_many,
)
from kedro_runtime.sweep_cli import commands

SWEEP_CATALOG = """\
summary:
  type: MemoryDataset
headline:
  type: text.TextDataset
  filepath: data/08_reporting/headline.txt
  versioned: true
"""

PAUSE_PIPELINE = """\
import os
import time

from kedro.pipeline import Pipeline, node


def pause(headline: str, seconds: float, die: bool) -> str:
    if die:  # the worker process dies, as one killed or out of memory would
        os._exit(1)
    time.sleep(seconds)
    return headline


def create_pipeline(**kwargs):
    return Pipeline(
        [
            node(
                pause,
                ["headline", "params:pause", "params:die"],
                "final_headline",
                name="pause",
            )
        ]
    )
"""

QUIET_LOGGING = """\
version: 1
disable_existing_loggers: false
handlers:
  console: {class: logging.StreamHandler, level: WARNING}
root: {handlers: [console], level: WARNING}
"""

UNREACHABLE = "tcp://127.0.0.1:9"  # nothing listens: any connection attempt fails


def add_sweep_env(project: Path) -> None:
    (project / "conf" / "sweep").mkdir()
    (project / "conf" / "sweep" / "catalog.yml").write_text(SWEEP_CATALOG)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two single-threaded worker processes, shared by the tests of this module.

    The workers log at WARNING (Kedro logs every node at INFO otherwise).
    """
    logging_file = tmp_path_factory.mktemp("logging") / "logging.yml"
    logging_file.write_text(QUIET_LOGGING)
    old = os.environ.get("KEDRO_LOGGING_CONFIG")
    os.environ["KEDRO_LOGGING_CONFIG"] = str(logging_file)
    try:
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as dask_client,
        ):
            yield dask_client
    finally:
        if old is None:
            os.environ.pop("KEDRO_LOGGING_CONFIG", None)
        else:
            os.environ["KEDRO_LOGGING_CONFIG"] = old


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An example-project variant: extras (a node that fails when ``fail`` is
    set), a ``pause`` node that sleeps after the headline is saved and returns it
    as ``final_headline``, and a ``sweep`` environment with a versioned headline."""
    factory = ProjectFactory(tmp_path_factory.mktemp("dask"))
    path = factory(extras=True)
    package = path / "src" / path.name / "pipelines" / "pause"
    package.mkdir()
    (package / "__init__.py").write_text("from .pipeline import create_pipeline\n")
    (package / "pipeline.py").write_text(PAUSE_PIPELINE)
    with (path / "conf" / "base" / "parameters.yml").open("a") as file:
        file.write("pause: 0.0\ndie: false\n")
    add_sweep_env(path)
    bootstrap_project(path)
    yield path
    factory.forget()


@pytest.fixture(scope="module")
def reference(project: Path) -> Any:
    """Runs the requests one by one in one session of this process."""
    bootstrap_project(project)
    quiet_kedro_logs()
    session = KedroSession.create(project, env="sweep")

    def run(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        quiet_kedro_logs()
        expected = []
        for request in requests:
            outputs = session.run(**request)
            expected.append({name: ds.load() for name, ds in outputs.items()})
        return expected

    yield run
    session.close()


def orders_for(i: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4],
            "region": ["east", "west", "east", "north"],
            "product": ["widget", "gadget", "gizmo", "widget"],
            "quantity": [2 + i % 7, 5, 4 + i % 3, 1 + i % 5],
        }
    )


def versions(project: Path) -> dict[str, str]:
    """Save version (run id) to the headline saved under it."""
    root = project / "data" / "08_reporting" / "headline.txt"
    if not root.exists():
        return {}
    return {
        folder.name: (folder / "headline.txt").read_text()
        for folder in root.iterdir()
        if (folder / "headline.txt").exists()
    }


def test_200_runs_equal_runs_one_by_one_in_one_session(
    client: Client, project: Path, reference: Any
) -> None:
    requests = [
        {
            "runtime_params": {"factor": 1 + i / 100, "discount.rate": (i % 4) / 10},
            "runtime_data": {"orders": orders_for(i)},
        }
        for i in range(200)
    ]
    before = versions(project)
    # Every other request is sent as a RunRequest value, the rest as mappings.
    sent = [RunRequest(**r) if i % 2 else r for i, r in enumerate(requests)]
    results = run_many(project, sent, client=client, env="sweep", progress=False)
    expected = reference(requests)

    assert [r.index for r in results] == list(range(200))
    assert [r.error for r in results] == [None] * 200
    assert [r.outputs for r in results] == expected
    assert {r.outputs["final_headline"] for r in results} == {
        e["final_headline"] for e in expected
    }
    assert len({r.outputs["final_headline"] for r in results}) == 200
    # Both workers took part, and every run saved its headline under its own id.
    assert len({r.worker for r in results}) == 2
    saved = versions(project)
    assert len({r.run_id for r in results}) == 200
    for result in results:
        assert result.run_id not in before
        assert saved[result.run_id] == result.outputs["final_headline"]
        assert result.duration > 0


def test_failing_node_is_reported_and_the_other_runs_go_on(
    client: Client,
    project: Path,
    reference: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failing = {3, 7, 8}
    requests = [
        {"runtime_params": {"factor": 2 + i / 10, "fail": i in failing}}
        for i in range(12)
    ]
    results = run_many(project, requests, client=client, env="sweep")

    assert len(results) == 12
    for result in results:
        if result.index in failing:
            assert result.error is not None
            assert result.error.type == "builtins.RuntimeError"
            assert result.error.message == "checkpoint failed on purpose"
            assert "checkpoint" in result.error.traceback
            assert result.outputs == {}
            assert result.run_id is not None
            assert not result.ok
        else:
            assert result.ok
    ok = [i for i in range(12) if i not in failing]
    assert [results[i].outputs for i in ok] == reference([requests[i] for i in ok])
    progress = capsys.readouterr().err
    assert "12/12" in progress
    assert "3 failed" in progress


def test_requested_outputs_only_and_a_wrong_output_name(
    client: Client, project: Path
) -> None:
    results = run_many(
        project,
        [{"runtime_params": {"factor": 1.5}}],
        client=client,
        env="sweep",
        outputs=["final_headline"],
        progress=False,
    )
    assert results[0].outputs == {
        "final_headline": "Top region east: 591.30 EUR (factor 1.5)"
    }

    [wrong] = run_many(
        project, [{}], client=client, env="sweep", outputs=["headlin"], progress=False
    )
    assert wrong.error is not None
    assert wrong.error.type == "builtins.ValueError"
    assert "'headlin' not among the outputs" in wrong.error.message
    assert "headline" in wrong.error.message


def _kill_worker_running(client: Client, project: Path, marker: str) -> str:
    """Wait until a run saved a headline containing ``marker``, then SIGKILL the
    worker running request 8 (its run is then in its pause node)."""
    deadline = time.monotonic() + 120
    while not any(marker in text for text in versions(project).values()):
        assert time.monotonic() < deadline, "the paused run never saved its headline"
        time.sleep(0.05)
    processing = client.processing()
    [address] = [
        worker
        for worker, keys in processing.items()
        if any(str(key).endswith("-8") for key in keys)
    ]
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    return address


def test_a_worker_killed_mid_sweep_is_replaced_and_its_runs_retried(
    client: Client, project: Path, reference: Any
) -> None:
    requests: list[dict[str, Any]] = [
        {"runtime_params": {"factor": 5 + i / 100}} for i in range(30)
    ]
    requests[8]["runtime_params"]["pause"] = 2.0
    marker = "(factor 5.08)"
    before = versions(project)
    with ThreadPoolExecutor(1) as pool:
        # One request per task: the killed task held request 8 alone.
        sweep = pool.submit(
            run_many,
            project,
            requests,
            client=client,
            env="sweep",
            progress=False,
            batch_size=1,
        )
        killed = _kill_worker_running(client, project, marker)
        results = sweep.result(timeout=600)
    saved = {k: v for k, v in versions(project).items() if k not in before}
    client.wait_for_workers(2, timeout=120)

    assert [r.index for r in results] == list(range(30))
    assert [r.error for r in results] == [None] * 30
    assert [r.outputs for r in results] == reference(requests)
    assert results[8].worker != killed
    run_ids = [r.run_id for r in results]
    assert len(set(run_ids)) == 30
    for result in results:
        assert saved[result.run_id] == result.outputs["final_headline"]
    # The killed attempt's half-done run left its headline under an id that no
    # result reports; the retry saved under a new id.
    orphans = set(saved) - set(run_ids)
    assert orphans
    assert all(marker in saved[run_id] for run_id in orphans)


def _kill_worker_running_batch_of(
    client: Client, project: Path, index: int, before: dict[str, str]
) -> str:
    """Wait until request ``index``'s run saved its headline (a version not in
    ``before``), then SIGKILL the worker running the batch that holds it."""
    marker = f"(factor {6 + index / 100:.2f})"
    deadline = time.monotonic() + 120
    while not any(
        marker in text for key, text in versions(project).items() if key not in before
    ):
        assert time.monotonic() < deadline, "the paused run never saved its headline"
        time.sleep(0.05)
    [address] = [
        worker
        for worker, keys in client.processing().items()
        for key in keys
        if str(key).startswith("kedro-runs-")
        and int(str(key).split("-")[3]) <= index <= int(str(key).split("-")[4])
    ]
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    return address


def test_a_worker_killed_mid_batch_loses_no_result_and_doubles_none(
    client: Client, project: Path, reference: Any
) -> None:
    """Requests 5 to 9 travel in one task; the worker dies while request 8
    pauses, after 5, 6 and 7 are done. Their results never left the worker: the
    whole batch runs again elsewhere, each request with a new run id."""
    requests: list[dict[str, Any]] = [
        {"runtime_params": {"factor": 6 + i / 100}} for i in range(20)
    ]
    requests[8]["runtime_params"]["pause"] = 2.0
    before = versions(project)
    with ThreadPoolExecutor(1) as pool:
        sweep = pool.submit(
            run_many,
            project,
            requests,
            client=client,
            env="sweep",
            progress=False,
            batch_size=5,
        )
        killed = _kill_worker_running_batch_of(client, project, 8, before)
        results = sweep.result(timeout=600)
    saved = {k: v for k, v in versions(project).items() if k not in before}
    client.wait_for_workers(2, timeout=120)

    assert [r.index for r in results] == list(range(20))
    assert [r.error for r in results] == [None] * 20
    assert [r.outputs for r in results] == reference(requests)
    assert {results[i].worker for i in range(5, 10)} != {killed}
    run_ids = [r.run_id for r in results]
    assert len(set(run_ids)) == 20
    for result in results:
        assert saved[result.run_id] == result.outputs["final_headline"]
    # The dead attempt saved 5, 6, 7 and 8's headlines under ids no result has.
    orphans = set(saved) - set(run_ids)
    assert len(orphans) == 4
    assert sorted(saved[run_id] for run_id in orphans) == sorted(
        results[i].outputs["final_headline"] for i in range(5, 9)
    )


def test_batches_are_sized_from_run_times(
    client: Client, project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    requests = [{"runtime_params": {"factor": 1 + i / 100}} for i in range(120)]
    with caplog.at_level(logging.INFO, logger="kedro_runtime.dask"):
        results = run_many(
            project, requests, client=client, env="sweep", progress=False
        )
    assert [r.error for r in results] == [None] * 120
    [line] = [r.getMessage() for r in caplog.records if " runs in " in r.getMessage()]
    runs, tasks = re.match(r"(\d+) runs in (\d+) tasks", line).groups()  # type: ignore[union-attr]
    assert int(runs) == 120
    # One request per task until run times are known, then batches (of about
    # 0.3 s of runs: several requests each, even on a busy machine).
    assert int(tasks) < 100

    with pytest.raises(ValueError, match="`batch_size` must be 1 or more"):
        run_many(".", [{}], client=UNREACHABLE, batch_size=0)
    with pytest.raises(ValueError, match="`worker_logs` must be one of"):
        run_many(".", [{}], client=UNREACHABLE, worker_logs="loud")


def test_workers_per_run_lines_are_quiet_unless_asked_for(
    project: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers of a local cluster write to the caller's terminal (here with
    Kedro's default logging, which shows ``INFO``)."""
    monkeypatch.delenv("KEDRO_LOGGING_CONFIG", raising=False)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as own_client,
    ):
        capfd.readouterr()
        run_many(project, [{}], client=own_client, env="sweep", progress=False)
        quiet = capfd.readouterr()
        run_many(
            project,
            [{}, {"runtime_params": {"fail": True}}],
            client=own_client,
            env="sweep",
            progress=False,
            worker_logs="info",
        )
        verbose = capfd.readouterr()
        run_many(
            project,
            [{"runtime_params": {"fail": True}}],
            client=own_client,
            env="sweep",
            progress=False,
        )
        failing = capfd.readouterr()
    # Rich wraps the workers' lines to the terminal's width.
    quiet_text, verbose_text, failing_text = (
        " ".join((c.out + c.err).split()) for c in (quiet, verbose, failing)
    )
    assert "succeeded in" not in quiet_text
    assert "succeeded in" in verbose_text
    assert "failed in" in verbose_text
    assert "(request 0) failed: checkpoint failed on purpose" in failing_text
    assert "failed in" not in failing_text


def test_a_run_whose_workers_keep_dying_is_given_up_as_killed_worker(
    project: Path, reference: Any
) -> None:
    """After ``allowed-failures`` deaths Dask gives the run up and its result says
    so; the replaced worker then runs the next call's requests."""
    requests: list[dict[str, Any]] = [
        {"runtime_params": {"factor": 7.0}},
        {"runtime_params": {"factor": 8.0}},
    ]
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as own_client,
    ):
        # Alone in its call: a run on the worker when it dies counts the death
        # too (Dask's rule), so a neighbour could be given up with it.
        [dead] = run_many(
            project,
            [{"runtime_params": {"factor": 7.5, "die": True}}],
            client=own_client,
            env="sweep",
            progress=False,
        )
        own_client.wait_for_workers(1, timeout=120)
        after = run_many(
            project, requests, client=own_client, env="sweep", progress=False
        )
    assert dead.error is not None
    assert dead.error.type == "distributed.scheduler.KilledWorker", dead.error
    assert "died while running it" in dead.error.message
    assert (dead.index, dead.run_id, dead.outputs) == (0, None, {})
    assert [r.error for r in after] == [None, None]
    assert [r.outputs for r in after] == reference(requests)


def test_a_batch_given_up_as_killed_worker_is_split_so_its_neighbours_run(
    project: Path, reference: Any
) -> None:
    """Request 2 kills every worker that runs it. Its batch is given up as
    ``KilledWorker``; each of its requests is then sent alone, so 0 and 1 run
    and only 2 fails."""
    requests: list[dict[str, Any]] = [
        {"runtime_params": {"factor": 7.1}},
        {"runtime_params": {"factor": 7.2}},
        {"runtime_params": {"factor": 7.3, "die": True}},
    ]
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as own_client,
    ):
        results = run_many(
            project,
            requests,
            client=own_client,
            env="sweep",
            progress=False,
            batch_size=3,
        )
    assert [r.index for r in results] == [0, 1, 2]
    assert [r.error for r in results[:2]] == [None, None]
    assert [r.outputs for r in results[:2]] == reference(requests[:2])
    assert results[2].error is not None
    assert results[2].error.type == "distributed.scheduler.KilledWorker"
    assert (results[2].run_id, results[2].outputs) == (None, {})


def test_requests_are_checked_before_anything_is_submitted() -> None:
    with pytest.raises(UnpicklableRuntimeDataError, match="'orders'") as error:
        run_many(
            ".",
            [{}, {"runtime_data": {"orders": threading.Lock()}}],
            client=UNREACHABLE,
        )
    assert isinstance(error.value, TypeError)
    assert "Request 1" in str(error.value)

    with pytest.raises(ValueError, match="Did you mean runtime_params"):
        run_many(".", [{"runtime_param": {"factor": 2}}], client=UNREACHABLE)
    with pytest.raises(ValueError, match="'run_id'"):
        run_many(".", [{"run_id": "mine"}], client=UNREACHABLE)
    with pytest.raises(ValueError, match="'run_id'"):
        run_many(".", [RunRequest(run_id="mine")], client=UNREACHABLE)
    with pytest.raises(TypeError, match="`tags` must be a list of names"):
        run_many(".", [{"tags": "pricing"}], client=UNREACHABLE)
    with pytest.raises(TypeError, match="Request 0 is a list"):
        run_many(".", [["factor", 2]], client=UNREACHABLE)
    with pytest.raises(TypeError, match="`outputs` must be a list"):
        run_many(".", [{}], client=UNREACHABLE, outputs="headline")
    with pytest.raises(TypeError, match="`client` must be"):
        run_many(".", [{}], client=8786)  # type: ignore[arg-type]
    assert run_many(".", [], client=UNREACHABLE) == []


def test_a_mapping_request_takes_the_fields_of_run_request() -> None:
    # The deprecated aliases of session.run, and a whole request, are not fields.
    with pytest.raises(ValueError, match="Did you mean pipeline_names"):
        run_many(".", [{"pipeline_name": "data"}], client=UNREACHABLE)
    with pytest.raises(ValueError, match="'request', which is not an argument"):
        run_many(".", [{"request": RunRequest()}], client=UNREACHABLE)
    with pytest.raises(TypeError, match="Request 0 has the key 1"):
        run_many(".", [{1: "x"}], client=UNREACHABLE)


def test_preload_must_be_a_bool_or_names() -> None:
    with pytest.raises(TypeError, match="preload must be True, False or a list"):
        run_many(".", [{}], client=UNREACHABLE, preload="prices")  # type: ignore[arg-type]


def test_preload_is_forwarded_to_the_workers_sessions(
    client: Client, project: Path, reference: Any
) -> None:
    requests = [{"runtime_params": {"factor": 1 + i / 10}} for i in range(4)]
    results = run_many(
        project, requests, client=client, env="sweep", preload=True, progress=False
    )
    assert [r.error for r in results] == [None] * 4
    assert [r.outputs for r in results] == reference(requests)
    # A name the workers' sessions refuse shows the option reached them.
    refused = run_many(
        project, [{}], client=client, env="sweep", preload=["summary"], progress=False
    )
    assert refused[0].error is not None
    assert "Cannot preload 'summary'" in str(refused[0].error)


def test_node_cache_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="node_cache"):
        run_many(".", [{}], client=UNREACHABLE, node_cache="yes")  # type: ignore[arg-type]


def test_node_cache_on_one_worker_reuses_an_identical_request(
    project: Path, reference: Any
) -> None:
    request = {"runtime_params": {"factor": 1.25}}
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as one_worker,
    ):
        run = functools.partial(
            run_many, project, client=one_worker, env="sweep", progress=False
        )
        first = run([request, request], node_cache=True)
        again = run([request], node_cache=True)  # the same plugin: cache kept
        uncached = run([request])  # another setting replaces the plugin
        recached = run([request], node_cache=True)  # so this cache starts empty
    expected = reference([request])[0]
    results = [*first, *again, *uncached, *recached]
    assert [r.error for r in results] == [None] * 5
    # Outputs are equal; only versioned saves differ by run id.
    assert all(r.outputs == expected for r in results)
    assert first[0].reused == ()
    assert first[1].reused != ()
    # The same nodes a cached session of this process reuses on a second run.
    with KedroSession.create(project, env="sweep", node_cache=True) as session:
        session.run(**request)
        session.run(**request)
        report = session.last_report()
    assert report is not None
    assert first[1].reused == tuple(report.names("reused"))
    assert again[0].reused == first[1].reused
    assert uncached[0].reused == ()
    assert recached[0].reused == ()


def test_results_and_errors_unpickle_in_another_process(tmp_path: Path) -> None:
    try:
        raise KeyError("no such thing")
    except KeyError as exc:
        error = RunError.from_exception(exc)
    results = [
        RunResult(index=0, run_id="r0", outputs={"x": 1.5}, duration=0.1, worker="w"),
        RunResult(index=1, run_id="r1", error=error),
    ]
    file = tmp_path / "results.pkl"
    file.write_bytes(pickle.dumps(results))
    code = (
        "import pickle, sys; r = pickle.load(open(sys.argv[1], 'rb')); "
        "print(r[0].outputs['x'], r[1].ok, r[1].error)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "1.5 False KeyError: 'no such thing'"


# --- kedro sweep ------------------------------------------------------------------


def test_kedro_sweep_is_a_project_command() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="kedro.project_commands")}
    assert found["kedro_runtime_sweep"] == "kedro_runtime.sweep_cli:commands"
    assert "sweep" in commands.commands  # type: ignore[attr-defined]


def sweep(project: Path, *args: str) -> Any:
    metadata = bootstrap_project(project)
    quiet_kedro_logs()
    return CliRunner().invoke(commands, ["sweep", *args, "--no-progress"], obj=metadata)


def test_kedro_sweep_node_cache_flag_reaches_run_many(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The flag's effect on workers is tested through run_many above.
    grid = tmp_path / "grid.yml"
    grid.write_text("points:\n  - params: {factor: 1.0}\n")
    seen: dict[str, Any] = {}

    def fake(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return iter(())

    monkeypatch.setattr("kedro_runtime.dask.iter_run_many", fake)
    metadata = type("Metadata", (), {"project_path": tmp_path})()
    args = ["sweep", "--grid", str(grid), "--scheduler", UNREACHABLE, "--node-cache"]
    result = CliRunner().invoke(commands, args, obj=metadata)
    assert "node_cache" in seen, result.output
    assert seen["node_cache"] is True


def test_kedro_sweep_writes_one_row_per_grid_point(
    client: Client, project_path: Path, session: KedroSession
) -> None:
    add_sweep_env(project_path)
    march = project_path / "march.csv"
    orders_for(3).to_csv(march, index=False)
    grid = project_path / "grid.yml"
    grid.write_text(
        "points:\n"
        "  - params: {factor: 1.0}\n"
        "  - params: {factor: 2.0, discount.rate: 0.5}\n"
        f"  - params: {{factor: 3.0}}\n    runtime_data: {{orders: {march}}}\n"
    )
    out = project_path / "results.csv"
    result = sweep(
        project_path,
        "--grid", str(grid),
        "--scheduler", client.scheduler.address,
        "--output", str(out),
        "--env", "sweep",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 runs, 0 failed." in result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 3
    assert [row["factor"] for row in rows] == ["1.0", "2.0", "3.0"]
    assert [row["discount.rate"] for row in rows] == ["", "0.5", ""]
    assert rows[2]["data:orders"] == str(march)
    assert {row["status"] for row in rows} == {"ok"}
    assert len({row["run_id"] for row in rows}) == 3
    with KedroSession.create(project_path, env="sweep") as reference:
        expected = [
            reference.run(runtime_params={"factor": 1.0}),
            reference.run(runtime_params={"factor": 2.0, "discount.rate": 0.5}),
            reference.run(
                runtime_params={"factor": 3.0},
                runtime_data={"orders": pd.read_csv(march)},
            ),
        ]
    assert [row["headline"] for row in rows] == [e["headline"].load() for e in expected]


def test_kedro_sweep_names_the_failed_point_and_exits_non_zero(
    client: Client, project_path: Path
) -> None:
    add_sweep_env(project_path)
    grid = project_path / "grid.yml"
    grid.write_text("product:\n  factor: [1.0, 2.0]\n  top_n: [2, oops]\n")
    out = project_path / "results.csv"
    result = sweep(
        project_path,
        "--grid", str(grid),
        "--scheduler", client.scheduler.address,
        "--output", str(out),
        "--env", "sweep",
        "--pipeline", "orders",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "4 runs, 2 failed." in result.output
    assert "1: factor=1.0, top_n='oops'" in result.output
    assert "3: factor=2.0, top_n='oops'" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [row["status"] for row in rows] == ["ok", "failed", "ok", "failed"]
    assert rows[0]["headline"] == "Top region east: 394.20 EUR (factor 1.0)"
    assert rows[1]["error"]


@pytest.mark.parametrize(
    ("grid", "problem"),
    [
        ("factor: [1, 2]\n", "unknown keys ['factor']"),
        ("- {factor: 1}\n", "the file holds a list"),
        ("product: {factor: 1}\n", "product: ['factor'] must be of type list"),
        ("product: {factor: []}\n", "a non-empty list per parameter"),
        ("points: [{factor: 1}]\n", "point 0 must be a mapping with `params`"),
        ("points: []\n", "`points` must be a non-empty list"),
        ("product: {a: [1]}\npoints: [{params: {a: 1}}]\n", "exactly one of"),
        ("product: [\n", "not valid YAML"),
    ],
)
def test_kedro_sweep_rejects_a_bad_grid_file(
    project_path: Path, grid: str, problem: str
) -> None:
    file = project_path / "grid.yml"
    file.write_text(grid)
    result = sweep(project_path, "--grid", str(file), "--scheduler", UNREACHABLE)
    assert result.exit_code == 2
    assert problem in result.output
    assert "product:" in result.output  # the example of a valid grid


# --- docs/scale-out.md --------------------------------------------------------------
