"""Many runs of one session: runtime data, runtime params, skipping, versions, reload.

Expected values are computed by calling the project's node functions directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from _example import PROJECT_PARAMS, expected_run, node_functions, raw
from kedro import KedroDeprecationWarning
from kedro.io import DataCatalog, MemoryDataset
from kedro_datasets.pandas import CSVDataset

from kedro_runtime import KedroSession


def to_summary(session: KedroSession, **kwargs: Any) -> pd.DataFrame:
    """Run up to ``summary`` and load it."""
    return session.run(to_outputs=["summary"], **kwargs)["summary"].load()


@pytest.fixture
def nodes(project_path: Path) -> ModuleType:
    """The node functions of the ``project_path`` copy."""
    return node_functions(project_path)


@pytest.fixture
def other_orders() -> pd.DataFrame:
    """Orders unlike both the project's and the ``orders`` fixture's."""
    return pd.DataFrame(
        {
            "order_id": [10, 11, 12, 13],
            "region": ["gamma", "gamma", "delta", "epsilon"],
            "product": ["gadget", "gizmo", "widget", None],
            "quantity": [3, 20, 9, 1],
        }
    )


# --- runtime data and runtime params -------------------------------------------


def test_two_different_runs_then_a_plain_run_gives_project_results(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    orders: pd.DataFrame,
    other_orders: pd.DataFrame,
    prices: pd.DataFrame,
) -> None:
    first = session.run(
        runtime_data={"orders": orders}, runtime_params={"factor": 2, "top_n": 1}
    )
    second = session.run(
        runtime_data={"orders": other_orders},
        runtime_params={"vat_rate": 0.0, "currency": "USD"},
    )
    third = session.run()

    first_headline = first["headline"].load()
    second_headline = second["headline"].load()
    assert (
        first_headline
        == expected_run(nodes, orders, prices, factor=2, derived=2, top_n=1).headline
    )
    assert (
        second_headline
        == expected_run(
            nodes, other_orders, prices, vat_rate=0.0, currency="USD"
        ).headline
    )
    assert first_headline != second_headline
    assert (
        third["headline"].load()
        == expected_run(nodes, raw(project_path, "orders"), prices).headline
    )
    # The summary file on disk is the last run's: the project's own.
    on_disk = pd.read_csv(project_path / "data" / "08_reporting" / "summary_all.csv")
    pd.testing.assert_frame_equal(
        on_disk, expected_run(nodes, raw(project_path, "orders"), prices).summary
    )


def test_injected_dataset_object_is_used_as_is(
    session: KedroSession, project_path: Path, nodes: ModuleType, orders: pd.DataFrame
) -> None:
    csv = project_path / "data" / "01_raw" / "other_prices.csv"
    prices = pd.DataFrame(
        {"product": ["widget", "gadget", "gizmo"], "unit_price": [1.0, 2.0, 3.0]}
    )
    prices.to_csv(csv, index=False)
    summary = to_summary(
        session,
        runtime_data={
            "orders": MemoryDataset(orders, copy_mode="assign"),
            "prices": CSVDataset(filepath=str(csv)),
        },
    )
    pd.testing.assert_frame_equal(summary, expected_run(nodes, orders, prices).summary)
    # The next run reads the project's prices again.
    pd.testing.assert_frame_equal(
        to_summary(session, runtime_data={"orders": orders}),
        expected_run(nodes, orders, raw(project_path, "prices")).summary,
    )


def test_run_params_win_over_create_params_which_win_over_config(
    project_path: Path, nodes: ModuleType, orders: pd.DataFrame, prices: pd.DataFrame
) -> None:
    with KedroSession.create(
        project_path, runtime_params={"factor": 3, "currency": "GBP"}
    ) as session:
        run_level = session.run(
            runtime_data={"orders": orders}, runtime_params={"factor": 5}
        )["headline"].load()
        create_level = session.run(runtime_data={"orders": orders})["headline"].load()

    assert (
        run_level
        == expected_run(
            nodes, orders, prices, factor=5, derived=5, currency="GBP"
        ).headline
    )
    assert (
        create_level
        == expected_run(
            nodes, orders, prices, factor=3, derived=3, currency="GBP"
        ).headline
    )
    assert "GBP" in run_level
    assert "(factor 5)" in run_level
    assert "(factor 3)" in create_level


def test_dotted_keys_nest_and_deep_merge_across_create_and_run(
    project_path: Path, nodes: ModuleType, orders: pd.DataFrame, prices: pd.DataFrame
) -> None:
    with KedroSession.create(
        project_path, runtime_params={"discount.rate": 0.5}
    ) as session:
        both = to_summary(
            session,
            runtime_data={"orders": orders},
            runtime_params={"discount.threshold": 0},
        )
        create_only = to_summary(session, runtime_data={"orders": orders})
        mixed = to_summary(
            session,
            runtime_data={"orders": orders},
            runtime_params={"discount": {"threshold": 50}, "discount.rate": 0.25},
        )

    pd.testing.assert_frame_equal(
        both,
        expected_run(
            nodes, orders, prices, discount={"threshold": 0, "rate": 0.5}
        ).summary,
    )
    pd.testing.assert_frame_equal(
        create_only,
        expected_run(
            nodes, orders, prices, discount={"threshold": 100, "rate": 0.5}
        ).summary,
    )
    pd.testing.assert_frame_equal(
        mixed,
        expected_run(
            nodes, orders, prices, discount={"threshold": 50, "rate": 0.25}
        ).summary,
    )
    assert not both.equals(create_only)


def test_dotted_key_reaches_nested_parameter_dataset(
    session: KedroSession, recorder: Any
) -> None:
    session.run(runtime_params={"discount.rate": 0.75})
    catalog = recorder.calls_of("before_pipeline_run")[0]["catalog"]
    assert catalog.load("params:discount.rate") == 0.75
    assert catalog.load("params:discount.threshold") == 100
    assert catalog.load("params:discount") == {"threshold": 100, "rate": 0.75}
    assert catalog.load("parameters")["discount"] == {"threshold": 100, "rate": 0.75}


def test_interpolated_parameter_sees_the_runs_factor(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    orders: pd.DataFrame,
    prices: pd.DataFrame,
) -> None:
    four = session.run(runtime_data={"orders": orders}, runtime_params={"factor": 4})
    plain = session.run(runtime_data={"orders": orders})
    explicit = session.run(
        runtime_data={"orders": orders}, runtime_params={"factor": 4, "derived": 9}
    )

    assert (
        four["headline"].load()
        == expected_run(nodes, orders, prices, factor=4, derived=4).headline
    )
    assert four["headline"].load().endswith("(factor 4)")
    assert plain["headline"].load().endswith("(factor 1.0)")
    assert explicit["headline"].load().endswith("(factor 9)")


# --- ${runtime_params:...} in the catalog ---------------------------------------


def test_runtime_params_in_catalog_path_apply_to_that_run_only(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    orders: pd.DataFrame,
    other_orders: pd.DataFrame,
    prices: pd.DataFrame,
) -> None:
    reporting = project_path / "data" / "08_reporting"

    session.run(runtime_data={"orders": orders})
    assert (reporting / "summary_all.csv").exists()
    (reporting / "summary_all.csv").unlink()

    eu = session.run(
        runtime_data={"orders": other_orders}, runtime_params={"region": "eu"}
    )
    assert (reporting / "summary_eu.csv").exists()
    assert not (reporting / "summary_all.csv").exists()
    pd.testing.assert_frame_equal(
        pd.read_csv(reporting / "summary_eu.csv"),
        expected_run(nodes, other_orders, prices).summary,
    )
    assert eu["headline"].load() == expected_run(nodes, other_orders, prices).headline

    session.run(runtime_data={"orders": orders})
    pd.testing.assert_frame_equal(
        pd.read_csv(reporting / "summary_all.csv"),
        expected_run(nodes, orders, prices).summary,
    )
    # The eu file was written once, by the eu run, and never touched again.
    pd.testing.assert_frame_equal(
        pd.read_csv(reporting / "summary_eu.csv"),
        expected_run(nodes, other_orders, prices).summary,
    )
    assert sorted(p.name for p in reporting.glob("summary_*.csv")) == [
        "summary_all.csv",
        "summary_eu.csv",
    ]


def test_catalog_runtime_param_from_create_and_overridden_by_run(
    project_path: Path, orders: pd.DataFrame
) -> None:
    reporting = project_path / "data" / "08_reporting"
    with KedroSession.create(project_path, runtime_params={"region": "us"}) as session:
        session.run(runtime_data={"orders": orders})
        session.run(runtime_data={"orders": orders}, runtime_params={"region": "apac"})
        session.run(runtime_data={"orders": orders}, runtime_params={"factor": 2})
    assert sorted(p.name for p in reporting.glob("summary_*.csv")) == [
        "summary_apac.csv",
        "summary_us.csv",
    ]


# --- extra_params, the deprecated alias -----------------------------------------


def test_extra_params_in_create_warns_and_acts_as_runtime_params(
    project_path: Path, nodes: ModuleType, orders: pd.DataFrame, prices: pd.DataFrame
) -> None:
    with pytest.warns(KedroDeprecationWarning, match="runtime_params"):
        session = KedroSession.create(project_path, extra_params={"factor": 6})
    with session:
        deprecated = session.run(runtime_data={"orders": orders})["headline"].load()
    with KedroSession.create(project_path, runtime_params={"factor": 6}) as session:
        current = session.run(runtime_data={"orders": orders})["headline"].load()
    assert deprecated == current
    assert (
        deprecated == expected_run(nodes, orders, prices, factor=6, derived=6).headline
    )


def test_extra_params_in_run_warns_and_acts_as_runtime_params(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    orders: pd.DataFrame,
    prices: pd.DataFrame,
) -> None:
    with pytest.warns(KedroDeprecationWarning, match="runtime_params"):
        deprecated = session.run(
            runtime_data={"orders": orders}, extra_params={"discount.rate": 0.3}
        )
    current = session.run(
        runtime_data={"orders": orders}, runtime_params={"discount.rate": 0.3}
    )
    assert deprecated["headline"].load() == current["headline"].load()
    assert (
        deprecated["headline"].load()
        == expected_run(
            nodes,
            orders,
            prices,
            discount={"threshold": 100, "rate": 0.3},
        ).headline
    )


# --- injected intermediate datasets skip their producers -------------------------


def test_injected_intermediate_skips_its_producing_node(
    session: KedroSession,
    project_path: Path,
    nodes: ModuleType,
    recorder: Any,
) -> None:
    with_revenue = pd.DataFrame(
        {
            "region": ["north", "south", "south"],
            "revenue": [150.0, 20.0, 90.0],
        }
    )
    result = session.run(runtime_data={"with_revenue": with_revenue})

    ran = recorder.nodes_run()
    # revenue is injected over; clean_orders and price fed only it.
    assert sorted(ran) == ["discount", "headline", "summarise"]
    discounted = nodes.apply_discount(with_revenue, PROJECT_PARAMS["discount"])
    summary = nodes.summarise(discounted, top_n=3)
    assert result["headline"].load() == nodes.headline(summary, "EUR", 1.0)

    # The next run without injection runs the node again.
    session.run()
    assert recorder.nodes_run().count("revenue") == 1


def test_node_with_all_outputs_injected_is_skipped(
    make_project: Callable[..., Path],
    hook_recorder: Callable[[KedroSession], Any],
) -> None:
    project = make_project(extras=True)
    small = pd.DataFrame({"quantity": [1, 2]})
    large = pd.DataFrame({"quantity": [7, 8, 9]})
    with KedroSession.create(project) as session:
        recorder = hook_recorder(session)
        injected = session.run(
            runtime_data={"small_orders": small, "large_orders": large},
            to_outputs=["order_counts"],
        )
        assert "split" not in recorder.nodes_run()
        assert injected["order_counts"].load() == {"small": 2, "large": 3}

        computed = session.run(to_outputs=["order_counts"])
    assert recorder.nodes_run().count("split") == 1
    quantities = raw(project, "orders")["quantity"].dropna()
    assert computed["order_counts"].load() == {
        "small": int((quantities < 5).sum()),
        "large": int((quantities >= 5).sum()),
    }


# --- versioned outputs --------------------------------------------------------------


def versioned_headline_project(project: Path) -> Path:
    """Make ``headline`` a versioned text file; return its versions directory."""
    with (project / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(
            "\nheadline:\n"
            "  type: text.TextDataset\n"
            "  filepath: data/08_reporting/headline.txt\n"
            "  versioned: true\n"
        )
    return project / "data" / "08_reporting" / "headline.txt"


def orders_of_size(quantity: int) -> pd.DataFrame:
    """One order of ``quantity`` widgets: every size gives its own headline."""
    return pd.DataFrame(
        {
            "order_id": [1],
            "region": ["north"],
            "product": ["widget"],
            "quantity": [quantity],
        }
    )


def test_versioned_output_gets_one_version_per_run(
    project_path: Path,
    nodes: ModuleType,
    hook_recorder: Callable[[KedroSession], Any],
    fast_switching: None,
    prices: pd.DataFrame,
) -> None:
    versions = versioned_headline_project(project_path)
    results: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    sequential_runs, threads, runs_per_thread = 200, 8, 25

    with KedroSession.create(project_path) as session:
        recorder = hook_recorder(session)
        for size in range(1, sequential_runs + 1):
            results.append(
                (size, session.run(runtime_data={"orders": orders_of_size(size)}))
            )

        def worker(offset: int) -> None:
            try:
                for i in range(runs_per_thread):
                    size = 1000 + offset * runs_per_thread + i
                    # Each thread writes its own (unversioned) summary file.
                    output = session.run(
                        runtime_data={"orders": orders_of_size(size)},
                        runtime_params={"region": f"thread{offset}"},
                    )
                    results.append((size, output))
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    total = sequential_runs + threads * runs_per_thread
    assert errors == []
    assert len(results) == total
    run_ids = [
        call["run_params"]["run_id"] for call in recorder.calls_of("after_pipeline_run")
    ]
    assert len(set(run_ids)) == total
    saved = sorted(p.name for p in versions.iterdir())
    assert len(saved) == total
    assert saved == sorted(run_ids)
    for version in saved:
        assert (versions / version / "headline.txt").is_file()
    # Each run's output loads the version that run saved, not the latest one.
    for size, output in results:
        assert (
            output["headline"].load()
            == expected_run(nodes, orders_of_size(size), prices).headline
        )


# --- reload ---------------------------------------------------------------------------


def test_reload_picks_up_edited_parameters(
    session: KedroSession,
    project_path: Path,
    recorder: Any,
    orders: pd.DataFrame,
) -> None:
    parameters = project_path / "conf" / "base" / "parameters.yml"
    assert (
        session.run(runtime_data={"orders": orders})["headline"]
        .load()
        .endswith("EUR (factor 1.0)")
    )

    parameters.write_text(
        parameters.read_text()
        .replace("factor: 1.0", "factor: 7.0")
        .replace("currency: EUR", "currency: CHF")
    )
    stale = session.run(runtime_data={"orders": orders})["headline"].load()
    assert stale.endswith("EUR (factor 1.0)")
    assert len(recorder.calls_of("after_context_created")) == 1
    assert len(recorder.calls_of("after_catalog_created")) == 1

    session.reload()
    fresh = session.run(runtime_data={"orders": orders})["headline"].load()
    assert fresh.endswith("CHF (factor 7.0)")
    assert len(recorder.calls_of("after_context_created")) == 2
    assert len(recorder.calls_of("after_catalog_created")) == 2
    # Runtime params still go over the reloaded config.
    assert (
        session.run(runtime_data={"orders": orders}, runtime_params={"factor": 2})[
            "headline"
        ]
        .load()
        .endswith("CHF (factor 2)")
    )


def test_reload_picks_up_edited_catalog(
    session: KedroSession, project_path: Path, orders: pd.DataFrame
) -> None:
    reporting = project_path / "data" / "08_reporting"
    catalog = project_path / "conf" / "base" / "catalog.yml"
    session.run(runtime_data={"orders": orders})
    catalog.write_text(catalog.read_text().replace("summary_${", "report_${"))
    session.run(runtime_data={"orders": orders})
    assert not list(reporting.glob("report_*.csv"))

    session.reload()
    session.run(runtime_data={"orders": orders})
    assert [p.name for p in reporting.glob("report_*.csv")] == ["report_all.csv"]


def test_first_run_id_is_the_session_id_as_in_kedro_unless_another_session_has_it(
    project_path: Path, hook_recorder: Any
) -> None:
    with KedroSession.create(project_path) as session:
        # A second session with the same id, as two sessions made in one
        # millisecond would have: only one of them may use it as a run id.
        twin = KedroSession(session_id=session.session_id, project_path=project_path)
        recorders = [hook_recorder(session), hook_recorder(twin)]
        session.run()
        session.run()
        twin.run()
    (first, second), (twin_first,) = (
        [c["run_params"]["run_id"] for c in r.calls_of("before_pipeline_run")]
        for r in recorders
    )
    assert first == session.session_id
    assert second != session.session_id
    assert twin_first not in {first, second}


def test_run_ids_are_unique_sortable_versions(project_path: Path) -> None:
    from kedro_runtime.run_id import generate_run_id  # noqa: PLC0415

    ids = [generate_run_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    stamps = [run_id[:24] for run_id in ids]  # same millisecond: no fixed order
    assert stamps == sorted(stamps)


def test_a_session_remembers_its_latest_run_ids_only(
    session: KedroSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-lived session does not grow with every run it makes."""
    from kedro_runtime import RunIdError  # noqa: PLC0415
    from kedro_runtime import run_id as run_id_module  # noqa: PLC0415

    monkeypatch.setattr(run_id_module, "RUN_ID_MEMORY", 3)
    for run_id in ("r1", "r2", "r3", "r4"):
        session.run(run_id=run_id, to_outputs=["clean_orders"])
    with pytest.raises(RunIdError, match="r4"):
        session.run(run_id="r4", to_outputs=["clean_orders"])
    for _ in range(10):
        session.run(to_outputs=["clean_orders"])
    assert len(session._run_ids) == 3
    session.run(run_id="r1", to_outputs=["clean_orders"])  # forgotten long ago


