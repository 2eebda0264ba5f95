"""Fault injection: what reaches the caller, which hooks fire, and what survives.

Each fault is provoked on a warmed-up session of a project variant (orders +
``extras`` + a ``faults`` pipeline written here, and for dataset faults two custom
datasets). For every fault the tests pin down

- the exception the caller gets (exact type; the original exception itself, or
  as ``__cause__`` where Kedro wraps dataset errors in ``DatasetError``),
- the hooks that fired, in order, and the nodes that ran,
- that the base catalog is exactly as before (``CatalogState``) and that the
  per-run in-memory dataset of the failed run left nothing in the base,
- that the next runs on the same session succeed with the results that calling
  the node functions directly gives, and do not see the failed run's data.

Where kedro-runtime does what Kedro does (a hook raising outside the runner, an
interrupt), Kedro's own ``KedroSession`` is run on the same fault and must give
the same error type and the same hook calls.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from _catalog_state import CatalogState
from _example import expected_for
from _session import base_catalog, hook_manager
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession as KedroOwnSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError
from kedro.runner import AbstractRunner, ParallelRunner, SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession

Recorder = Any
"""The recorder made by the ``hook_recorder`` fixture (see conftest)."""

# --- the project variant -----------------------------------------------------------

FAULTY_DATASETS_SOURCE = '''
"""Datasets that fail on purpose, for fault-injection tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

SAVE_TRIGGER = "poison-save"
LOAD_TRIGGER = "poison-load"
CORRUPT_MARKER = "CORRUPT"


class InjectedSaveError(Exception):
    """What a save that breaks half-way raises."""


class InjectedLoadError(Exception):
    """What a load of broken data raises."""


class FlakyMemoryDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Keeps a frame in memory; each run has its own copy (``fresh_per_run``).

    ``save`` stores the frame and then raises when a product is ``poison-save``,
    so the failed run is left holding partial state; ``load`` raises when the
    stored frame has a product ``poison-load``.
    """

    fresh_per_run = True

    def __init__(self) -> None:
        self._data: pd.DataFrame | None = None

    def _save(self, data: pd.DataFrame) -> None:
        self._data = data
        if (data["product"] == SAVE_TRIGGER).any():
            raise InjectedSaveError("connection lost after storing part of the data")

    def _load(self) -> pd.DataFrame:
        if self._data is None:
            raise DatasetError("nothing saved yet")
        if (self._data["product"] == LOAD_TRIGGER).any():
            raise InjectedLoadError("stored data is unreadable")
        return self._data.copy()

    def _exists(self) -> bool:
        return self._data is not None

    def _describe(self) -> dict[str, Any]:
        return {"holds_data": self._data is not None}


class FlakyCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A read-only CSV file (shared by all runs) whose load fails while corrupt."""

    def __init__(self, filepath: str) -> None:
        self._filepath = Path(filepath)

    def _load(self) -> pd.DataFrame:
        text = self._filepath.read_text()
        if CORRUPT_MARKER in text:
            raise InjectedLoadError(f"{self._filepath.name} is corrupt")
        return pd.read_csv(io.StringIO(text))

    def _save(self, data: pd.DataFrame) -> None:
        raise DatasetError("read-only")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
'''

FAULT_NODES_SOURCE = '''
"""A node that can interrupt the run or kill the process running it."""

from __future__ import annotations

import os

import pandas as pd


def brake(clean_orders: pd.DataFrame, interrupt: bool, die: bool) -> int:
    """Number of clean orders; interrupts, or exits its process, on request."""
    if interrupt:
        raise KeyboardInterrupt("interrupted in brake")
    if die:
        os._exit(1)
    return len(clean_orders)
