"""``kedro run`` from kedro-runtime, run in-process on a copy of examples/orders.

The behave features in ``features/`` drive the real ``kedro`` executable on a
freshly generated project; these tests pin the details: option parity with
Kedro's command, parsing, error messages, the session-class fallback and the
private Kedro CLI helpers in ``kedro_runtime._kedro_private``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import click
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import KedroCliError, find_run_command
from kedro.framework.project import settings
from kedro.framework.session import KedroSession as KedroDefaultSession
from kedro.io import DataCatalog

from kedro_runtime import KedroSession, generate_run_id
from kedro_runtime import _kedro_private as private
from kedro_runtime.cli import (
    check_no_shared_keys,
    cli,
    run,
    runtime_datasets,
    runtime_session_class,
    split_runtime_data,
    split_runtime_params,
)

BUILTIN_OPTIONS = {
    "from_inputs",
    "to_outputs",
    "from_nodes",
    "to_nodes",
    "node_names",
    "runner",
    "is_async",
    "runner_params",
    "env",
    "tags",
    "load_versions",
    "pipeline",
    "pipelines",
    "namespaces",
    "config",
    "conf_source",
    "params",
    "only_missing_outputs",
}
"""The options of Kedro 1.7's ``kedro run``, each handled by kedro-runtime's."""

SUMMARY = Path("data") / "08_reporting"


def invoke(project: Path, *args: str) -> Result:
    """``kedro run *args`` in ``project``, in this process."""
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=True)


def revenue(project: Path, region: str = "all") -> dict[str, float]:
    table = pd.read_csv(project / SUMMARY / f"summary_{region}.csv")
    return dict(zip(table["region"], table["revenue"], strict=True))


def assert_clean_failure(result: Result, *fragments: str) -> None:
    """Exit code 2 from a click error: a message, not a traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture
def project(project_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project_path)
    return project_path


@pytest.fixture
def march_orders(project_path: Path) -> Path:
    """Orders of one region only, in a file outside the project's catalog."""
    path = project_path.parent / "march.csv"
    pd.DataFrame(
        {
            "order_id": [10, 11],
            "region": ["west", "west"],
            "product": ["widget", "gadget"],
            "quantity": [1, 2],
        }
    ).to_csv(path, index=False)
    return path


# --- the command's options ---------------------------------------------------------


def test_kedro_run_has_the_options_kedro_runtime_handles() -> None:
    names = {param.name for param in kedro_run.params}
    assert names == BUILTIN_OPTIONS, (
        "Kedro's `kedro run` options changed: kedro_runtime.cli must handle "
        f"{sorted(names ^ BUILTIN_OPTIONS)}"
    )


@pytest.mark.parametrize("name", sorted(BUILTIN_OPTIONS))
def test_every_builtin_option_is_kept_unchanged(name: str) -> None:
    theirs = next(p for p in kedro_run.params if p.name == name)
    ours = next(p for p in run.params if p.name == name)
    assert isinstance(ours, click.Option)
    assert isinstance(theirs, click.Option)
    assert (ours.opts, ours.secondary_opts) == (theirs.opts, theirs.secondary_opts)
    assert ours.help == theirs.help
    assert ours.type is theirs.type
    assert ours.is_flag == theirs.is_flag
    assert ours.get_default(click.Context(run)) == theirs.get_default(
        click.Context(kedro_run)
    )
    if name != "config":  # ours also reads the new options from the file
        assert ours is theirs


def test_new_options_follow_params_in_the_help() -> None:
    names = [p.name for p in run.params]
    start = names.index("params")
    assert names[start : start + 3] == ["params", "runtime_params", "runtime_data"]
    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    for option in (
        *(opt for p in kedro_run.params for opt in p.opts),
        "--runtime-data",
    ):
        assert option in help_text


def test_the_entry_point_gives_the_run_command(project_path: Path) -> None:
    # `python -m <package>` runs what find_run_command finds: the plugin's command.
    assert find_run_command("orders_demo") is run


# --- parsing -----------------------------------------------------------------------


