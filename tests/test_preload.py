"""Preloading (issue 12): read-only inputs loaded once per session, counted.

Every test runs on an example-project variant whose ``orders`` and ``prices``
are read by ``CountingCSVDataset`` (it counts its loads per file), with two
more pipelines: ``mutate`` (a node that changes its ``prices`` in place and
remembers the object it got) and ``ref`` (reads ``prices_ref``, an entry made
by the factory pattern ``{name}_ref``).
"""

from __future__ import annotations

import importlib
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from _session import hook_manager
from click.testing import CliRunner
from conftest import ProjectFactory
from fastapi.testclient import TestClient
from kedro.framework.hooks import hook_impl

from kedro_runtime import KedroSession
from kedro_runtime.errors import PreloadError, PreloadTypeError
from kedro_runtime.server import create_app, served_project

COUNTING = """
import threading
from kedro_datasets.pandas import CSVDataset

LOADS = {}
_LOCK = threading.Lock()


class CountingCSVDataset(CSVDataset):
    def load(self):
        with _LOCK:
            LOADS[self._filepath.name] = LOADS.get(self._filepath.name, 0) + 1
        return super().load()
"""

REGISTRY = """
from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline, node

SEEN = []


def mutate(prices):
    SEEN.append(prices)
    total = float(prices["unit_price"].sum())
    prices["unit_price"] = prices["unit_price"] * 2
    return total


def ref_total(prices_ref):
    return float(prices_ref["unit_price"].sum())


def register_pipelines():
    found = find_pipelines(raise_errors=True)
    return {
        **found,
        "__default__": sum(found.values(), Pipeline([])),
        "mutate": Pipeline([node(mutate, "prices", "price_total", name="mutate")]),
        "ref": Pipeline([node(ref_total, "prices_ref", "ref_total", name="ref")]),
    }
"""


class Project:
    """A counting variant: its path, package, and its modules' state."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.package = path.name

    def loads(self) -> dict[str, int]:
        module = importlib.import_module(f"{self.package}.counting")
        return dict(module.LOADS)

    def seen(self) -> list[Any]:
        module = importlib.import_module(f"{self.package}.pipeline_registry")
        return list(module.SEEN)

    def catalog(self, extra: str = "", prices_metadata: str = "") -> None:
        kind = f"{self.package}.counting.CountingCSVDataset"
        (self.path / "conf" / "base" / "catalog.yml").write_text(
            f"""
orders:
  type: {kind}
  filepath: data/01_raw/orders.csv
prices:
  type: {kind}
  filepath: data/01_raw/prices.csv
{prices_metadata}
"{{name}}_ref":
  type: {kind}
  filepath: data/01_raw/{{name}}.csv