'''

FAULT_PIPELINE_SOURCE = '''
"""The ``faults`` pipeline: one node hanging off ``clean_orders``."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from .nodes import brake


def create_pipeline(**kwargs: object) -> Pipeline:
    return Pipeline(
        [
            node(
                brake,
                ["clean_orders", "params:interrupt", "params:die"],
                "braked",
                name="brake",
            )
        ]
    )
'''


def faulty_catalog(package: str) -> dict[str, Any]:
    """Catalog entries that replace ``priced`` (memory) and ``prices`` (a file)."""
    return {
        "priced": {"type": f"{package}.faulty.FlakyMemoryDataset"},
        "prices": {
            "type": f"{package}.faulty.FlakyCSVDataset",
            "filepath": "data/01_raw/prices.csv",
        },
    }


def write_faults_project(
    make_project: Callable[..., Path], *, faulty_datasets: bool
) -> Path:
    """A variant of orders + extras + the ``faults`` pipeline, bootstrapped."""
    path = make_project(extras=True)
    package_dir = path / "src" / path.name
    (package_dir / "faulty.py").write_text(FAULTY_DATASETS_SOURCE)
    pipeline_dir = package_dir / "pipelines" / "faults"
    pipeline_dir.mkdir()
    (pipeline_dir / "__init__.py").write_text(
        "from .pipeline import create_pipeline\n\n__all__ = ['create_pipeline']\n"
    )
    (pipeline_dir / "nodes.py").write_text(FAULT_NODES_SOURCE)
    (pipeline_dir / "pipeline.py").write_text(FAULT_PIPELINE_SOURCE)
    with (path / "conf" / "base" / "parameters.yml").open("a") as file:
        file.write("interrupt: false\ndie: false\n")
    if faulty_datasets:
        catalog_file = path / "conf" / "base" / "catalog.yml"
        catalog = yaml.safe_load(catalog_file.read_text())
        catalog.update(faulty_catalog(path.name))
        catalog_file.write_text(yaml.safe_dump(catalog))
    bootstrap_project(path)
    return path


def module(project: Path, name: str) -> Any:
    return importlib.import_module(f"{project.name}.{name}")


def orders_frame(product: str = "widget") -> pd.DataFrame:
    """Orders to inject; one of them is for ``product``."""
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4],
            "region": ["alpha", "beta", "alpha", "gamma"],
            "product": ["widget", "gadget", product, "gizmo"],
            "quantity": [2, 7, 4, 1],
        }
    )


def prices_frame(product: str = "widget") -> pd.DataFrame:
    """Prices to inject, with a price for ``product``."""
    table = {"widget": 10.0, "gadget": 30.0, "gizmo": 5.0, product: 99.0}
    return pd.DataFrame({"product": list(table), "unit_price": list(table.values())})


def csv_round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    """What ``summary`` (a CSV file) gives back to the nodes that read it."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


def expected(
    project: Path,
    orders: pd.DataFrame | None = None,
    prices: pd.DataFrame | None = None,
    factor: float = 1.0,
) -> dict[str, Any]:
    """The outputs of a full run, from the node functions called directly."""
    run = expected_for(project, orders, prices, factor=factor)
    extras = module(project, "pipelines.extras.nodes")
    faults = module(project, "pipelines.faults.nodes")
    return {
        "headline": run.headline,
        "order_counts": extras.count_orders(*extras.split_orders(run.clean_orders)),
        "checked": extras.checkpoint(csv_round_trip(run.summary), False),
        "braked": faults.brake(run.clean_orders, False, False),
    }


def chain(error: BaseException) -> list[str]:
    """Type names of ``error`` and of its ``__cause__``s, outermost first."""
    names = []
    current: BaseException | None = error
    while current is not None:
        names.append(type(current).__name__)
        current = current.__cause__
    return names


def root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def loaded(result: dict[str, Any]) -> dict[str, Any]:
    return {name: dataset.load() for name, dataset in result.items()}


# --- the harness -------------------------------------------------------------------


