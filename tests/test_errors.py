"""Bad input and failing runs: clear errors, a usable session, an untouched base.

Every test here makes one good run first (so the base catalog exists), takes a
snapshot of the base catalog, provokes the error, and then checks that the
snapshot still holds and that the next run gives the right answer.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from _example import expected_for
from _session import base_catalog
from kedro.framework.cli.utils import KedroCliError
from kedro.framework.session.session import KedroSessionError
from kedro.io.core import DatasetError, DatasetNotFoundError
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner

import kedro_runtime
import kedro_runtime.dask
import kedro_runtime.server
from kedro_runtime import (
    CatalogOverrideError,
    KedroRuntimeError,
    KedroSession,
    PreloadError,
    PreloadTypeError,
    RunIdError,
    RunIdTypeError,
    RunOptionError,
    RuntimeDataError,
    RuntimeDataTypeError,
    RuntimeParamsError,
    RuntimeParamsTypeError,
    SettingsError,
    SettingsTypeError,
    SharedFileError,
    UnreadRuntimeParamsError,
    UntrustedParamsTypeError,
    override_catalog,
)
from kedro_runtime import _kedro_private as private
from kedro_runtime.dask import UnpicklableRuntimeDataError
from kedro_runtime.server import (
    DecodeError,
    EncodeError,
    RunnerNotAllowedError,
    ServerSettingsError,
    ServerStartError,
)

UNUSED_ENTRY = """
unused_report:
  type: pandas.CSVDataset
  filepath: data/08_reporting/unused.csv
"""


class Same:
    """Compares equal to the very object it wraps, and to nothing else."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __repr__(self) -> str:
        return f"Same({self.obj!r} at {id(self.obj):#x})"


def snapshot(session: KedroSession) -> dict[str, Any]:
    """What must not change in the base catalog: entries, objects, lazy entries."""
    base = base_catalog(session)
    return {
        "catalog": Same(base),
        "datasets": {
            name: Same(ds) for name, ds in private.catalog_datasets(base).items()
        },
        "lazy": {
            name: Same(lazy)
            for name, lazy in private.catalog_lazy_datasets(base).items()
        },
        "configs": dict(private.resolver_configs(base.config_resolver)),
        "save_version": private.catalog_save_version(base),
        "load_versions": dict(private.catalog_load_versions(base)),
        "parameters": base.load("parameters"),
        "type": type(base),
    }


class Guard:
    """A warmed-up session, with a check that it survived an error intact."""

    def __init__(self, session: KedroSession, project: Path, orders: pd.DataFrame):
        self.session = session
        self.project = project
        self.orders = orders
        session.run(runtime_data={"orders": orders})
        self.before = snapshot(session)
        assert self.before["lazy"], "the unused catalog entry should stay lazy"

    def check_intact(self) -> None:
        """Base catalog unchanged, and the next runs still give the right answers."""
        assert snapshot(self.session) == self.before
        result = self.session.run(
            runtime_data={"orders": self.orders}, runtime_params={"factor": 3}
        )
        assert (
            result["headline"].load()
            == expected_for(self.project, self.orders, factor=3).headline
        )
        plain = self.session.run()["headline"].load()
        raw_orders = pd.read_csv(self.project / "data" / "01_raw" / "orders.csv")
        assert plain == expected_for(self.project, raw_orders).headline
        assert snapshot(self.session) == self.before


