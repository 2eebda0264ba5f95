"""Runtime params nothing reads (kedro_runtime.typos), and nodes nothing needs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from kedro.pipeline import Pipeline, node

from kedro_runtime import KedroSession, RuntimeParamsError, UnreadRuntimeParamsError
from kedro_runtime.cli import cli
from kedro_runtime.inject import unneeded_nodes
from kedro_runtime.server.project import warm_session
from kedro_runtime.typos import inside_values, readable_paths, unread

READABLE = readable_paths(
    [{"model": {"alpha": 1, "beta": 2}, "a.b": 3, "seed": 1, "empty": {}}],
    ["region", "db.user"],
)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"model.alpha": 2}, []),
        ({"model": {"alpha": 2}}, []),
        ({"model": {"gamma": 2}}, ["model.gamma"]),  # a new key: likely a typo
        ({"model": 5}, []),  # replaces the whole mapping
        ({"a": {"b": 4}}, []),  # a dotted key of the parameters file
        ({"a.c": 4}, ["a.c"]),
        ({"empty": {"x": 1}}, []),
        ({"region": "west", "db.user": "me"}, []),  # read by catalog/credentials
        ({"db": {"password": "x"}}, ["db.password"]),
        ({"modle.alpha": 2, "sed": 1}, ["modle.alpha", "sed"]),
    ],
)
def test_unread_paths(params: dict[str, Any], expected: list[str]) -> None:
    assert unread(READABLE, params) == expected


def test_an_unread_run_param_logs_a_warning_with_close_matches(
    session: KedroSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kedro_runtime"):
        session.run(runtime_params={"factr": 3})
    [record] = [r for r in caplog.records if r.name == "kedro_runtime.typos"]
    assert record.levelno == logging.WARNING
    assert "['factr']" in record.getMessage()
    assert "did you mean factor" in record.getMessage()


def test_read_params_log_nothing(
    session: KedroSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kedro_runtime"):
        session.run(runtime_params={"factor": 2, "discount.rate": 0.2, "region": "x"})
    assert not [r for r in caplog.records if r.name == "kedro_runtime.typos"]


def test_strict_session_refuses_an_unread_param_and_stays_usable(
    project_path: Path,
) -> None:
    with KedroSession.create(project_path, strict_runtime_params=True) as session:
        with pytest.raises(UnreadRuntimeParamsError) as info:
            session.run(runtime_params={"discount": {"rte": 0.5}})
        assert isinstance(info.value, RuntimeParamsError)
        assert isinstance(info.value, ValueError)
        message = str(info.value)
        assert "discount.rte" in message
        assert "did you mean discount.rate" in message
        assert "Valid keys: " in message and "vat_rate" in message
        assert session.run(runtime_params={"discount": {"rate": 0.5}})


def test_strict_session_refuses_unread_create_params(project_path: Path) -> None:
    with KedroSession.create(
        project_path, runtime_params={"top": 2}, strict_runtime_params=True
    ) as session:
        with pytest.raises(UnreadRuntimeParamsError, match="did you mean top_n"):
            session.run()


def test_the_server_session_is_strict(project_path: Path) -> None:
    with warm_session(project_path) as session:
        with pytest.raises(UnreadRuntimeParamsError, match="factr"):
            session.run(runtime_params={"factr": 2})


def test_cli_runtime_params_warn_too(
    project_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(project_path)
    with caplog.at_level(logging.WARNING, logger="kedro_runtime"):
        result = CliRunner().invoke(cli, ["run", "--runtime-params", "factr=2"])
    assert result.exit_code == 0, result.output
    assert any(
        "factr" in r.getMessage()
        for r in caplog.records
        if r.name == "kedro_runtime.typos"
    )


# --- dotted keys inside a parameter that is not a mapping -----------------------------


@pytest.mark.parametrize(
    ("runtime_params", "expected"),
    [
        ({"currency.code": "X"}, {"currency.code": ("currency", "EUR")}),
        ({"currency": {"code": "X"}}, {"currency.code": ("currency", "EUR")}),
        ({"discount.rate.x": 1}, {"discount.rate.x": ("discount.rate", 0.1)}),
        ({"items.0": 1}, {"items.0": ("items", [1, 2])}),
        ({"currency": "USD", "discount.rate": 0.2, "empty.x": 1}, {}),
        ({"placeholder.x": 1, "unknown.x": 1}, {}),  # null, and no such param
    ],
)
def test_paths_inside_values(
    runtime_params: dict[str, Any], expected: dict[str, tuple[str, Any]]
) -> None:
    params = {
        "currency": "EUR",
        "discount": {"rate": 0.1},
        "items": [1, 2],
        "empty": {},
        "placeholder": None,
    }
    assert inside_values(params, runtime_params) == expected


def test_a_dotted_key_inside_a_string_param_warns_naming_it_and_its_type(
    session: KedroSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kedro_runtime"):
        session.run(runtime_params={"currency.code": "X"})
    [record] = [r for r in caplog.records if r.name == "kedro_runtime.typos"]
    message = record.getMessage()
    assert "'currency.code'" in message
    assert "the parameter 'currency', which is a str ('EUR')" in message
    assert "Nothing reads" not in message  # one explanation, not two


def test_a_strict_session_refuses_a_dotted_key_inside_a_string_param(
    project_path: Path,
) -> None:
    with KedroSession.create(project_path, strict_runtime_params=True) as session:
        with pytest.raises(UnreadRuntimeParamsError, match="which is a str"):
            session.run(runtime_params={"currency": {"code": "X"}})
        assert session.run(runtime_params={"currency": "USD"})


def test_cli_dotted_key_inside_a_string_param_warns(
    project_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(project_path)
    with caplog.at_level(logging.WARNING, logger="kedro_runtime"):
        result = CliRunner().invoke(cli, ["run", "--runtime-params", "currency.code=X"])
    assert result.exit_code == 0, result.output
    assert any(
        "inside the parameter 'currency', which is a str" in r.getMessage()
        for r in caplog.records
        if r.name == "kedro_runtime.typos"
    )


def test_the_server_answers_422_for_unread_params(project_path: Path) -> None:
    """Kedro's server answers 200 and runs with the param unread."""
    from _server import post_run  # noqa: PLC0415
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from kedro_runtime.server import create_app  # noqa: PLC0415

    with TestClient(create_app(project_path, api_key="")) as client:
        status, body = post_run(client, {"params": {"factr": 2}})
        assert status == 422
        assert "Nothing reads runtime_params ['factr']" in str(body)
        assert "did you mean factor" in str(body)
        status, body = post_run(client, {"params": {"currency.code": "X"}})
        assert status == 422
        assert "the parameter 'currency', which is a str" in str(body)
        status, _ = post_run(client, {"params": {"currency": "USD"}})
        assert status == 200


