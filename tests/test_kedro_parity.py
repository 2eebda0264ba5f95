"""Same behaviour as Kedro's own ``KedroSession`` when nothing new is used.

Each test makes two identical copies of a project, runs Kedro's
``kedro.framework.session.KedroSession`` on one and kedro-runtime's session on
the other with the same arguments (only arguments Kedro has), and compares:

- what the run returns (the data its datasets load) or the error it raises;
- the files the run leaves in the project (relative paths and contents; a
  version folder is compared as ``<version>``);
- every hook call, in order, with its arguments: nodes and pipelines by name,
  catalogs by their datasets' names and types, data by value; ``run_params``
  equal apart from the new keys documented in docs/plugin-authors.md
  (``session_id`` and ``runtime_data``);
- the session store, after the session is closed.

Kedro's settings and pipeline registry are process-global: each copy is
bootstrapped right before its session is created. Both copies have the same
package name, so they run the very same node and hook code.
"""

from __future__ import annotations

import ast
import importlib
import math
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _hooks import HookRecorder
from _session import hook_manager
from kedro.framework.context import KedroContext
from kedro.framework.session import KedroSession as KedroDefaultSession
from kedro.framework.startup import bootstrap_project
from kedro.io import AbstractDataset, DataCatalog
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession

NEW_RUN_PARAMS = ("session_id", "runtime_data")
"""The ``run_params`` keys that kedro-runtime adds to Kedro's (documented)."""

OLD = "2020-01-01T00.00.00.000Z"
"""A version of ``with_revenue`` that both copies of the variant hold."""

OLD_WITH_REVENUE = {"region": ["old"], "revenue": [500.0]}

ORDERS_NODES = ["clean_orders", "price", "revenue", "discount", "summarise", "headline"]

PROJECT_HOOKS = '''"""Project hooks of the parity variant: they record and change a node input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.framework.session.store import BaseSessionStore

CALLS: list[str] = []


class JsonStore(BaseSessionStore):
    """A session store that writes what it holds to sessions/<session id>.json."""

    def save(self) -> None:
        folder = Path(self._path)
        folder.mkdir(parents=True, exist_ok=True)
        data = dict(self.data)
        if "exception" in data:
            # The frames of a traceback differ between the two sessions.
            data["exception"] = {**data["exception"], "traceback": "<frames>"}
        content = json.dumps(data, default=str, sort_keys=True)
        (folder / f"{self._session_id}.json").write_text(content)


class ProjectHooks:
    @hook_impl
    def after_context_created(self, context: Any) -> None:
        CALLS.append(f"after_context_created:{context.env}")

    @hook_impl
    def after_catalog_created(self, catalog: Any, save_version: str) -> None:
        CALLS.append("after_catalog_created")

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict) -> dict | None:
        CALLS.append(f"before_node_run:{node.name}")
        if node.name == "headline":
            return {"params:currency": "USD"}
        return None

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        CALLS.append(f"after_dataset_saved:{dataset_name}")

    @hook_impl
    def after_pipeline_run(self, run_params: dict) -> None:
        CALLS.append(f"after_pipeline_run:{sorted(run_params)[:3]}")
'''

PROJECT_SETTINGS = """
from {package}.hooks import JsonStore, ProjectHooks

HOOKS = (ProjectHooks(),)
SESSION_STORE_CLASS = JsonStore
"""

VERSIONED_CATALOG = """
with_revenue:
  type: pandas.CSVDataset
  filepath: data/02_intermediate/with_revenue.csv
  versioned: true
  save_args:
    index: false

headline:
  type: text.TextDataset
  filepath: data/08_reporting/headline.txt
  versioned: true
"""


# --- recording -------------------------------------------------------------------

# The one type that differs on purpose: a run's intermediate datasets are a
# MemoryDataset subclass (kedro_runtime/memory.py, docs/guarantees.md).
_OURS_FOR_KEDROS = {
    "kedro_runtime.memory.RunMemoryDataset": "kedro.io.memory_dataset.MemoryDataset",
    "RunMemoryDataset": "MemoryDataset",
}


def _kedro_type(name: str | None) -> str | None:
    return _OURS_FOR_KEDROS.get(name or "", name)