@dataclass
class Faulty:
    """A warmed-up session on a faults variant, with a hook recorder."""

    session: KedroSession
    project: Path
    recorder: Recorder
    order: list[str]  # the nodes of a full SequentialRunner run, in run order
    base: CatalogState

    @classmethod
    def start(
        cls, project: Path, hook_recorder: Callable[[KedroSession], Recorder]
    ) -> Faulty:
        session = KedroSession.create(project)
        recorder = hook_recorder(session)
        result = session.run()
        assert loaded(result) == expected(project)
        order = recorder.nodes_run()
        assert set(order) == {
            *("clean_orders", "price", "revenue", "discount", "summarise"),
            *("headline", "split", "count", "checkpoint", "brake"),
        }
        base = CatalogState.take(base_catalog(session))
        recorder.calls.clear()
        return cls(session, project, recorder, order, base)

    def finished(self) -> list[str]:
        """The nodes whose ``after_node_run`` hook fired, in call order."""
        return [call["node"].name for call in self.recorder.calls_of("after_node_run")]

    def assert_pipeline_failed(self, error: BaseException) -> None:
        """The run started, then reported ``error`` to ``on_pipeline_error``."""
        assert self.pipeline_hooks() == ["before_pipeline_run", "on_pipeline_error"]
        assert self.recorder.calls_of("on_pipeline_error")[0]["error"] is error

    def hooks(self) -> list[str]:
        return [name for name, _ in self.recorder.calls]

    def pipeline_hooks(self) -> list[str]:
        pipeline_level = {
            "before_pipeline_run",
            "after_pipeline_run",
            "on_pipeline_error",
        }
        return [name for name in self.hooks() if name in pipeline_level]

    def ran_up_to(self, last: str) -> list[str]:
        """The nodes a SequentialRunner runs up to and including ``last``."""
        return self.order[: self.order.index(last) + 1]

    def ran_before(self, node: str) -> list[str]:
        return self.order[: self.order.index(node)]

    def saved(self) -> list[str]:
        return [
            call["dataset_name"]
            for call in self.recorder.calls_of("after_dataset_saved")
        ]

    def check_recovered(
        self, runner: Callable[[], AbstractRunner] = SequentialRunner
    ) -> None:
        """Base intact, and the next runs are right and see nothing of the failure."""
        self.base.assert_unchanged()
        assert base_catalog(self.session) is self.base.catalog, "base rebuilt"
        self.recorder.calls.clear()
        orders, prices = orders_frame("gizmo"), prices_frame("gizmo")
        with_data = self.session.run(
            runner=runner(),
            runtime_data={"orders": orders, "prices": prices},
            runtime_params={"factor": 2.0},
        )
        assert loaded(with_data) == expected(self.project, orders, prices, factor=2.0)
        plain = self.session.run(runner=runner())
        assert loaded(plain) == expected(self.project)
        assert (
            self.pipeline_hooks() == ["before_pipeline_run", "after_pipeline_run"] * 2
        )
        self.base.assert_unchanged()


def harness_on(
    make_project: Callable[..., Path],
    hook_recorder: Callable[[KedroSession], Recorder],
    *,
    faulty_datasets: bool,
) -> Iterator[Faulty]:
    """A warmed-up session on a new faults variant, closed after the test."""
    project = write_faults_project(make_project, faulty_datasets=faulty_datasets)
    harness = Faulty.start(project, hook_recorder)
    yield harness
    harness.session.close()


@pytest.fixture
def faulty(
    make_project: Callable[..., Path], hook_recorder: Callable[[KedroSession], Recorder]
) -> Iterator[Faulty]:
    """A warmed-up session on the variant with the faulty datasets."""
    yield from harness_on(make_project, hook_recorder, faulty_datasets=True)


@pytest.fixture
def plain_faults(
    make_project: Callable[..., Path], hook_recorder: Callable[[KedroSession], Recorder]
) -> Iterator[Faulty]:
    """As ``faulty``, with Kedro's own datasets only (fit for ParallelRunner)."""
    yield from harness_on(make_project, hook_recorder, faulty_datasets=False)


def run_poisoned(harness: Faulty, trigger: str) -> DatasetError:
    """A run on orders and prices with a ``trigger`` product; its error."""
    with pytest.raises(DatasetError) as info:
        harness.session.run(
            runtime_data={
                "orders": orders_frame(trigger),
                "prices": prices_frame(trigger),
            }
        )
    return info.value