# --- selective pipeline loading ------------------------------------------------------


def add_broken_pipeline(project: Path) -> None:
    """Add a pipeline module that fails to import, which no run here asks for."""
    broken = project / "src" / project.name / "pipelines" / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('deliberately broken')\n")


@pytest.mark.parametrize("preload", [False, True])
def test_a_run_loads_only_the_pipelines_it_asks_for(
    make_project: Callable[..., Path], preload: bool
) -> None:
    """As Kedro's "selective pipeline loading skips unrelated pipeline modules"."""
    project = make_project()
    add_broken_pipeline(project)
    with KedroSession.create(project, preload=preload) as session:
        session.warm_up(["orders"])
        result = session.run(pipeline_names=["orders"])
        assert set(result) == {"headline"}
        with pytest.raises(ImportError, match="broken"):
            session.run()  # __default__ is every pipeline: the broken one too


# --- options, one explicit value -------------------------------------------------------


def test_create_takes_options_and_shortcuts_set_their_fields(
    project_path: Path,
) -> None:
    from kedro_runtime import SessionOptions  # noqa: PLC0415

    service = SessionOptions.for_service()
    with KedroSession.create(project_path, options=service) as session:
        assert session.options == service
    with KedroSession.create(project_path, options=service, preload=True) as session:
        assert session.options == SessionOptions.for_service(preload=True)
    with KedroSession.create(project_path, run_logging="summary") as session:
        assert session.options == SessionOptions(run_logging="summary")
    with pytest.raises(TypeError, match="SessionOptions"):
        KedroSession.create(project_path, options={"preload": True})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="True or False"):
        KedroSession.create(project_path, strict_runtime_params="false")  # type: ignore[arg-type]