@pytest.fixture
def guard(project_path: Path, orders: pd.DataFrame) -> Iterator[Guard]:
    """A warmed-up session on the example project with one lazy catalog entry."""
    with (project_path / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(UNUSED_ENTRY)
    with KedroSession.create(project_path) as session:
        yield Guard(session, project_path, orders)


@pytest.fixture
def extras_guard(
    make_project: Callable[..., Path], orders: pd.DataFrame
) -> Iterator[Guard]:
    """As ``guard``, on a variant with the two-output and the failing node."""
    project = make_project(extras=True)
    with (project / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(UNUSED_ENTRY)
    with KedroSession.create(project) as session:
        yield Guard(session, project, orders)


def raised(error: type[Exception], call: Callable[[], object]) -> str:
    """Run ``call``; assert it raises exactly ``error``; return the message."""
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error, f"expected {error.__name__}, got {info.type}"
    return str(info.value)


# --- runtime_data ----------------------------------------------------------------------


def test_unknown_dataset_names_key_close_matches_and_free_inputs(guard: Guard) -> None:
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(runtime_data={"order": guard.orders}),
    )
    assert "'order'" in message
    assert "orders" in message.split("Closest matches")[1].split("\n")[0]
    free_inputs = message.split("free inputs")[1]
    assert "orders" in free_inputs
    assert "prices" in free_inputs
    assert "params:" not in free_inputs
    guard.check_intact()


def test_unknown_dataset_without_close_match_still_lists_free_inputs(
    guard: Guard,
) -> None:
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(runtime_data={"zzz_nothing_like_it": 1}),
    )
    assert "zzz_nothing_like_it" in message
    assert "'orders', 'prices'" in message
    guard.check_intact()


@pytest.mark.parametrize("key", ["params:factor", "params:discount.rate", "parameters"])
def test_parameter_keys_in_runtime_data_point_to_runtime_params(
    guard: Guard, key: str
) -> None:
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(runtime_data={key: 2, "orders": guard.orders}),
    )
    assert key in message
    assert "runtime_params" in message
    guard.check_intact()


def test_parameter_key_message_shows_the_runtime_params_name(guard: Guard) -> None:
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(runtime_data={"params:discount.rate": 0.5}),
    )
    assert "'discount.rate'" in message


def test_dataset_filtered_out_by_tags_is_rejected(guard: Guard) -> None:
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(
            tags=["pricing"], runtime_data={"orders": guard.orders}
        ),
    )
    assert "'orders'" in message
    # The pricing pipeline is the discount node alone: its only free input.
    assert message.split("free inputs are:")[1].strip(" .\n") == "['with_revenue']"
    guard.check_intact()


def test_dataset_filtered_out_by_node_names_is_rejected(guard: Guard) -> None:
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(
            node_names=["summarise", "headline"],
            runtime_data={"prices": pd.DataFrame()},
        ),
    )
    assert "'prices'" in message
    assert "discounted" in message.split("free inputs")[1]
    guard.check_intact()


def test_dataset_kept_by_filters_can_be_injected(guard: Guard) -> None:
    """The same filter accepts a dataset that its pipeline does read."""
    with_revenue = pd.DataFrame({"region": ["a", "b"], "revenue": [200.0, 50.0]})
    result = guard.session.run(
        tags=["pricing"], runtime_data={"with_revenue": with_revenue}
    )
    assert result["discounted"].load()["revenue"].tolist() == [180.0, 50.0]
    guard.check_intact()


def test_some_outputs_of_a_node_injected_is_an_error(extras_guard: Guard) -> None:
    message = raised(
        RuntimeDataError,
        lambda: extras_guard.session.run(
            runtime_data={"small_orders": pd.DataFrame({"quantity": [1]})}
        ),
    )
    assert "'split'" in message
    assert "large_orders" in message
    assert "small_orders" in message
    extras_guard.check_intact()


def test_runtime_data_not_a_mapping(guard: Guard) -> None:
    message = raised(
        RuntimeDataTypeError,
        lambda: guard.session.run(runtime_data=[("orders", guard.orders)]),  # type: ignore[arg-type]
    )
    assert "mapping" in message
    guard.check_intact()


# --- ParallelRunner and pickling -----------------------------------------------------


def test_unpicklable_data_with_parallel_runner_fails_before_any_node(
    guard: Guard, hook_recorder: Callable[[KedroSession], Any]
) -> None:
    recorder = hook_recorder(guard.session)
    reporting = guard.project / "data" / "08_reporting"
    for file in reporting.glob("summary_*.csv"):
        file.unlink()
    lock = threading.Lock()
    message = raised(
        RuntimeDataError,
        lambda: guard.session.run(
            runner=ParallelRunner(max_workers=2),
            runtime_data={"orders": guard.orders, "prices": {"lock": lock}},
        ),
    )
    assert "'prices'" in message
    assert "pickle" in message
    assert not list(reporting.glob("summary_*.csv")), "a node ran"
    assert recorder.calls_of("before_pipeline_run") == []
    guard.check_intact()