def _parse(callback: Any, value: Any, option: str = "runtime_params") -> Any:
    param = next(p for p in run.params if p.name == option)
    return callback(click.Context(run), param, value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("factor=2", {"factor": 2}),
        ("factor=2.5,region=west", {"factor": 2.5, "region": "west"}),
        ("discount.rate=0.3,flag=true", {"discount": {"rate": 0.3}, "flag": True}),
        ("name=a:b", {"name": "a:b"}),
        ("", {}),
    ],
)
def test_runtime_params_parse_and_type_as_params_does(raw: str, expected: Any) -> None:
    params_option = next(p for p in kedro_run.params if p.name == "params")
    as_params = params_option.callback(click.Context(kedro_run), params_option, raw)  # type: ignore[misc]
    assert _parse(split_runtime_params, raw) == expected == (as_params or {})


def test_runtime_params_from_a_config_mapping_are_kept() -> None:
    assert _parse(split_runtime_params, {"a": {"b": 1}}) == {"a": {"b": 1}}


@pytest.mark.parametrize("raw", ["factor", "=2", "a=1,broken"])
def test_runtime_params_items_need_a_key_and_a_value(raw: str) -> None:
    with pytest.raises(click.UsageError, match="runtime_params"):
        _parse(split_runtime_params, raw)