# --- nodes nothing needs ----------------------------------------------------------


def _identity(*args: Any) -> Any:
    return args[0]


def test_unneeded_nodes_keep_free_outputs_and_nodes_without_outputs() -> None:
    pipe = Pipeline(
        [
            node(_identity, "raw", "a", name="make_a"),
            node(_identity, "a", "b", name="make_b"),  # fed only the skipped node
            node(_identity, "raw", ["shared"], name="make_shared"),
            node(_identity, "shared", "report", name="report"),  # free output
            node(_identity, ["b", "shared"], "c", name="skipped"),
            node(_identity, "c", None, name="sink"),
        ]
    )
    skipped = [n for n in pipe.nodes if n.name == "skipped"]
    assert [n.name for n in unneeded_nodes(pipe, skipped)] == ["make_a", "make_b"]


def test_injecting_a_late_output_skips_everything_upstream(
    session: KedroSession, caplog: pytest.LogCaptureFixture, project_path: Path
) -> None:
    summary = pd.DataFrame({"region": ["west"], "revenue": [1.5]})
    with caplog.at_level(logging.INFO, logger="kedro_runtime"):
        result = session.run(runtime_data={"summary": summary})
    assert result["headline"].load().startswith("Top region west: 1.50")
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "Skipping ['clean_orders', 'price', 'revenue', 'discount']: only skipped "
        "nodes read their outputs" in messages
    )
    assert not list((project_path / "data" / "08_reporting").glob("summary*.csv"))


def test_injecting_a_middle_output_still_runs_what_follows(
    session: KedroSession, caplog: pytest.LogCaptureFixture
) -> None:
    priced = pd.DataFrame(
        {
            "order_id": [1],
            "region": ["west"],
            "product": ["w"],
            "quantity": [1],
            "unit_price": [2.0],
        }
    )
    with caplog.at_level(logging.INFO, logger="kedro_runtime"):
        session.run(runtime_data={"priced": priced})
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "Skipping ['clean_orders']: only skipped nodes read their outputs" in messages
    )