def test_unpicklable_data_is_fine_without_processes(guard: Guard) -> None:
    """Only ParallelRunner needs to pickle: other runners take anything."""
    with_revenue = pd.DataFrame(
        {"region": ["a", "b"], "revenue": [10.0, 500.0], "lock": [threading.Lock()] * 2}
    )
    for runner in (SequentialRunner(), ThreadRunner()):
        result = guard.session.run(
            runner=runner, tags=["pricing"], runtime_data={"with_revenue": with_revenue}
        )
        discounted = result["discounted"].load()
        assert discounted["revenue"].tolist() == [10.0, 450.0]
        assert type(discounted["lock"].iloc[0]) is type(threading.Lock())
    guard.check_intact()


# --- runtime_params and extra_params --------------------------------------------------


def test_both_extra_params_and_runtime_params_in_create(project_path: Path) -> None:
    message = raised(
        RuntimeParamsError,
        lambda: KedroSession.create(
            project_path, runtime_params={"factor": 2}, extra_params={"factor": 3}
        ),
    )
    assert "runtime_params" in message
    assert "extra_params" in message


def test_both_extra_params_and_runtime_params_in_run(guard: Guard) -> None:
    message = raised(
        RuntimeParamsError,
        lambda: guard.session.run(
            runtime_params={"factor": 2}, extra_params={"factor": 3}
        ),
    )
    assert "runtime_params" in message
    assert "extra_params" in message
    guard.check_intact()


@pytest.mark.parametrize("value", [["factor", 2], "factor=2", 2.0])
def test_runtime_params_must_be_a_mapping_in_run(guard: Guard, value: object) -> None:
    message = raised(
        RuntimeParamsTypeError,
        lambda: guard.session.run(runtime_params=value),  # type: ignore[arg-type]
    )
    assert "mapping" in message
    assert type(value).__name__ in message
    guard.check_intact()


def test_runtime_params_must_be_a_mapping_in_create(project_path: Path) -> None:
    message = raised(
        RuntimeParamsTypeError,
        lambda: KedroSession.create(project_path, runtime_params="factor=2"),  # type: ignore[arg-type]
    )
    assert "mapping" in message


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"": 1}, ["''"]),
        ({"discount..rate": 1}, ["discount..rate"]),
        ({"discount": 1, "discount.rate": 2}, ["discount", "discount.rate"]),
    ],
)
def test_malformed_runtime_param_keys(
    guard: Guard, params: dict[str, Any], words: list[str]
) -> None:
    message = raised(
        RuntimeParamsError, lambda: guard.session.run(runtime_params=params)
    )
    for word in words:
        assert word in message
    guard.check_intact()


# --- run ids -----------------------------------------------------------------------------


def test_reused_run_id_is_an_error(
    guard: Guard, hook_recorder: Callable[[KedroSession], Any]
) -> None:
    recorder = hook_recorder(guard.session)
    guard.session.run(run_id="request-1")
    message = raised(RunIdError, lambda: guard.session.run(run_id="request-1"))
    assert "request-1" in message
    assert "already" in message
    guard.session.run(run_id="request-2")
    run_ids = [
        c["run_params"]["run_id"] for c in recorder.calls_of("before_pipeline_run")
    ]
    assert run_ids == ["request-1", "request-2"]
    guard.check_intact()


def test_run_id_of_a_run_rejected_for_bad_data_is_not_used_up(guard: Guard) -> None:
    raised(
        RuntimeDataError,
        lambda: guard.session.run(run_id="retry-me", runtime_data={"nope": 1}),
    )
    guard.session.run(run_id="retry-me")
    raised(RunIdError, lambda: guard.session.run(run_id="retry-me"))