def test_runtime_data_parses_names_and_paths() -> None:
    parsed = _parse(split_runtime_data, "a=x.csv, b = dir/y=1.csv", "runtime_data")
    assert parsed == {"a": "x.csv", "b": "dir/y=1.csv"}
    assert _parse(split_runtime_data, {"a": "x.csv"}, "runtime_data") == {"a": "x.csv"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("orders", "separated by '='"),
        ("=x.csv", "name is empty"),
        ("orders=", "path for 'orders' is empty"),
        ("orders=a.csv,orders=b.csv", "'orders' is given more than once"),
        (["orders=a.csv"], "expected 'name=path,...' or a mapping"),
    ],
)
def test_runtime_data_bad_items(raw: Any, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        _parse(split_runtime_data, raw, "runtime_data")


@pytest.mark.parametrize(
    ("params", "runtime", "clash"),
    [
        ({"a": 1}, {"a": 2}, "a"),
        ({"m": {"x": 1}}, {"m": {"x": 2}}, "m.x"),
        ({"m": {"x": 1}}, {"m": 5}, "m"),
        ({"m.x": 1}, {"m": {"x": 2}}, "m.x"),
    ],
)
def test_a_key_in_params_and_runtime_params_is_refused(
    params: dict[str, Any], runtime: dict[str, Any], clash: str
) -> None:
    with pytest.raises(click.BadParameter, match=rf"^{clash} given in both"):
        check_no_shared_keys(params, runtime)


def test_different_keys_in_params_and_runtime_params_are_fine() -> None:
    check_no_shared_keys({"m": {"x": 1}, "a": 1}, {"m": {"y": 2}, "b": 2})


# --- runs on the example project ---------------------------------------------------


def test_plain_run_is_the_project_run(project: Path) -> None:
    result = invoke(project)
    assert result.exit_code == 0, result.output
    assert revenue(project) == {"east": 394.2, "south": 108.0, "north": 45.0}


def test_several_pipelines_run_together(project: Path) -> None:
    result = invoke(project, "--pipelines", "orders,__default__")
    assert result.exit_code == 0, result.output
    assert revenue(project) == {"east": 394.2, "south": 108.0, "north": 45.0}


def test_runtime_params_change_a_parameter_and_a_catalog_path(project: Path) -> None:
    result = invoke(project, "--runtime-params", "region=west,factor=2")
    assert result.exit_code == 0, result.output
    assert revenue(project, "west") == {"east": 788.4, "south": 204.0, "north": 90.0}
    assert not (project / SUMMARY / "summary_all.csv").exists()


def test_params_and_runtime_params_combine(project: Path) -> None:
    result = invoke(project, "--params", "factor=2", "--runtime-params", "region=x")
    assert result.exit_code == 0, result.output
    assert revenue(project, "x") == {"east": 788.4, "south": 204.0, "north": 90.0}


def test_params_and_runtime_params_with_one_key_fail(project: Path) -> None:
    result = invoke(project, "--params", "factor=2", "--runtime-params", "factor=3")
    assert_clean_failure(result, "factor given in both")
    assert not list((project / SUMMARY).glob("*.csv"))


@pytest.mark.parametrize(
    "relative", [False, True], ids=["absolute", "relative-to-the-current-directory"]
)
def test_runtime_data_reads_another_file(
    project: Path, march_orders: Path, relative: bool
) -> None:
    """A relative path is read from the current directory (the project)."""
    path = f"../{march_orders.name}" if relative else str(march_orders)
    result = invoke(project, "--runtime-data", f"orders={path}")
    assert result.exit_code == 0, result.output
    assert revenue(project) == {"west": 111.0}


def test_runtime_data_of_a_produced_dataset_skips_its_node(
    project: Path, march_orders: Path
) -> None:
    summary = project.parent / "summary.csv"
    pd.DataFrame({"region": ["zeta"], "revenue": [1.5]}).to_csv(summary, index=False)
    result = invoke(
        project, "--runtime-data", f"summary={summary}", "--to-outputs", "summary"
    )
    assert result.exit_code == 0, result.output
    # summarise did not run: nothing saved under the catalog's own path
    assert not (project / SUMMARY / "summary_all.csv").exists()


def test_runtime_data_keeps_type_and_options_of_a_factory_pattern_entry(
    tmp_path: Path,
) -> None:
    catalog = DataCatalog.from_config(
        {
            "{name}_raw": {
                "type": "pandas.CSVDataset",
                "filepath": str(tmp_path / "{name}.csv"),
                "load_args": {"sep": ";"},
            }
        }
    )
    other = tmp_path / "elsewhere.csv"
    other.write_text("a;b\n1;2\n")
    datasets = runtime_datasets(catalog, {"x_raw": str(other)}, {}, generate_run_id())
    assert type(datasets["x_raw"]).__name__ == "CSVDataset"
    assert datasets["x_raw"].load().to_dict("list") == {"a": [1], "b": [2]}


def test_runtime_data_of_a_versioned_entry_reads_versions_at_the_new_path(
    tmp_path: Path,
) -> None:
    config = {"type": "pandas.CSVDataset", "filepath": "x.csv", "versioned": True}
    catalog = DataCatalog.from_config({"table": config})
    folder = tmp_path / "table.csv"
    for version, value in (
        ("2024-01-01T00.00.00.000Z", 1),
        ("2024-02-01T00.00.00.000Z", 2),
    ):
        (folder / version).mkdir(parents=True)
        (folder / version / "table.csv").write_text(f"v\n{value}\n")
    run_id = generate_run_id()
    latest = runtime_datasets(catalog, {"table": str(folder)}, {}, run_id)["table"]
    assert latest.load()["v"].tolist() == [2]
    older = runtime_datasets(
        catalog, {"table": str(folder)}, {"table": "2024-01-01T00.00.00.000Z"}, run_id
    )["table"]
    assert older.load()["v"].tolist() == [1]


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ("orderz=x.csv", ["'orderz' is not in the catalog", "Did you mean orders?"]),
        ("params:factor=x.csv", ["is a parameter", "--runtime-params"]),
        ("orders=missing.csv", ["nothing to read for 'orders'", "missing.csv"]),
        ("orders", ["separated by '='"]),
    ],
)
def test_runtime_data_errors_are_clear(
    project: Path, value: str, fragments: list[str]
) -> None:
    result = invoke(project, "--runtime-data", value)
    assert_clean_failure(result, "--runtime-data", *fragments)
    assert not list((project / SUMMARY).glob("*.csv"))


def test_runtime_data_lists_the_entries_with_a_path(project: Path) -> None:
    result = invoke(project, "--runtime-data", "nowhere=x.csv")
    assert_clean_failure(result, "Entries with a file path: orders, prices, summary.")


def test_runtime_data_outside_the_pipeline_is_refused_by_the_session(
    project: Path, march_orders: Path
) -> None:
    result = invoke(
        project, "--runtime-data", f"orders={march_orders}", "--from-nodes", "summarise"
    )
    assert_clean_failure(result, "--runtime-data", "Cannot inject 'orders'")