def check_dataset_error(
    harness: Faulty, error: DatasetError, dataset: str, cause: str, *messages: str
) -> None:
    """``error`` is Kedro's for ``dataset`` having raised the faulty ``cause``."""
    assert type(error) is DatasetError
    # Kedro wraps it twice: the dataset's error, then the catalog's (with the name).
    assert chain(error) == ["DatasetError", "DatasetError", cause]
    faulty_module = module(harness.project, "faulty")
    assert type(root_cause(error)) is getattr(faulty_module, cause)
    assert str(error).startswith(f"{dataset}: ")
    for message in messages:
        assert message in str(error)


def base_entry_holds_nothing(harness: Faulty, name: str) -> None:
    """The base's own object of a per-run dataset was never written to."""
    base_dataset = harness.base.catalog._datasets[name]
    assert base_dataset._data is None, f"the failed run left data in base '{name}'"


def check_priced_left_nothing(harness: Faulty) -> None:
    """The failed run's ``priced`` stayed its own, and the session recovers.

    A run that reads ``priced`` without making it finds nothing saved: not the
    data the failed run stored in its own copy.
    """
    base_entry_holds_nothing(harness, "priced")
    with pytest.raises(DatasetError) as info:
        harness.session.run(node_names=["revenue"])
    assert str(info.value).startswith("priced: ")
    assert str(root_cause(info.value)) == "nothing saved yet"
    harness.check_recovered()
    base_entry_holds_nothing(harness, "priced")


# --- datasets ----------------------------------------------------------------------


def test_save_that_raises_half_way_through_a_run(faulty: Faulty) -> None:
    error = run_poisoned(faulty, "poison-save")
    check_dataset_error(
        faulty,
        error,
        "priced",
        "InjectedSaveError",
        "connection lost after storing part of the data",
        "Failed while saving data",
    )

    # The node ran and its after_node_run hook fired; the save of its output
    # failed, so nothing downstream of `price` ran.
    assert faulty.recorder.nodes_run() == faulty.ran_up_to("price")
    assert faulty.finished() == faulty.ran_up_to("price")
    assert "priced" not in faulty.saved()
    assert faulty.recorder.calls_of("on_node_error") == []
    faulty.assert_pipeline_failed(error)

    check_priced_left_nothing(faulty)


def test_load_that_raises_on_data_the_run_saved(faulty: Faulty) -> None:
    error = run_poisoned(faulty, "poison-load")
    check_dataset_error(
        faulty,
        error,
        "priced",
        "InjectedLoadError",
        "stored data is unreadable",
        "Failed while loading data",
    )

    # `priced` was saved (the run's own copy holds the bad data); `revenue`
    # failed loading it before its before_node_run hook.
    assert "priced" in faulty.saved()
    assert faulty.recorder.nodes_run() == faulty.ran_before("revenue")
    assert faulty.recorder.calls_of("on_node_error") == []
    faulty.assert_pipeline_failed(error)

    check_priced_left_nothing(faulty)


def test_load_of_a_shared_input_that_raises(faulty: Faulty) -> None:
    """A file every run shares (not per run) fails to load, then is repaired."""
    prices_file = faulty.project / "data" / "01_raw" / "prices.csv"
    good = prices_file.read_text()
    prices_file.write_text(good + "CORRUPT\n")
    orders = orders_frame()
    with pytest.raises(DatasetError) as info:
        faulty.session.run(runtime_data={"orders": orders})
    error = info.value
    check_dataset_error(
        faulty, error, "prices", "InjectedLoadError", "prices.csv is corrupt"
    )
    assert faulty.recorder.nodes_run() == faulty.ran_before("price")
    faulty.assert_pipeline_failed(error)

    # Injected prices do not touch the broken file: that run works meanwhile.
    prices = prices_frame()
    meanwhile = faulty.session.run(runtime_data={"orders": orders, "prices": prices})
    assert loaded(meanwhile) == expected(faulty.project, orders, prices)

    prices_file.write_text(good)
    faulty.check_recovered()


# --- hooks -------------------------------------------------------------------------


class HookFailure(Exception):
    """What ``ExplodingHooks`` raises."""