def test_run_id_of_a_run_rejected_for_bad_load_versions_is_not_used_up(
    guard: Guard,
) -> None:
    raised(
        DatasetNotFoundError,
        lambda: guard.session.run(run_id="retry-me", load_versions={"nope": "v1"}),
    )
    guard.session.run(run_id="retry-me")
    raised(RunIdError, lambda: guard.session.run(run_id="retry-me"))


@pytest.mark.parametrize(
    "run_id", ["a/b", "", 5, "../up", " lead", "x" * 129, b"bytes"]
)
def test_invalid_run_id(guard: Guard, run_id: object) -> None:
    error = RunIdError if isinstance(run_id, str) else RunIdTypeError
    message = raised(error, lambda: guard.session.run(run_id=run_id))  # type: ignore[arg-type]
    assert repr(run_id)[:40] in message
    assert "letters, digits" in message
    guard.check_intact()


# --- runner and pipeline --------------------------------------------------------------


def test_runner_class_instead_of_instance(guard: Guard) -> None:
    message = raised(
        KedroSessionError,
        lambda: guard.session.run(runner=SequentialRunner),  # type: ignore[arg-type]
    )
    assert "instance" in message
    assert "()" in message
    guard.check_intact()


def test_unknown_pipeline_name(guard: Guard) -> None:
    message = raised(ValueError, lambda: guard.session.run(pipeline_names=["order"]))
    assert "'order'" in message
    assert "orders" in message.split("Did you mean")[1]
    guard.check_intact()


def test_unknown_pipeline_among_known_ones(guard: Guard) -> None:
    message = raised(
        ValueError, lambda: guard.session.run(pipeline_names=["orders", "nope"])
    )
    assert "'nope'" in message
    assert "Did you mean" not in message
    guard.check_intact()


def test_unknown_pipeline_on_the_first_run_leaves_session_usable(
    project_path: Path, orders: pd.DataFrame
) -> None:
    with KedroSession.create(project_path) as session:
        raised(ValueError, lambda: session.run(pipeline_names=["nope"]))
        result = session.run(pipeline_names=["orders"], runtime_data={"orders": orders})
        assert result["headline"].load() == expected_for(project_path, orders).headline


# --- a node that raises mid-run --------------------------------------------------------


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_node_error_fires_hook_propagates_and_leaves_session_usable(
    extras_guard: Guard,
    hook_recorder: Callable[[KedroSession], Any],
    runner: type[SequentialRunner | ThreadRunner],
) -> None:
    session = extras_guard.session
    recorder = hook_recorder(session)

    with pytest.raises(RuntimeError, match="checkpoint failed on purpose") as info:
        session.run(
            runner=runner(),
            runtime_data={"orders": extras_guard.orders},
            runtime_params={"fail": True},
        )
    assert type(info.value) is RuntimeError

    errors = recorder.calls_of("on_pipeline_error")
    assert len(errors) == 1
    assert errors[0]["error"] is info.value
    assert errors[0]["run_params"]["runtime_params"] == {"fail": True}
    assert errors[0]["run_params"]["runtime_data"] == ["orders"]
    assert recorder.calls_of("after_pipeline_run") == []
    # The run got as far as the failing node: nodes before it ran.
    assert {"summarise", "checkpoint"} <= set(recorder.nodes_run())
    assert [c["node"].name for c in recorder.calls_of("on_node_error")] == [
        "checkpoint"
    ]

    after = session.run(runtime_data={"orders": extras_guard.orders})
    assert after["checked"].load() == extras_guard.orders["region"].nunique()
    assert (
        after["headline"].load()
        == expected_for(extras_guard.project, extras_guard.orders).headline
    )
    assert len(recorder.calls_of("after_pipeline_run")) == 1
    assert len(recorder.calls_of("on_pipeline_error")) == 1
    extras_guard.check_intact()