def test_runtime_data_on_an_entry_without_a_path(project: Path) -> None:
    catalog = project / "conf" / "base" / "catalog.yml"
    catalog.write_text(catalog.read_text() + "\nheadline:\n  type: MemoryDataset\n")
    result = invoke(project, "--runtime-data", "headline=x.csv")
    assert_clean_failure(result, "'headline'", "has no file path")


def test_bad_runtime_params_fail_cleanly(project: Path) -> None:
    result = invoke(project, "--runtime-params", "factor")
    assert_clean_failure(result, "Invalid format of `runtime_params` option")


# --- --config ----------------------------------------------------------------------


def test_config_file_gives_the_new_options(project: Path, march_orders: Path) -> None:
    config = project / "run.yml"
    config.write_text(
        "run:\n"
        "  runtime_params:\n"
        "    region: cfg\n"
        f"  runtime_data: orders={march_orders}\n"
        "  params: factor=2\n"
    )
    result = invoke(project, "--config", str(config))
    assert result.exit_code == 0, result.output
    assert revenue(project, "cfg") == {"west": 202.8}


def test_command_line_wins_over_the_config_file(project: Path) -> None:
    config = project / "run.yml"
    config.write_text("run:\n  runtime_params: region=cfg\n")
    result = invoke(project, "-c", str(config), "--runtime-params", "region=cli")
    assert result.exit_code == 0, result.output
    assert (project / SUMMARY / "summary_cli.csv").exists()
    assert not (project / SUMMARY / "summary_cfg.csv").exists()


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (
            "run:\n  runtime_param: a=1\n",
            ["runtime_param", "Did you mean runtime_params"],
        ),
        ("run:\n  config: other.yml\n", ["`config`"]),
    ],
)
def test_unknown_config_keys_exit_1_as_in_kedro(
    project: Path, content: str, fragments: list[str]
) -> None:
    config = project / "run.yml"
    config.write_text(content)
    result = invoke(project, "--config", str(config))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for fragment in ["--config", "not an option of `kedro run`", *fragments]:
        assert fragment in result.output, result.output


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("other:\n  tags: x\n", ["'run:' mapping"]),
        ("run: [\n", ["cannot read"]),
    ],
)
def test_bad_config_files_fail_cleanly(
    project: Path, content: str, fragments: list[str]
) -> None:
    config = project / "run.yml"
    config.write_text(content)
    result = invoke(project, "--config", str(config))
    assert_clean_failure(result, "--config", *fragments)


# --- which session -----------------------------------------------------------------


class OtherSession(KedroDefaultSession):
    """A custom session of another lineage than kedro-runtime's."""

    created: ClassVar[int] = 0

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> OtherSession:  # type: ignore[override]
        OtherSession.created += 1
        return super().create(*args, **kwargs)  # type: ignore[return-value]


class MySession(KedroSession):
    """A project's own subclass of kedro-runtime's session."""

    runs: ClassVar[int] = 0

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        MySession.runs += 1
        return super().run(*args, **kwargs)


@pytest.mark.parametrize(
    ("configured", "used"),
    [
        (KedroSession, KedroSession),
        (KedroDefaultSession, KedroSession),
        (MySession, MySession),
        (OtherSession, None),
    ],
)
def test_session_class_choice(
    project_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    configured: type,
    used: type | None,
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", configured)
    assert runtime_session_class() is used


def test_kedro_default_session_runs_with_kedro_runtime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", KedroDefaultSession)
    result = invoke(project, "--runtime-params", "region=default")
    assert result.exit_code == 0, result.output
    assert revenue(project, "default") == {"east": 394.2, "south": 108.0, "north": 45.0}


def test_a_subclass_of_the_runtime_session_is_used(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", MySession)
    MySession.runs = 0
    result = invoke(project, "--runtime-params", "region=mine")
    assert result.exit_code == 0, result.output
    assert MySession.runs == 1
    assert (project / SUMMARY / "summary_mine.csv").exists()


def test_another_session_lineage_runs_the_builtin_command(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", OtherSession)
    OtherSession.created = 0
    result = invoke(project, "--nodes", "clean_orders,price")
    assert result.exit_code == 0, result.output
    assert OtherSession.created == 1
    assert not list((project / SUMMARY).glob("*.csv"))
    result = invoke(project, "--params", "factor=2")
    assert result.exit_code == 0, result.output
    assert OtherSession.created == 2
    assert revenue(project) == {"east": 788.4, "south": 204.0, "north": 90.0}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--runtime-params", "region=x"], "--runtime-params need"),
        (["--runtime-data", "orders=x.csv"], "--runtime-data need"),
        (
            ["--runtime-params", "a=1", "--runtime-data", "orders=x.csv"],
            "--runtime-params and --runtime-data need",
        ),
    ],
)
def test_another_session_lineage_refuses_the_new_options(
    project: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], named: str
) -> None:
    monkeypatch.setattr(settings, "SESSION_CLASS", OtherSession)
    OtherSession.created = 0
    result = invoke(project, *args)
    assert_clean_failure(result, named, "kedro-runtime session", "OtherSession")
    assert OtherSession.created == 0


