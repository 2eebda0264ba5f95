"""A catalogue of bad input to ``create``, ``run``, ``override_catalog`` and ``kedro run``.

Each entry of ``CATALOGUE`` is one kind of bad input: the call, the exact error
type it must raise and words its message must contain (the argument, key or
value at fault, and what is wrong with it). Every case runs against a session
that has already run once; after the error the test checks that nothing was
written to the project, that the session's base catalog is exactly as before,
and that the same session still gives the right answers.

``ACCEPTED`` lists inputs that look wrong but that kedro-runtime accepts on
purpose, as Kedro does (``None`` meaning "nothing", unknown parameter names,
truthy strings for flags...), each with a check of what it does.

Cases covered elsewhere are not repeated here (see docs/errors.md for the whole
table): tests/test_errors.py (unknown datasets, parameter names, filtered-out
and partially injected outputs, ``runtime_data``/``runtime_params`` that are not
mappings, malformed and clashing keys, run ids that are invalid or reused,
runner classes, unknown pipelines, unpicklable data for ``ParallelRunner``),
tests/test_catalog.py (``override_catalog`` base, keys and ``catalog_class``) and
tests/test_cli.py (option parsing, ``--config`` files, session classes).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd
import pytest
from _catalog_state import CatalogState
from _example import expected_for
from _session import base_catalog, hook_manager
from click.testing import CliRunner
from kedro import KedroDeprecationWarning
from kedro.config import MissingConfigException
from kedro.framework.cli.utils import KedroCliError
from kedro.framework.hooks import hook_impl
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import ParallelRunner
from omegaconf.errors import InterpolationKeyError, UnsupportedValueType

from kedro_runtime import (
    CatalogOverrideError,
    KedroSession,
    RunIdError,
    RuntimeDataError,
    RuntimeDataTypeError,
    RuntimeParamsError,
    RuntimeParamsTypeError,
    override_catalog,
)
from kedro_runtime.cli import cli

HUGE = "k" * 10_240
"""A 10 KB name."""

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


# --- the world a case runs in -------------------------------------------------------


class World:
    """A session that has run once, and what must survive a bad call unchanged."""

    def __init__(self, session: KedroSession, project: Path, orders: pd.DataFrame):
        self.session = session
        self.project = project
        self.orders = orders
        first = session.run(runtime_data={"orders": orders})
        assert first["headline"].load() == expected_for(project, orders).headline
        self.base: DataCatalog = base_catalog(session)
        self.state = CatalogState.take(self.base)
        self.files = files_of(project)
        self.runs_started = RunsStarted()
        hook_manager(session).register(self.runs_started)

    def cli(self, *args: str) -> Any:
        """``kedro run *args`` in this process; raise what the command raised."""
        result = CliRunner().invoke(cli, ["run", *args], standalone_mode=False)
        if result.exception is not None:
            raise result.exception
        return result.return_value

    def check_intact(self) -> None:
        """Nothing written, base catalog unchanged, the session still right."""
        assert files_of(self.project) == self.files, "the bad call wrote files"
        self.state.assert_unchanged()
        result = self.session.run(
            runtime_data={"orders": self.orders}, runtime_params={"factor": 2}
        )
        assert (
            result["headline"].load()
            == expected_for(self.project, self.orders, factor=2).headline
        )
        raw = pd.read_csv(self.project / "data" / "01_raw" / "orders.csv")
        plain = self.session.run()
        assert plain["headline"].load() == expected_for(self.project, raw).headline
        assert self.runs_started.count == 2
        self.state.assert_unchanged()


class RunsStarted:
    """Counts ``before_pipeline_run`` calls."""

    def __init__(self) -> None:
        self.count = 0

    @hook_impl
    def before_pipeline_run(self) -> None:
        self.count += 1


def files_of(project: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under ``data`` and ``sessions``."""
    return {
        path.relative_to(project).as_posix(): (
            path.stat().st_size,
            path.stat().st_mtime_ns,
        )
        for folder in ("data", "sessions")
        for path in sorted((project / folder).rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def world(
    project_path: Path, orders: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.chdir(project_path)
    with KedroSession.create(project_path) as session:
        yield World(session, project_path, orders)


def message_of(error: BaseException) -> str:
    if isinstance(error, click.ClickException):
        return error.format_message()
    return str(error)


# --- the catalogue ----------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One kind of bad input."""

    kind: str
    """Short id, also the first column of the table in docs/errors.md."""
    where: str
    """``create``, ``run``, ``override_catalog`` or ``kedro run``."""
    call: Callable[[World], object]
    error: type[BaseException]
    words: tuple[str, ...]
    """Each must appear in the message."""


def generator() -> Iterator[int]:
    yield 1


def run_with(**kwargs: Any) -> Callable[[World], object]:
    return lambda world: world.session.run(**kwargs)


def create_with(
    project: Callable[[World], object] | object = None, **kwargs: Any
) -> Callable[[World], object]:
    """``create(project, **kwargs)``, then a first run (Kedro reads config then).

    ``project`` defaults to the world's project; a callable gets the world.
    """

    def call(world: World) -> object:
        path = project(world) if callable(project) else project or world.project
        with KedroSession.create(path, **kwargs) as session:  # type: ignore[arg-type]
            return session.run()

    return call


def override_with(
    *args: Any, load: str | None = None, **kwargs: Any
) -> Callable[[World], object]:
    """``override_catalog(base, *args, **kwargs)`` and, if given, load one name."""

    def call(world: World) -> object:
        layer = override_catalog(world.base, *args, **kwargs)
        return layer.load(load) if load else layer

    return call


def cli_with(*args: str) -> Callable[[World], object]:
    return lambda world: world.cli(*args)


def deprecated(call: Callable[[World], object]) -> Callable[[World], object]:
    """``call``, which must warn that ``extra_params`` is deprecated."""

    def wrapped(world: World) -> object:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return call(world)
            finally:
                assert any(
                    issubclass(w.category, KedroDeprecationWarning) for w in caught
                )

    return wrapped


def run_id_reused_after_first_run(world: World) -> object:
    # The world's first run used the session id as its run id, as Kedro does.
    return world.session.run(run_id=world.session.session_id)


CATALOGUE: list[Bad] = [
    # --- run(runtime_data=...) -------------------------------------------------------
    Bad(
        "data-generator",
        "run",
        run_with(runtime_data={"orders": generator()}),
        RuntimeDataError,
        ("'orders'", "copying this generator failed", "copy_mode='assign'"),
    ),
    Bad(
        "data-lock",
        "run",
        run_with(runtime_data={"orders": threading.Lock()}),
        RuntimeDataError,
        ("'orders'", "lock", "cannot pickle", "MemoryDataset(data"),
    ),
    Bad(
        "data-lock-nested",
        "run",
        run_with(runtime_data={"prices": {"held": threading.Lock()}}),
        RuntimeDataError,
        ("'prices'", "copying this dict failed"),
    ),
    Bad(
        "data-lambda-parallel",
        "run",
        run_with(
            runner=ParallelRunner(max_workers=2),
            runtime_data={"prices": MemoryDataset(lambda: 1, copy_mode="assign")},
        ),
        RuntimeDataError,
        ("'prices'", "must pickle", "ParallelRunner"),
    ),
    Bad(
        "data-none-value",
        "run",
        run_with(runtime_data={"orders": None}),
        RuntimeDataError,
        ("'orders' is None", "Leave 'orders' out"),
    ),
    Bad(
        "data-dataset-class",
        "run",
        run_with(runtime_data={"orders": MemoryDataset}),
        RuntimeDataError,
        ("'orders'", "dataset class MemoryDataset", "instance"),
    ),
    Bad(
        "data-dataframe-not-mapping",
        "run",
        lambda world: world.session.run(runtime_data=world.orders),
        RuntimeDataTypeError,
        ("`runtime_data` must be a mapping", "got DataFrame"),
    ),
    Bad(
        "data-int-key",
        "run",
        run_with(runtime_data={1: "x"}),
        RuntimeDataTypeError,
        ("keys must be dataset names (str)", "got 1"),
    ),
    Bad(
        "data-empty-key",
        "run",
        run_with(runtime_data={"": 1}),
        RuntimeDataError,
        ("Cannot inject ''", "free inputs"),
    ),
    Bad(
        "data-huge-key",
        "run",
        run_with(runtime_data={HUGE: 1}),
        RuntimeDataError,
        (f"Cannot inject '{HUGE}'", "not a dataset of the pipeline"),
    ),
    Bad(
        "data-parent-path-key",
        "run",
        run_with(runtime_data={"../orders": 1}),
        RuntimeDataError,
        ("Cannot inject '../orders'", "Closest matches: ['orders']"),
    ),
    Bad(
        "data-slash-key",
        "run",
        run_with(runtime_data={"01_raw/orders": 1}),
        RuntimeDataError,
        ("Cannot inject '01_raw/orders'", "free inputs are: ['orders', 'prices']"),
    ),
    Bad(
        "data-unicode-key",
        "run",
        run_with(runtime_data={"ördërs": 1}),
        RuntimeDataError,
        ("Cannot inject 'ördërs'", "Closest matches: ['orders']"),
    ),
    # --- run(runtime_params=...) and extra_params -------------------------------------
    Bad(
        "params-dotted-then-nested",
        "run",
        run_with(runtime_params={"discount.rate": 0.5, "discount": {"rate": 0.2}}),
        RuntimeParamsError,
        ("'discount.rate' twice",),
    ),
    Bad(
        "params-nested-int-key",
        "run",
        run_with(runtime_params={"discount": {1: 0.5}}),
        RuntimeParamsTypeError,
        ("keys must be non-empty strings", "got 1"),
    ),
    Bad(
        "params-tuple-key",
        "run",
        run_with(runtime_params={("discount", "rate"): 0.5}),
        RuntimeParamsTypeError,
        ("keys must be non-empty strings", "('discount', 'rate')"),
    ),
    Bad(
        "params-parent-path-key",
        "run",
        run_with(runtime_params={"../factor": 2}),
        RuntimeParamsError,
        ("keys must be non-empty strings", "got '../factor'"),
    ),
    Bad(
        "params-value-not-config",
        "run",
        run_with(runtime_params={"factor": threading.Lock()}),
        UnsupportedValueType,
        ("not a supported primitive type", "full_key: factor"),
    ),
    Bad(
        "params-interpolation-missing",
        "run",
        run_with(runtime_params={"currency": "${no_such_param}"}),
        InterpolationKeyError,
        ("'no_such_param' not found", "full_key: currency"),
    ),
    Bad(
        "extra-params-not-mapping",
        "run",
        deprecated(run_with(extra_params="factor=2")),
        RuntimeParamsTypeError,
        ("must be a mapping", "got str"),
    ),
    # --- run(run_id=...) ---------------------------------------------------------------
    Bad(
        "run-id-newline",
        "run",
        run_with(run_id="request-1\n"),
        RunIdError,
        ("'request-1\\n'", "cannot be used as a dataset save version"),
    ),
    Bad(
        "run-id-unicode",
        "run",
        run_with(run_id="ünï"),
        RunIdError,
        ("'ünï'", "letters, digits"),
    ),
    Bad(
        "run-id-session-id-reused",
        "run",
        run_id_reused_after_first_run,
        RunIdError,
        ("was already used in this session",),
    ),
    # --- run(): Kedro's own arguments ----------------------------------------------------
    Bad(
        "runner-string",
        "run",
        run_with(runner="SequentialRunner"),
        KedroSessionError,
        ("instance of a runner", "got str 'SequentialRunner'"),
    ),
    Bad(
        "pipeline-names-string",
        "run",
        run_with(pipeline_names="orders"),
        TypeError,
        ("`pipeline_names` must be a list of names", "got str 'orders'"),
    ),
    Bad(
        "pipeline-names-int-item",
        "run",
        run_with(pipeline_names=["orders", 5]),
        TypeError,
        ("`pipeline_names` must hold names (str)", "got int 5"),
    ),
    Bad(
        "pipeline-name-int",
        "run",
        run_with(pipeline_name=5),
        TypeError,
        ("`pipeline_name`", "got int 5"),
    ),
    Bad(
        "tags-string",
        "run",
        run_with(tags="pricing"),
        TypeError,
        ("`tags` must be a list of names", "got str 'pricing'"),
    ),
    Bad(
        "tags-int",
        "run",
        run_with(tags=5),
        TypeError,
        ("`tags` must be a list of names", "got int 5"),
    ),
    Bad(
        "tags-unknown",
        "run",
        run_with(tags=["no-such-tag"]),
        ValueError,
        ("no nodes after applying all provided filters",),
    ),
    Bad(
        "node-names-unknown",
        "run",
        run_with(node_names=["summarize"]),
        ValueError,
        ("does not contain nodes named ['summarize']",),
    ),
    Bad(
        "from-nodes-string",
        "run",
        run_with(from_nodes="discount"),
        TypeError,
        ("`from_nodes` must be a list of names", "got str 'discount'"),
    ),
    Bad(
        "to-nodes-none-item",
        "run",
        run_with(to_nodes=[None]),
        TypeError,
        ("`to_nodes` must hold names (str)", "got NoneType None"),
    ),
    Bad(
        "from-inputs-unknown",
        "run",
        run_with(from_inputs=["nope"]),
        ValueError,
        ("does not contain datasets named ['nope']",),
    ),
    Bad(
        "to-outputs-bytes-item",
        "run",
        run_with(to_outputs=[b"summary"]),
        TypeError,
        ("`to_outputs` must hold names (str)", "got bytes b'summary'"),
    ),
    Bad(
        "namespaces-unknown",
        "run",
        run_with(namespaces=["nope"]),
        ValueError,
        ("namespaces", "['nope']"),
    ),
    Bad(
        "load-versions-list",
        "run",
        run_with(load_versions=["orders"]),
        TypeError,
        ("`load_versions` must be a mapping", "got list ['orders']"),
    ),
    Bad(
        "load-versions-int-version",
        "run",
        run_with(load_versions={"summary": 5}),
        TypeError,
        (
            "`load_versions` must map dataset names (str) to versions (str)",
            "'summary': 5",
        ),
    ),
    # --- create() -------------------------------------------------------------------------
    Bad(
        "env-int",
        "create",
        create_with(env=5),
        TypeError,
        ("`env` must be the name of a configuration environment", "got int 5"),
    ),
    Bad(
        "env-unknown",
        "create",
        create_with(env="staging"),
        MissingConfigException,
        ("conf/staging",),
    ),
    Bad(
        "env-parent-path",
        "create",
        create_with(env="../elsewhere"),
        MissingConfigException,
        ("conf/../elsewhere", "does not exist"),
    ),
    Bad(
        "project-path-int",
        "create",
        create_with(5),
        TypeError,
        ("os.PathLike", "not int"),
    ),
    Bad(
        "project-path-missing",
        "create",
        create_with(lambda world: world.project / "no-such-project"),
        MissingConfigException,
        ("no-such-project/conf",),
    ),
    Bad(
        "conf-source-missing",
        "create",
        create_with(conf_source="/no/such/conf"),
        MissingConfigException,
        ("/no/such/conf",),
    ),
    Bad(
        "create-params-clash",
        "create",
        create_with(runtime_params={"discount": 1, "discount.rate": 0.5}),
        RuntimeParamsError,
        ("'discount' to a value and also 'discount.rate'",),
    ),
    Bad(
        "create-extra-params-not-mapping",
        "create",
        deprecated(create_with(extra_params=["factor", 2])),
        RuntimeParamsTypeError,
        ("must be a mapping", "got list"),
    ),
    # --- override_catalog() ---------------------------------------------------------------
    Bad(
        "override-string",
        "override_catalog",
        override_with("orders"),
        CatalogOverrideError,
        ("`overrides`", "must be a mapping", "got str"),
    ),
    Bad(
        "override-pairs",
        "override_catalog",
        override_with([("orders", 1)]),
        CatalogOverrideError,
        ("`overrides`", "got list"),
    ),
    Bad(
        "override-save-version-int",
        "override_catalog",
        override_with({}, save_version=5),
        CatalogOverrideError,
        ("`save_version`", "got int 5"),
    ),
    Bad(
        "override-load-versions-list",
        "override_catalog",
        override_with({}, load_versions=["summary"]),
        CatalogOverrideError,
        ("`load_versions`", "got list"),
    ),
    Bad(
        "override-lazy-overrides-list",
        "override_catalog",
        override_with({}, lazy_overrides=["summary"]),
        CatalogOverrideError,
        ("`lazy_overrides`", "got list"),
    ),
    Bad(
        "override-generator-value",
        "override_catalog",
        override_with({"orders": generator()}, load="orders"),
        CatalogOverrideError,
        ("'orders'", "copying this generator failed", "copy_mode='assign'"),
    ),
    # --- kedro run ---------------------------------------------------------------------
    Bad(
        "cli-params-empty-key",
        "kedro run",
        cli_with("--runtime-params", "=2"),
        click.UsageError,
        ("`runtime_params`", "key cannot be an empty string"),
    ),
    Bad(
        "cli-params-empty-part",
        "kedro run",
        cli_with("--runtime-params", "discount..rate=1"),
        click.BadParameter,
        ("--runtime-params", "non-empty strings"),
    ),
    Bad(
        "cli-params-nested-clash",
        "kedro run",
        cli_with("--params", "discount.rate=0.5", "--runtime-params", "discount=1"),
        click.BadParameter,
        ("'--params' and '--runtime-params'", "discount given in both"),
    ),
    Bad(
        "cli-params-config-list",
        "kedro run",
        lambda world: world.cli("--config", str(config_file(world, "[1, 2]"))),
        click.BadParameter,
        ("--runtime-params", "got list"),
    ),
    Bad(
        "cli-data-unicode-name",
        "kedro run",
        cli_with("--runtime-data", "ördërs=data/01_raw/orders.csv"),
        click.BadParameter,
        ("'ördërs' is not in the catalog", "Did you mean orders"),
    ),
    Bad(
        "cli-data-parent-path-name",
        "kedro run",
        cli_with("--runtime-data", "../orders=data/01_raw/orders.csv"),
        click.BadParameter,
        ("'../orders' is not in the catalog",),
    ),
    Bad(
        "cli-data-huge-name",
        "kedro run",
        cli_with("--runtime-data", f"{HUGE}=data/01_raw/orders.csv"),
        click.BadParameter,
        (f"'{HUGE}' is not in the catalog",),
    ),
    Bad(
        "cli-data-parameters",
        "kedro run",
        cli_with("--runtime-data", "parameters=data/01_raw/orders.csv"),
        click.BadParameter,
        ("'parameters' is a parameter", "--runtime-params"),
    ),
    Bad(
        "cli-data-memory-output",
        "kedro run",
        cli_with("--runtime-data", "headline=data/01_raw/orders.csv"),
        click.BadParameter,
        ("'headline' is not in the catalog", "Entries with a file path"),
    ),
    Bad(
        "cli-data-missing-folder",
        "kedro run",
        cli_with("--runtime-data", "orders=no/such/folder/orders.csv"),
        click.BadParameter,
        ("nothing to read for 'orders'", "no/such/folder/orders.csv"),
    ),
    Bad(
        "cli-load-versions-form",
        "kedro run",
        cli_with("--load-versions", "summary"),
        KedroCliError,
        ("'load_versions'", "found summary"),
    ),
    Bad(
        "cli-runner-unknown",
        "kedro run",
        cli_with("--runner", "NoSuchRunner"),
        AttributeError,
        ("NoSuchRunner",),
    ),
]


def config_file(world: World, runtime_params: str) -> Path:
    path = world.project.parent / "run.yml"
    path.write_text(f"run:\n  runtime_params: {runtime_params}\n")
    return path


def test_the_catalogue_is_large_and_has_unique_kinds() -> None:
    kinds = [case.kind for case in CATALOGUE]
    assert len(kinds) == len(set(kinds))
    assert len(kinds) >= 25
    assert {case.where for case in CATALOGUE} == {
        "create",
        "run",
        "override_catalog",
        "kedro run",
    }


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda case: case.kind)
def test_bad_input(world: World, case: Bad) -> None:
    with pytest.raises(case.error) as info:
        case.call(world)
    assert world.runs_started.count == 0, "the bad run got as far as its hooks"
    assert type(info.value) is case.error, (
        f"expected exactly {case.error.__name__}, got {type(info.value).__name__}: "
        f"{info.value}"
    )
    message = message_of(info.value)
    for word in case.words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "Traceback" not in message
    world.check_intact()


# --- accepted on purpose, as Kedro does ---------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """An input that looks wrong but is accepted, and what it does."""

    kind: str
    where: str
    check: Callable[[World], None]


def plain_headline(world: World) -> str:
    raw = pd.read_csv(world.project / "data" / "01_raw" / "orders.csv")
    return expected_for(world.project, raw).headline


def none_means_nothing(world: World) -> None:
    result = world.session.run(
        runtime_data=None,
        runtime_params=None,
        load_versions=None,
        tags=None,
        pipeline_names=None,
        run_id=None,
    )
    assert result["headline"].load() == plain_headline(world)


def empty_means_nothing(world: World) -> None:
    result = world.session.run(
        runtime_data={}, runtime_params={}, load_versions={}, tags=[], pipeline_names=[]
    )
    assert result["headline"].load() == plain_headline(world)
    with KedroSession.create(world.project, runtime_params={}) as session:
        assert "runtime_params" not in session.store
    with KedroSession.create(world.project, runtime_params=None, env=None) as session:
        assert "runtime_params" not in session.store


def unknown_param_names_are_added(world: World) -> None:
    params = {HUGE: 1, "ünï": 2, "a/b": 3}
    result = world.session.run(runtime_params=params)
    assert result["headline"].load() == plain_headline(world)
    seen: dict[str, Any] = {}

    class Spy:
        @hook_impl
        def before_pipeline_run(self, run_params: dict, catalog: DataCatalog) -> None:
            seen.update(catalog.load("parameters"))

    hook_manager(world.session).register(Spy())
    world.session.run(runtime_params=params)
    assert {key: seen[key] for key in params} == params
    assert seen["factor"] == 1.0


def interpolation_in_a_value_is_resolved(world: World) -> None:
    # Values are merged into the parameters config before it is resolved, as
    # Kedro's config loader does with runtime params: ${factor} is read.
    result = world.session.run(runtime_params={"currency": "${factor}"})
    assert result["headline"].load().endswith("1.0 (factor 1.0)")


def generator_filters_are_read_once(world: World) -> None:
    with_revenue = pd.DataFrame({"region": ["a"], "revenue": [200.0]})
    for tags in ((tag for tag in ["pricing"]), ["pricing"], ("pricing",)):
        result = world.session.run(
            tags=tags, runtime_data={"with_revenue": with_revenue}
        )
        assert result["discounted"].load()["revenue"].tolist() == [180.0]


def truthy_flag_strings(world: World) -> None:
    # `only_missing_outputs` is tested for truth, as in Kedro: "no" is true.
    as_string = world.session.run(only_missing_outputs="no")  # type: ignore[arg-type]
    as_true = world.session.run(only_missing_outputs=True)
    assert sorted(as_string) == sorted(as_true)
    session = KedroSession.create(world.project, save_on_close="no")  # type: ignore[arg-type]
    assert session.save_on_close == "no"
    session.close()


def uncopyable_data_without_copy(world: World) -> None:
    lock = threading.Lock()
    layer = override_catalog(
        world.base, {"orders": MemoryDataset(lock, copy_mode="assign")}
    )
    assert layer.load("orders") is lock


def session_id_as_an_explicit_first_run_id(world: World) -> None:
    with KedroSession.create(world.project) as session:
        session.run(run_id=session.session_id)
        seen: list[str] = []

        class Spy:
            @hook_impl
            def before_pipeline_run(self, run_params: dict) -> None:
                seen.append(run_params["run_id"])

        hook_manager(session).register(Spy())
        session.run()
    assert len(seen) == 1
    assert seen[0] != session.session_id


def path_like_override_name(world: World) -> None:
    layer = override_catalog(world.base, {"../escape": 1, "a/b": 2, HUGE: 3})
    assert layer.load("../escape") == 1
    assert layer.load(HUGE) == 3
    assert "../escape" not in world.base


def cli_last_value_wins(world: World) -> None:
    # --runtime-params parses as Kedro's --params does: a later item wins.
    result = world.cli("--runtime-params", "factor=2,factor=3")
    assert result["headline"].load().endswith("(factor 3)")


ACCEPTED: list[Accepted] = [
    Accepted("none-means-nothing", "run", none_means_nothing),
    Accepted("empty-means-nothing", "run", empty_means_nothing),
    Accepted("params-unknown-names", "run", unknown_param_names_are_added),
    Accepted("params-interpolation", "run", interpolation_in_a_value_is_resolved),
    Accepted("filters-generator", "run", generator_filters_are_read_once),
    Accepted("flags-truthy-strings", "run", truthy_flag_strings),
    Accepted("session-id-as-run-id", "run", session_id_as_an_explicit_first_run_id),
    Accepted("override-assign-mode", "override_catalog", uncopyable_data_without_copy),
    Accepted("override-path-like-names", "override_catalog", path_like_override_name),
    Accepted("cli-params-last-wins", "kedro run", cli_last_value_wins),
]


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda case: case.kind)
def test_accepted_input(world: World, case: Accepted) -> None:
    case.check(world)
    world.state.assert_unchanged()
    result = world.session.run(runtime_data={"orders": world.orders})
    assert (
        result["headline"].load() == expected_for(world.project, world.orders).headline
    )


def test_every_kind_is_in_the_docs_table() -> None:
    table = DOCS.read_text()
    kinds = [case.kind for case in [*CATALOGUE, *ACCEPTED]]
    missing = [kind for kind in kinds if f"`{kind}`" not in table]
    assert not missing, f"docs/errors.md has no row for {missing}"