def test_node_error_on_the_first_run_leaves_session_usable(
    make_project: Callable[..., Path],
    hook_recorder: Callable[[KedroSession], Any],
    orders: pd.DataFrame,
) -> None:
    project = make_project(extras=True)
    with KedroSession.create(project, runtime_params={"fail": True}) as session:
        recorder = hook_recorder(session)
        with pytest.raises(RuntimeError, match="checkpoint failed on purpose"):
            session.run(runtime_data={"orders": orders})
        result = session.run(
            runtime_data={"orders": orders}, runtime_params={"fail": False}
        )
    assert result["checked"].load() == orders["region"].nunique()
    assert len(recorder.calls_of("on_pipeline_error")) == 1
    assert len(recorder.calls_of("after_pipeline_run")) == 1


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of the package, by dotted name."""
    found: dict[str, type[BaseException]] = {}
    prefix = f"{kedro_runtime.__name__}."
    for info in pkgutil.walk_packages(kedro_runtime.__path__, prefix):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = obj
    return found


def _exporter(dotted: str) -> ModuleType:
    """The package that exports a public class: the service's, else the core."""
    for service in (kedro_runtime.server, kedro_runtime.dask):
        if dotted.startswith(f"{service.__name__}."):
            return service
    return kedro_runtime


def test_every_error_class_derives_from_kedro_runtime_error_and_is_exported() -> None:
    classes = _exception_classes()
    # The walk reaches the core, the server and Dask.
    assert {
        "kedro_runtime.errors.SharedFileError",
        "kedro_runtime.server.project.ServerStartError",
        "kedro_runtime.dask._requests.UnpicklableRuntimeDataError",
    } <= set(classes)
    outside = [
        name for name, cls in classes.items() if not issubclass(cls, KedroRuntimeError)
    ]
    assert outside == []
    for dotted, cls in classes.items():
        name = dotted.rpartition(".")[2]
        if name.startswith("_"):
            continue
        package = _exporter(dotted)
        assert name in package.__all__, (
            f"{dotted} is not exported by {package.__name__}"
        )
        assert getattr(package, name) is cls


@pytest.mark.parametrize(
    ("error", "old_base"),
    [
        (RuntimeDataError("x"), KedroSessionError),
        (RuntimeDataTypeError("x"), TypeError),
        (RuntimeParamsError("x"), ValueError),
        (RuntimeParamsTypeError("x"), TypeError),
        (UnreadRuntimeParamsError("x"), RuntimeParamsError),
        (UntrustedParamsTypeError("x"), TypeError),
        (RunIdError("x"), KedroSessionError),
        (RunIdTypeError("x"), TypeError),
        (PreloadError("x"), ValueError),
        (PreloadTypeError("x"), TypeError),
        (SharedFileError("x"), KedroSessionError),
        (SettingsError("x"), ValueError),
        (SettingsTypeError("x"), TypeError),
        (CatalogOverrideError("x"), DatasetError),
        (RunOptionError("x"), KedroCliError),
        (RunnerNotAllowedError("x"), ValueError),
        (ServerSettingsError("x"), ValueError),
        (ServerStartError("x"), RuntimeError),
        (DecodeError("orders", "x"), ValueError),
        (EncodeError("summary", "x"), ValueError),
        (UnpicklableRuntimeDataError("x"), RuntimeDataError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_except_clauses_written_for_the_old_bases_still_catch(
    error: Exception, old_base: type[Exception]
) -> None:
    try:
        raise error
    except old_base as caught:
        assert caught is error
    try:
        raise error
    except KedroRuntimeError as caught:
        assert caught is error


def test_a_catalog_override_error_is_still_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match=r"needs a kedro\.io\.DataCatalog") as info:
        override_catalog({}, {})  # type: ignore[arg-type]
    assert isinstance(info.value, CatalogOverrideError)
    assert isinstance(info.value, KedroRuntimeError)


def test_a_bad_request_to_a_warm_session_is_a_kedro_runtime_error(
    guard: Guard,
) -> None:
    with pytest.raises(KedroRuntimeError, match="must be a mapping") as info:
        guard.session.run(runtime_data=["orders"])  # type: ignore[arg-type]
    assert isinstance(info.value, KedroSessionError)
    assert isinstance(info.value, TypeError)
    guard.check_intact()