def test_pipeline_and_pipelines_together_fail_as_in_kedro(project: Path) -> None:
    result = invoke(project, "--pipeline", "orders", "--pipelines", "orders")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Error: Options '--pipeline' and '--pipelines' cannot be used" in (
        result.output
    )


def test_async_with_runner_params_not_async_fails_as_in_kedro(project: Path) -> None:
    result = invoke(project, "--async", "--runner-params", "is_async=False")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Error: Options '--async' and '--runner-params=is_async=False'" in (
        result.output
    )


# --- private Kedro CLI APIs (kedro_runtime._kedro_private, "Kedro CLI" section) -----


class TestKedroPrivateCli:
    """Each test names the Kedro API it checks, to fail clearly on a Kedro change."""

    def test_split_params_types_values_and_nests_dotted_keys(self) -> None:
        """kedro.framework.cli.utils._split_params(ctx, param, value)."""
        param = next(p for p in run.params if p.name == "runtime_params")
        ctx = click.Context(run)
        parsed = private.split_params(ctx, param, "a=1,b.c=x,d=0.5,e=true")
        assert parsed == {"a": 1, "b": {"c": "x"}, "d": 0.5, "e": True}, (
            "kedro.framework.cli.utils._split_params changed its output"
        )
        assert private.split_params(ctx, param, {"k": 1}) == {"k": 1}
        with pytest.raises(click.UsageError, match="runtime_params"):
            private.split_params(ctx, param, "novalue")

    def test_resolve_runner_kwargs(self) -> None:
        """kedro.framework.cli.project._resolve_runner_kwargs(is_async, params)."""
        assert private.resolve_runner_kwargs(False, {"max_workers": 2}) == {
            "max_workers": 2,
            "is_async": False,
        }, "kedro.framework.cli.project._resolve_runner_kwargs changed"
        with pytest.warns(DeprecationWarning, match="--async"):
            assert private.resolve_runner_kwargs(True, {}) == {"is_async": True}
        with (
            pytest.warns(DeprecationWarning),
            pytest.raises(KedroCliError, match="cannot be used together"),
        ):
            private.resolve_runner_kwargs(True, {"is_async": False})

    def test_session_config_loader(self, project_path: Path) -> None:
        """KedroSession._get_config_loader()."""
        session = KedroSession.create(project_path, env="base", runtime_params={"x": 1})
        loader = private.session_config_loader(session)
        assert isinstance(loader, settings.CONFIG_LOADER_CLASS), (
            "KedroSession._get_config_loader no longer gives the settings' loader"
        )
        assert loader.env == "base"
        assert loader.runtime_params == {"x": 1}
        assert loader["parameters"]["top_n"] == 3


def test_kedro_run_loads_only_the_pipelines_it_asks_for(
    make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Kedro's "selective pipeline loading skips unrelated pipeline modules"."""
    path: Path = make_project()
    broken = path / "src" / path.name / "pipelines" / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('deliberately broken')\n")
    monkeypatch.chdir(path)
    result = invoke(path, "--pipelines", "orders")
    assert result.exit_code == 0, result.output
    assert revenue(path) == {"east": 394.2, "south": 108.0, "north": 45.0}
    assert invoke(path).exit_code != 0  # __default__ loads the broken module