class ExplodingHooks:
    """Raises from one pipeline or node hook while ``armed`` names that hook."""

    def __init__(self, armed: str, node: str = "price") -> None:
        self.armed: str | None = armed
        self.node = node
        self.raised: list[HookFailure] = []

    def _explode(self, hook: str) -> None:
        if self.armed == hook:
            error = HookFailure(f"{hook} hook failed")
            self.raised.append(error)
            raise error

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._explode("before_pipeline_run")

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        if node.name == self.node:
            self._explode("after_node_run")

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._explode("after_pipeline_run")


def with_exploding_hooks(
    session: Any, hook_recorder: Callable[[Any], Recorder], armed: str
) -> tuple[ExplodingHooks, Recorder]:
    """Register the exploding hooks, then a recorder: pluggy calls the hooks
    registered last first, so the recorder sees every call, the failing one too."""
    exploding = ExplodingHooks(armed)
    hook_manager(session).register(exploding)
    return exploding, hook_recorder(session)


# Kedro calls before_ and after_pipeline_run outside the block that reports
# errors to on_pipeline_error, so a failure there does not reach that hook; a
# failing after_node_run raises inside the runner, so it does.
HOOK_FAULTS = {
    "before_pipeline_run": ["before_pipeline_run"],
    "after_node_run": ["before_pipeline_run", "on_pipeline_error"],
    "after_pipeline_run": ["before_pipeline_run", "after_pipeline_run"],
}


@pytest.mark.parametrize("hook", list(HOOK_FAULTS))
def test_hook_that_raises(
    plain_faults: Faulty, hook_recorder: Callable[[Any], Recorder], hook: str
) -> None:
    harness = plain_faults
    session = harness.session
    hook_manager(session).unregister(harness.recorder)
    exploding, recorder = with_exploding_hooks(session, hook_recorder, hook)
    harness.recorder = recorder
    try:
        orders = orders_frame()
        with pytest.raises(HookFailure) as info:
            session.run(runtime_data={"orders": orders})
        assert type(info.value) is HookFailure
        assert exploding.raised == [info.value], "not the hook's own exception"
        assert harness.pipeline_hooks() == HOOK_FAULTS[hook]
        assert recorder.calls_of("on_node_error") == []
        if hook == "before_pipeline_run":
            assert recorder.nodes_run() == []
        elif hook == "after_node_run":
            assert recorder.nodes_run() == harness.ran_up_to("price")
            assert "priced" not in harness.saved(), "output saved after a hook failed"
            assert recorder.calls_of("on_pipeline_error")[0]["error"] is info.value
        else:
            assert recorder.nodes_run() == harness.order
            # The run completed: its result reached the hook, not the caller.
            run_result = recorder.calls_of("after_pipeline_run")[0]["run_result"]
            assert loaded(run_result) == expected(harness.project, orders)

        # Still registered but disarmed: every hook fires and runs are right.
        exploding.armed = None
        harness.check_recovered()
        assert len(recorder.calls_of("after_node_run")) == 2 * len(harness.order)
    finally:
        hook_manager(session).unregister(exploding)
    harness.check_recovered()


# --- interrupts and dying workers --------------------------------------------------


@pytest.mark.parametrize(
    "make_runner",
    [SequentialRunner, lambda: ThreadRunner(max_workers=2)],
    ids=["sequential", "thread"],
)
def test_keyboard_interrupt_from_a_node(
    plain_faults: Faulty, make_runner: Callable[[], AbstractRunner]
) -> None:
    """The interrupt reaches the caller as it was raised; the session goes on.

    ``KeyboardInterrupt`` is not an ``Exception``: like Kedro's own session (see
    ``test_fault_hooks_are_kedros``), kedro-runtime does not turn it into
    ``on_node_error`` / ``on_pipeline_error`` calls, which Kedro types as taking
    an ``Exception``. Nothing of the interrupted run is kept.
    """
    harness = plain_faults
    with pytest.raises(KeyboardInterrupt) as info:
        harness.session.run(
            runner=make_runner(),
            runtime_data={"orders": orders_frame()},
            runtime_params={"interrupt": True},
        )
    assert type(info.value) is KeyboardInterrupt
    assert str(info.value) == "interrupted in brake"
    assert info.value.__traceback__ is not None
    ran = harness.recorder.nodes_run()
    assert "brake" in ran
    assert "brake" not in harness.finished()
    assert "braked" not in harness.saved()
    if make_runner is SequentialRunner:
        assert ran == harness.ran_up_to("brake")
    assert harness.recorder.calls_of("on_node_error") == []
    assert harness.pipeline_hooks() == ["before_pipeline_run"]

    harness.check_recovered(make_runner)
    harness.check_recovered()