def test_a_session_built_by_hand_takes_its_options(project_path: Path) -> None:
    from kedro_runtime import SessionOptions, UnreadRuntimeParamsError  # noqa: PLC0415

    strict = SessionOptions(strict_runtime_params=True)
    with KedroSession("by-hand", project_path=project_path, options=strict) as session:
        assert session.options == strict
        with pytest.raises(UnreadRuntimeParamsError):
            session.run(runtime_params={"facter": 2})
    with KedroSession("plain", project_path=project_path) as session:
        assert session.options == SessionOptions()


def test_a_subclass_choosing_options_in_init_keeps_them_through_create(
    project_path: Path,
) -> None:
    from kedro_runtime import SessionOptions  # noqa: PLC0415

    summary = SessionOptions(run_logging="summary")

    class SummarySession(KedroSession):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, options=summary, **kwargs)

    with SummarySession.create(project_path) as session:
        assert session.options == summary
        assert session.run_logging == "summary"
    with SummarySession.create(project_path, options=SessionOptions()) as session:
        assert session.options == SessionOptions()


def test_a_custom_run_id_does_not_pin_kedros_latest_version(
    project_path: Path, nodes: ModuleType
) -> None:
    versions = versioned_headline_project(project_path)
    with KedroSession.create(project_path) as session:
        custom = session.run(
            runtime_data={"orders": orders_of_size(1)}, run_id="zzz-custom"
        )
        later = session.run(runtime_data={"orders": orders_of_size(2)})
    assert custom["headline"].load() != later["headline"].load()
    folders = sorted(path.name for path in versions.iterdir())
    assert len(folders) == 2
    assert folders[0].endswith("-zzz-custom")  # the run's timestamp comes first
    # A fresh catalog of Kedro's own loads the later run's headline as "latest".
    fresh = DataCatalog.from_config(
        {
            "headline": {
                "type": "text.TextDataset",
                "filepath": str(versions),
                "versioned": True,
            }
        }
    )
    assert fresh.load("headline") == later["headline"].load()


def test_a_create_shortcut_that_is_no_option_is_a_type_error_naming_the_options(
    project_path: Path,
) -> None:
    with pytest.raises(TypeError, match=r"prelaod.*no options.*'preload'"):
        KedroSession.create(project_path, prelaod=True)