summary:
  type: MemoryDataset
{extra}
"""
        )


@pytest.fixture
def counting(make_project: ProjectFactory) -> Iterator[Project]:
    path = make_project()
    project = Project(path)
    package = path / "src" / project.package
    (package / "counting.py").write_text(COUNTING)
    (package / "pipeline_registry.py").write_text(REGISTRY)
    project.catalog()
    yield project


def headline(session: KedroSession, **kwargs: Any) -> str:
    result: str = session.run(**kwargs)["headline"].load()
    return result


class DatasetHooks:
    """Counts the dataset load hooks per dataset name."""

    def __init__(self) -> None:
        self.before: Counter[str] = Counter()
        self.after: Counter[str] = Counter()

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        self.before[dataset_name] += 1

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        self.after[dataset_name] += 1


def test_200_runs_from_8_threads_load_each_preloaded_entry_once(
    counting: Project, fast_switching: None
) -> None:
    with KedroSession.create(counting.path) as plain:
        expected = headline(plain)
    before = counting.loads()
    with KedroSession.create(counting.path, preload=True) as session:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: headline(session), range(200)))
        assert set(results) == {expected}
        loads = counting.loads()
        assert loads["orders.csv"] - before["orders.csv"] == 1
        assert loads["prices.csv"] - before["prices.csv"] == 1
        assert set(session.preloaded()) == {"orders", "prices"}


def test_warm_up_preloads_and_reports_sizes_and_times(counting: Project) -> None:
    with KedroSession.create(counting.path, preload=True) as session:
        session.warm_up()
        assert counting.loads() == {"orders.csv": 1, "prices.csv": 1}
        info = session.preloaded()["prices"]
        prices = pd.read_csv(counting.path / "data" / "01_raw" / "prices.csv")
        assert info.size_bytes == int(prices.memory_usage(deep=True).sum())
        assert info.load_seconds > 0
        assert info.copy_mode == "copy"
        headline(session)
        assert counting.loads() == {"orders.csv": 1, "prices.csv": 1}


def test_reload_loads_again(counting: Project) -> None:
    with KedroSession.create(counting.path, preload=["prices"]) as session:
        session.warm_up()
        session.reload()
        assert session.preloaded() == {}
        headline(session)
        headline(session)
        assert counting.loads() == {"orders.csv": 2, "prices.csv": 2}


def test_runtime_data_shadows_a_preloaded_entry_for_one_run(
    counting: Project,
) -> None:
    with KedroSession.create(counting.path, preload=True) as session:
        first = headline(session)
        cheap = pd.DataFrame(
            {"product": ["widget", "gadget", "gizmo"], "unit_price": [1.0, 1.0, 1.0]}
        )
        assert headline(session, runtime_data={"prices": cheap}) != first
        assert headline(session) == first
        assert counting.loads() == {"orders.csv": 1, "prices.csv": 1}


def test_a_preloaded_name_a_node_writes_is_an_error(counting: Project) -> None:
    with KedroSession.create(counting.path, preload=["summary"]) as session:
        with pytest.raises(PreloadError, match="node 'summarise' writes it") as info:
            session.warm_up()
        assert isinstance(info.value, ValueError)


def test_a_preloaded_name_not_in_the_catalog_is_an_error(counting: Project) -> None:
    with KedroSession.create(counting.path, preload=["pricez"]) as session:
        with pytest.raises(PreloadError, match=r"no such entry.*'prices'"):
            session.warm_up()


def test_preload_of_the_wrong_type_is_refused_at_create(counting: Project) -> None:
    with pytest.raises(PreloadTypeError, match="list of dataset names") as info:
        KedroSession.create(counting.path, preload="prices")  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)


def test_dataset_hooks_fire_once_for_the_real_load_and_per_run_read(
    counting: Project,
) -> None:
    with KedroSession.create(counting.path, preload=["prices"]) as session:
        hooks = DatasetHooks()
        hook_manager(session).register(hooks)
        session.warm_up()
        assert hooks.before["prices"] == hooks.after["prices"] == 1
        for _ in range(3):
            headline(session)
        # The real load once, then the runner's in-memory read in every run.
        assert hooks.before["prices"] == hooks.after["prices"] == 1 + 3
        assert hooks.before["orders"] == 3
        assert counting.loads() == {"orders.csv": 3, "prices.csv": 1}


def test_a_node_mutating_its_preloaded_dataframe_does_not_change_the_next_run(
    counting: Project,
) -> None:
    with KedroSession.create(counting.path, preload=True) as session:
        totals = [
            session.run(pipeline_names=["mutate"])["price_total"].load()
            for _ in range(3)
        ]
    assert totals[0] == totals[1] == totals[2]
    seen = counting.seen()
    assert seen[0] is not seen[1]


def test_copy_mode_assign_is_zero_copy(counting: Project) -> None:
    counting.catalog(
        prices_metadata="  metadata:\n    kedro_runtime:\n      copy_mode: assign\n"
    )
    with KedroSession.create(counting.path, preload=["prices"]) as session:
        first = session.run(pipeline_names=["mutate"])["price_total"].load()
        second = session.run(pipeline_names=["mutate"])["price_total"].load()
        assert session.preloaded()["prices"].copy_mode == "assign"
    seen = counting.seen()
    assert seen[0] is seen[1]
    assert second == 2 * first  # the documented cost of `assign`


def test_a_factory_pattern_entry_preloads(counting: Project) -> None:
    with KedroSession.create(counting.path, preload=True) as session:
        totals = {
            session.run(pipeline_names=["ref"])["ref_total"].load() for _ in range(3)
        }
        assert "prices_ref" in session.preloaded()
    assert len(totals) == 1
    assert counting.loads() == {"prices.csv": 1}


def test_an_entry_opts_in_through_its_metadata(counting: Project) -> None:
    counting.catalog(
        prices_metadata="  metadata:\n    kedro_runtime:\n      preload: true\n"
    )
    with KedroSession.create(counting.path) as session:
        for _ in range(3):
            headline(session)
        assert set(session.preloaded()) == {"prices"}
    assert counting.loads() == {"orders.csv": 3, "prices.csv": 1}


def test_an_unusable_copy_mode_is_an_error(counting: Project) -> None:
    counting.catalog(
        prices_metadata="  metadata:\n    kedro_runtime:\n      copy_mode: share\n"
    )
    with KedroSession.create(counting.path, preload=True) as session:
        with pytest.raises(PreloadError, match="copy_mode must be one of"):
            session.warm_up()


def test_kedro_run_style_session_does_not_preload(counting: Project) -> None:
    with KedroSession.create(counting.path) as session:
        headline(session)
        headline(session)
        assert session.preloaded() == {}
    assert counting.loads() == {"orders.csv": 2, "prices.csv": 2}


@pytest.mark.parametrize("preload", [True, False])
def test_the_server_preloads_before_it_is_healthy(
    counting: Project, preload: bool
) -> None:
    app = create_app(counting.path, pipelines=["__default__"], preload=preload)
    with TestClient(app) as client:
        # The lifespan has run: the session is warm before any request.
        served = served_project(app)
        assert served is not None
        loaded = dict(counting.loads())
        assert client.get("/health").status_code == 200
        for _ in range(3):
            assert client.post("/run", json={}).status_code == 200
        if preload:
            assert loaded == {"orders.csv": 1, "prices.csv": 1}
            assert set(served.session.preloaded()) == {"orders", "prices"}
            assert counting.loads() == loaded
        else:
            assert loaded == {}
            assert served.session.preloaded() == {}
            assert counting.loads() == {"orders.csv": 3, "prices.csv": 3}


def test_kedro_server_start_passes_no_preload_to_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn  # noqa: PLC0415

    from kedro_runtime.server.cli import commands  # noqa: PLC0415
    from kedro_runtime.server.settings import (  # noqa: PLC0415
        ENV_VARIABLES,
        PRELOAD_ENV,
        ServerSettings,
    )

    for name in ENV_VARIABLES:  # restored after the test, as they were
        monkeypatch.setenv(name, "")
    seen: list[bool] = []

    def workers_settings(*args: Any, **kwargs: Any) -> None:
        seen.append(ServerSettings.resolve().preload)

    monkeypatch.setattr(uvicorn, "run", workers_settings)
    metadata = SimpleNamespace(project_path=tmp_path)
    for arguments in (["--no-preload"], [], ["--preload"]):
        result = CliRunner().invoke(
            commands, ["server", "start", *arguments], obj=metadata
        )
        assert result.exit_code == 0, result.output
    assert seen == [False, True, True]
    assert os.environ[PRELOAD_ENV] == "1"


@pytest.mark.parametrize("preload", [True, False])
def test_the_server_loads_only_the_pipelines_it_serves(
    make_project: ProjectFactory, preload: bool
) -> None:
    """A pipeline module that fails to import does not stop a server of another."""
    path = make_project()
    broken = path / "src" / path.name / "pipelines" / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('deliberately broken')\n")
    app = create_app(path, pipelines=["orders"], preload=preload)
    with TestClient(app) as client:
        run = client.post("/run", json={"pipeline_names": ["orders"]})
        assert run.status_code == 200, run.text
        served = served_project(app)
        assert served is not None
        assert set(served.session.preloaded()) == (
            {"orders", "prices"} if preload else set()
        )


REPRICE = """

def reprice(prices_ref):
    return prices_ref.assign(unit_price=prices_ref["unit_price"] + 1)


def register_pipelines():  # this variant also has a pipeline that writes `prices`
    return {
        **find_pipelines(raise_errors=True),
        "mutate": Pipeline([node(mutate, "prices", "price_total", name="mutate")]),
        "reprice": Pipeline([node(reprice, "prices_ref", "prices", name="reprice")]),
    }
"""


def test_a_pipeline_that_writes_a_preloaded_entry_ends_its_preloading(
    counting: Project,
) -> None:
    package = counting.path / "src" / counting.package
    (package / "pipeline_registry.py").write_text(REGISTRY + REPRICE)
    with KedroSession.create(counting.path, preload=True) as session:
        first = session.run(pipeline_names=["mutate"])["price_total"].load()
        assert "prices" in session.preloaded()
        session.run(pipeline_names=["reprice"])  # writes data/01_raw/prices.csv
        second = session.run(pipeline_names=["mutate"])["price_total"].load()
        assert "prices" not in session.preloaded()
    rows = len(pd.read_csv(counting.path / "data" / "01_raw" / "prices.csv"))
    assert second == pytest.approx(first + rows)