def test_parallel_runner_worker_that_dies(
    plain_faults: Faulty, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEDRO_MP_CONTEXT", "fork")
    harness = plain_faults
    runner = ParallelRunner(max_workers=2)
    with pytest.raises(BrokenProcessPool) as info:
        harness.session.run(runner=runner, runtime_params={"die": True})
    assert type(info.value) is BrokenProcessPool
    # Node hooks run in the worker processes, so only pipeline hooks are seen.
    assert harness.recorder.nodes_run() == []
    harness.assert_pipeline_failed(info.value)

    harness.check_recovered()
    # The runner whose worker died, and a new one, both work with this session.
    for parallel in (runner, ParallelRunner(max_workers=2)):
        orders = orders_frame("gadget")
        result = harness.session.run(
            runner=parallel,
            runtime_data={"orders": orders},
            runtime_params={"factor": 3.0},
        )
        assert loaded(result) == expected(harness.project, orders, factor=3.0)
    harness.check_recovered(lambda: ParallelRunner(max_workers=2))


# --- the same as Kedro's own session -------------------------------------------------


@dataclass
class Provoked:
    """What one session did on a fault."""

    errors: list[str]
    hooks: list[str]
    nodes: list[str]


def provoke(
    session_class: type[Any],
    project: Path,
    hook_recorder: Callable[[Any], Recorder],
    fault: str,
) -> Provoked:
    """A fresh session of ``session_class`` with a fault set up, run once."""
    params = {"interrupt": {"interrupt": True}, "node": {"fail": True}}.get(fault)
    with session_class.create(project, runtime_params=params) as session:
        if fault.startswith("hook:"):
            _, recorder = with_exploding_hooks(
                session, hook_recorder, fault.removeprefix("hook:")
            )
        else:
            recorder = hook_recorder(session)
        with pytest.raises(BaseException) as info:
            session.run()
    return Provoked(
        errors=chain(info.value),
        hooks=[name for name, _ in recorder.calls],
        nodes=recorder.nodes_run(),
    )


@pytest.mark.parametrize(
    "fault",
    [
        "save",
        "load",
        "node",
        "interrupt",
        "hook:before_pipeline_run",
        "hook:after_node_run",
        "hook:after_pipeline_run",
    ],
)
def test_fault_hooks_are_kedros(
    make_project: Callable[..., Path],
    hook_recorder: Callable[[Any], Recorder],
    fault: str,
) -> None:
    """On a fault and no new argument, the caller and hooks see what Kedro gives."""
    project = write_faults_project(make_project, faulty_datasets=True)
    raw = project / "data" / "01_raw"
    if fault == "save":
        # A poison product with a price: `priced` holds it and its save fails.
        with (raw / "orders.csv").open("a") as file:
            file.write("9,north,poison-save,1\n")
        with (raw / "prices.csv").open("a") as file:
            file.write("poison-save,1.0\n")
    elif fault == "load":
        with (raw / "prices.csv").open("a") as file:
            file.write("CORRUPT\n")

    ours = provoke(KedroSession, project, hook_recorder, fault)
    kedros = provoke(KedroOwnSession, project, hook_recorder, fault)
    assert ours == kedros
    assert ours.errors == FAULT_ERRORS[fault]
    if fault != "hook:before_pipeline_run":
        assert ours.nodes, "no node ran"


FAULT_ERRORS = {
    "save": ["DatasetError", "DatasetError", "InjectedSaveError"],
    "load": ["DatasetError", "DatasetError", "InjectedLoadError"],
    "node": ["RuntimeError"],
    "interrupt": ["KeyboardInterrupt"],
    "hook:before_pipeline_run": ["HookFailure"],
    "hook:after_node_run": ["HookFailure"],
    "hook:after_pipeline_run": ["HookFailure"],
}