@dataclass
class Normaliser:
    """Turns hook arguments into plain values that compare across the two copies.

    The project path and the session id (the run's save version) differ between
    the copies; they become ``<project>`` and ``<version>``.
    """

    project: Path
    version: str = ""

    def text(self, value: str) -> str:
        value = value.replace(self.project.as_posix(), "<project>")
        return value.replace(self.version, "<version>") if self.version else value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Path):
            return ("path", self.text(value.as_posix()))
        if isinstance(value, pd.DataFrame):
            return ("DataFrame", self(value.to_dict("list")))
        if isinstance(value, DataCatalog):
            return (
                "catalog",
                type(value).__name__,
                sorted((name, _kedro_type(value.get_type(name))) for name in value),
            )
        if isinstance(value, AbstractDataset):
            return ("dataset", _kedro_type(type(value).__name__))
        if isinstance(value, KedroContext):
            return (
                "context",
                type(value).__name__,
                value.env,
                self(value.params),
                self(value.project_path),
            )
        if isinstance(value, Pipeline):
            return ("pipeline", [node.name for node in value.nodes])
        if isinstance(value, Node):
            return ("node", value.name)
        if isinstance(value, BaseException):
            return ("error", type(value).__name__, self.text(str(value)))
        if isinstance(value, Mapping):
            return {self(key): self(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        return value


class FullRecorder(HookRecorder):
    """Records every Kedro hook with every argument, normalised when it fires."""

    def __init__(self, normalise: Normaliser) -> None:
        super().__init__(normalise)
        self.raw_run_params: list[dict[str, Any]] = []

    def _add(self, hook: str, **kwargs: Any) -> None:
        if "run_params" in kwargs:
            self.raw_run_params.append(dict(kwargs["run_params"]))
        super()._add(hook, **kwargs)


# --- running both sessions ------------------------------------------------------


def files_of(project: Path) -> dict[str, bytes]:
    """Every file of the project but Python caches: relative path to content."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@dataclass
class Observed:
    """What one session did in one run."""

    session_id: str
    calls: list[tuple[str, dict[str, Any]]]
    raw_run_params: list[dict[str, Any]]
    outputs: dict[str, Any] | None
    error: Any
    written: dict[str, str | bytes]
    store: dict[str, Any]
    project_hook_calls: list[str] = field(default_factory=list)

    def hooks(self) -> list[str]:
        return [name for name, _ in self.calls]


def observe(
    session_class: type[KedroDefaultSession],
    project: Path,
    package: str,
    create: dict[str, Any],
    run: dict[str, Any],
) -> Observed:
    """Bootstrap ``project``, create a session of ``session_class``, run once."""
    bootstrap_project(project)
    hooks_module = _project_hooks(package)
    if hooks_module is not None:
        hooks_module.CALLS.clear()
    before = files_of(project)
    session = session_class.create(project, **create)
    normalise = Normaliser(project, session.session_id)
    recorder = FullRecorder(normalise)
    hook_manager(session).register(recorder)
    outputs = error = None
    try:
        with session:
            result = session.run(**run)
        outputs = {name: normalise(dataset.load()) for name, dataset in result.items()}
    except Exception as exc:
        error = normalise(exc)
    after = files_of(project)
    written = {
        normalise.text(path): _normalised_content(normalise, content)
        for path, content in after.items()
        if before.get(path) != content
    }
    return Observed(
        session_id=session.session_id,
        calls=recorder.calls,
        raw_run_params=recorder.raw_run_params,
        outputs=outputs,
        error=error,
        written=written,
        store=normalise(_store_without_traceback(session.store)),
        project_hook_calls=list(hooks_module.CALLS) if hooks_module else [],
    )


def _normalised_content(normalise: Normaliser, content: bytes) -> str | bytes:
    """Text files with the project path and version normalised; others as bytes."""
    try:
        return normalise.text(content.decode("utf-8"))
    except UnicodeDecodeError:
        return content


def _project_hooks(package: str) -> Any:
    try:
        return importlib.import_module(f"{package}.hooks")
    except ModuleNotFoundError:
        return None


def _store_without_traceback(store: dict[str, Any]) -> dict[str, Any]:
    """The store; an exception's traceback text names file paths of the copy."""
    store = dict(store)
    if "exception" in store:
        exception = dict(store["exception"])
        exception["traceback"] = len(exception["traceback"]) > 0
        store["exception"] = exception
    return store


def run_both(
    kedro_project: Path,
    runtime_project: Path,
    package: str,
    create: dict[str, Any] | None = None,
    run: dict[str, Any] | None = None,
) -> tuple[Observed, Observed]:
    """Kedro's session on one copy, then kedro-runtime's on the other."""
    theirs = observe(
        KedroDefaultSession, kedro_project, package, create or {}, run or {}
    )
    ours = observe(KedroSession, runtime_project, package, create or {}, run or {})
    return theirs, ours


def without_new_run_params(observed: Observed) -> list[tuple[str, dict[str, Any]]]:
    """The calls, with the documented new ``run_params`` keys checked and removed."""
    calls = []
    for name, arguments in observed.calls:
        kwargs = dict(arguments)
        if "run_params" in kwargs:
            run_params = dict(kwargs["run_params"])
            assert run_params.pop("session_id") == "<version>"
            assert run_params.pop("runtime_data") == []
            kwargs["run_params"] = run_params
        if name == "after_catalog_created":
            # The base catalog has no save version, as Kedro's context.catalog
            # (documented in guarantees.md); Kedro's run passes its run id.
            assert kwargs["save_version"] is None
            kwargs["save_version"] = "<version>"
        calls.append((name, kwargs))
    return calls


def calls_of(observed: Observed, hook: str) -> list[dict[str, Any]]:
    return [kwargs for name, kwargs in observed.calls if name == hook]


def assert_same(theirs: Observed, ours: Observed, *, ordered: bool = True) -> None:
    """Everything observable is the same, apart from the documented new keys."""
    if not ordered:
        theirs.calls = sorted(theirs.calls, key=repr)
        ours.calls = sorted(ours.calls, key=repr)
        theirs.project_hook_calls.sort()
        ours.project_hook_calls.sort()
    assert ours.hooks() == theirs.hooks()
    for raw in ours.raw_run_params:
        assert set(raw) - set(theirs.raw_run_params[0]) == set(NEW_RUN_PARAMS)
        # The first run of a kedro-runtime session has the session id as run id.
        assert raw["run_id"] == raw["session_id"] == ours.session_id
    for raw in theirs.raw_run_params:
        assert raw["run_id"] == theirs.session_id
    mine = without_new_run_params(ours)
    for position, (call, their_call) in enumerate(zip(mine, theirs.calls, strict=True)):
        assert call[0] == their_call[0]
        assert sorted(call[1]) == sorted(their_call[1]), f"arguments of {call[0]}"
        assert call == their_call, f"call {position}: {call[0]}"
    assert ours.error == theirs.error
    assert ours.outputs == theirs.outputs
    assert sorted(ours.written) == sorted(theirs.written)
    assert ours.written == theirs.written
    assert ours.store == theirs.store
    assert ours.project_hook_calls == theirs.project_hook_calls


# --- projects --------------------------------------------------------------------


def twin(project: Path) -> Path:
    """An identical copy of ``project`` (same package name) beside it."""
    copy = project.parent / f"{project.name}_twin"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def add_hooks_and_versions(project: Path, package: str) -> None:
    """Make a project hook class (in settings) and two versioned outputs."""
    source = project / "src" / package
    (source / "hooks.py").write_text(PROJECT_HOOKS)
    with (source / "settings.py").open("a") as file:
        file.write(PROJECT_SETTINGS.format(package=package))
    with (project / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(VERSIONED_CATALOG)
    # make_project bootstrapped the project: its settings module must be read again.
    sys.modules.pop(f"{package}.settings", None)


@pytest.fixture
def example(make_project: Callable[..., Path]) -> tuple[Path, Path, str]:
    """Two copies of examples/orders, unchanged but for the package name."""
    project = make_project()
    return project, twin(project), project.name


@pytest.fixture
def variant(make_project: Callable[..., Path]) -> tuple[Path, Path, str]:
    """Two copies of a variant with versioned outputs and a project hook class."""
    project = make_project()
    add_hooks_and_versions(project, project.name)
    old = project / "data" / "02_intermediate" / "with_revenue.csv" / OLD
    old.mkdir(parents=True)
    pd.DataFrame(OLD_WITH_REVENUE).to_csv(old / "with_revenue.csv", index=False)
    return project, twin(project), project.name


@pytest.fixture
def failing(make_project: Callable[..., Path]) -> tuple[Path, Path, str]:
    """Two copies of the variant with the extras pipeline (a node that can fail)."""
    project = make_project(extras=True)
    add_hooks_and_versions(project, project.name)
    return project, twin(project), project.name


# --- tests -----------------------------------------------------------------------


def test_example_project_plain_run(example: tuple[Path, Path, str]) -> None:
    theirs, ours = run_both(*example)
    assert theirs.error is None
    assert ours.hooks()[:3] == [
        "after_context_created",
        "after_catalog_created",
        "before_pipeline_run",
    ]
    assert "data/08_reporting/summary_all.csv" in theirs.written
    assert_same(theirs, ours)


def test_versioned_outputs_and_project_hooks(
    variant: tuple[Path, Path, str],
) -> None:
    theirs, ours = run_both(*variant)
    assert theirs.error is None
    assert {
        "data/02_intermediate/with_revenue.csv/<version>/with_revenue.csv",
        "data/08_reporting/headline.txt/<version>/headline.txt",
    } <= set(theirs.written)
    # The project hook changed the headline node's input in Kedro's run.
    assert theirs.outputs is not None
    assert "USD" in theirs.outputs["headline"]
    assert "before_node_run:headline" in theirs.project_hook_calls
    assert_same(theirs, ours)


@pytest.mark.parametrize(
    ("run", "error"),
    [
        pytest.param(
            {"pipeline_names": ["orders"], "to_nodes": ["summarise"]},
            None,
            id="to_nodes",
        ),
        pytest.param({"node_names": ["clean_orders", "price"]}, None, id="node_names"),
        pytest.param({"from_nodes": ["discount"]}, None, id="from_nodes"),
        pytest.param({"to_outputs": ["priced"]}, None, id="to_outputs"),
        pytest.param({"pipeline_name": "orders"}, None, id="deprecated_pipeline_name"),
        pytest.param({"runner": SequentialRunner()}, None, id="runner_instance"),
        pytest.param({"only_missing_outputs": True}, None, id="only_missing_outputs"),
        pytest.param({"tags": ["pricing"]}, None, id="tags_from_a_versioned_input"),
        pytest.param({"from_inputs": ["with_revenue"]}, None, id="from_inputs"),
        pytest.param({"node_names": ["nope"]}, "ValueError", id="unknown_node"),
    ],
)
def test_run_arguments(
    variant: tuple[Path, Path, str], run: dict[str, Any], error: str | None
) -> None:
    theirs, ours = run_both(*variant, run=run)
    assert (theirs.error or [None, None])[1] == error, theirs.error
    assert_same(theirs, ours)


def test_thread_runner(variant: tuple[Path, Path, str]) -> None:
    """Threads may interleave node and dataset hooks: compare them as a multiset."""
    theirs, ours = run_both(*variant, run={"runner": ThreadRunner(max_workers=2)})
    assert theirs.error is None
    assert_same(theirs, ours, ordered=False)


def test_parallel_runner(variant: tuple[Path, Path, str]) -> None:
    """Nodes run in other processes: what the parent sees must be the same."""
    theirs, ours = run_both(*variant, run={"runner": ParallelRunner(max_workers=2)})
    assert theirs.error is None
    assert "before_pipeline_run" in theirs.hooks()
    # Documented difference (docs/guarantees.md): Kedro builds the catalog of its
    # one run as a SharedMemoryDataCatalog; kedro-runtime builds its base catalog
    # once, of the project's DATA_CATALOG_CLASS, whatever the runner, and gives
    # the run a SharedMemoryDataCatalog layer over it (as the run hooks show).
    (their_created,) = calls_of(theirs, "after_catalog_created")
    (our_created,) = calls_of(ours, "after_catalog_created")
    assert their_created["catalog"][1] == "SharedMemoryDataCatalog"
    assert our_created["catalog"][1] != "SharedMemoryDataCatalog"
    assert our_created["catalog"][2] == their_created["catalog"][2]
    our_created["catalog"] = their_created["catalog"]
    for hook in ("before_pipeline_run", "after_pipeline_run"):
        (call,) = calls_of(ours, hook)
        assert call["catalog"][1] == "SharedMemoryDataCatalog"
    assert_same(theirs, ours, ordered=False)


def test_load_versions_of_a_versioned_input(
    variant: tuple[Path, Path, str],
) -> None:
    """Documented difference: the base catalog is built without a run's versions."""
    run = {"from_inputs": ["with_revenue"], "load_versions": {"with_revenue": OLD}}
    theirs, ours = run_both(*variant, run=run)
    assert theirs.error is None
    # Both runs read the old version: same outputs, same files.
    assert theirs.outputs is not None
    assert "Top region old: 450.00 USD" in theirs.outputs["headline"]
    (their_created,) = calls_of(theirs, "after_catalog_created")
    (our_created,) = calls_of(ours, "after_catalog_created")
    assert their_created["load_versions"] == {"with_revenue": OLD}
    # kedro-runtime builds its base catalog once per session, before and apart
    # from any run: it gets no run's load versions (docs/guarantees.md).
    assert our_created["load_versions"] is None
    our_created["load_versions"] = their_created["load_versions"]
    assert_same(theirs, ours)


def test_unknown_load_version(variant: tuple[Path, Path, str]) -> None:
    """Documented difference: the base catalog is built before the run's checks."""
    theirs, ours = run_both(*variant, run={"load_versions": {"nope": OLD}})
    assert theirs.error is not None
    assert theirs.error[1] == "DatasetNotFoundError"
    assert theirs.hooks() == ["after_context_created"]
    # The session's base catalog does not depend on the run's arguments: the
    # session builds it (and after_catalog_created fires) before it rejects
    # the run's load_versions, which Kedro checks while building its catalog.
    assert ours.hooks() == ["after_context_created", "after_catalog_created"]
    assert ours.project_hook_calls[1:] == ["after_catalog_created"]
    ours.calls = ours.calls[:1]
    ours.project_hook_calls = ours.project_hook_calls[:1]
    assert_same(theirs, ours)


def test_create_arguments(variant: tuple[Path, Path, str]) -> None:
    theirs, ours = run_both(
        *variant, create={"env": "local", "runtime_params": {"factor": 2}}
    )
    assert theirs.error is None
    assert theirs.store["runtime_params"] == {"factor": 2}
    assert_same(theirs, ours)


def test_failing_node(failing: tuple[Path, Path, str]) -> None:
    theirs, ours = run_both(*failing, create={"runtime_params": {"fail": True}})
    assert theirs.error is not None
    assert theirs.error[1] == "RuntimeError"
    assert theirs.hooks()[-2:] == ["on_node_error", "on_pipeline_error"]
    assert theirs.store["exception"]["type"] == "RuntimeError"
    assert_same(theirs, ours)


def test_normaliser_tells_different_runs_apart(
    example: tuple[Path, Path, str],
) -> None:
    """The comparison is not blind: different parameters give different records."""
    theirs, _ = run_both(*example)
    other = observe(
        KedroSession, example[1], example[2], {"runtime_params": {"factor": 3}}, {}
    )
    with pytest.raises(AssertionError):
        assert_same(theirs, other)
    assert other.outputs != theirs.outputs
    assert ORDERS_NODES == [
        kwargs["node"][1] for name, kwargs in theirs.calls if name == "before_node_run"
    ]


def test_unknown_pipeline(variant: tuple[Path, Path, str]) -> None:
    """Documented difference: an unknown pipeline name is a ValueError here.

    This project's registry calls ``find_pipelines(raise_errors=True)``, so Kedro's
    session lets the registry's ImportError for the missing module through;
    kedro-runtime tells an unknown name from a broken module and raises
    Kedro's own "Failed to find the pipeline" ValueError, with suggestions.
    """
    theirs, ours = run_both(*variant, run={"pipeline_names": ["order"]})
    assert theirs.error is not None
    assert ours.error is not None
    assert theirs.error[1] == "ImportError"
    assert ours.error[1] == "ValueError"
    assert "Failed to find the pipeline named 'order'" in ours.error[2]
    assert "orders" in ours.error[2].split("Did you mean")[1]
    assert ours.hooks() == theirs.hooks() == ["after_context_created"]
    # The error differs, so does the exception the session store records.
    assert ours.store["exception"]["type"] == "ValueError"
    stored = "sessions/<version>.json"
    assert '"type": "ValueError"' in str(ours.written[stored])
    ours.error = theirs.error
    ours.store["exception"] = theirs.store["exception"]
    ours.written[stored] = theirs.written[stored]
    assert_same(theirs, ours)


# --- the Guarantees page ---------------------------------------------------------

GUARANTEES = Path(__file__).resolve().parents[1] / "docs" / "guarantees.md"


def test_guarantees_page_cites_only_existing_tests() -> None:
    """Every ``file.py::test`` that docs/guarantees.md names exists in tests/."""
    cited = re.findall(r"(test_\w+\.py)::(test_\w+)", GUARANTEES.read_text())
    assert len(cited) >= 40
    missing = []
    for file, name in sorted(set(cited)):
        path = Path(__file__).parent / file
        tree = ast.parse(path.read_text()) if path.exists() else ast.Module([], [])
        defined = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        if name not in defined:
            missing.append(f"{file}::{name}")
    assert not missing, f"docs/guarantees.md cites tests that do not exist: {missing}"
