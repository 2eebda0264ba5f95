"""Untrusted runtime params: a caller may set parameters, not rewrite the catalog."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession, RuntimeParamsError, UntrustedParamsError
from kedro_runtime.server import create_app

CATALOG_EXTRA = """
prices_by_kind:
  type: ${runtime_params:kind, pandas.CSVDataset}
  filepath: data/01_raw/prices.csv

orders_from_db:
  type: pandas.CSVDataset
  filepath: data/01_raw/orders.csv
  credentials: ${runtime_params:creds, reader}
"""

CREDENTIALS = """
reader:
  storage_options: {}
admin:
  storage_options: {}
"""


def untrusted_project(
    make_project: Callable[..., Path], allowed: list[str] | None = None
) -> Path:
    """The example project with config entries that read runtime params."""
    path = make_project()
    with (path / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(CATALOG_EXTRA)
    (path / "conf" / "local" / "credentials.yml").write_text(CREDENTIALS)
    if allowed is not None:
        settings = path / "src" / path.name / "settings.py"
        settings.write_text(
            settings.read_text() + f"\nALLOWED_CATALOG_RUNTIME_PARAMS = {allowed!r}\n"
        )
        sys.modules.pop(f"{path.name}.settings", None)  # read the edited file
    bootstrap_project(path)
    return path


def reports(path: Path) -> set[str]:
    return {p.name for p in (path / "data" / "08_reporting").glob("*.csv")}


def test_untrusted_callers_can_still_set_parameters(
    make_project: Callable[..., Path], orders: pd.DataFrame
) -> None:
    path = untrusted_project(make_project)
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        result = session.run(
            runtime_data={"orders": orders},
            runtime_params={"factor": 3, "discount.rate": 0.5},
        )
    assert result["headline"].load().endswith("(factor 3)")


@pytest.mark.parametrize(
    ("params", "variable"),
    [
        ({"region": "../../../etc"}, "region"),
        ({"kind": "kedro.io.MemoryDataset"}, "kind"),
        ({"creds": "admin"}, "creds"),
    ],
    ids=["redirect-a-file-path", "pick-a-dataset-class", "pick-credentials"],
)
def test_config_fed_by_runtime_params_is_off_limits_unless_allowed(
    make_project: Callable[..., Path], params: dict[str, str], variable: str
) -> None:
    path = untrusted_project(make_project)
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        before = reports(path)
        with pytest.raises(RuntimeParamsError) as info:
            session.run(runtime_params=params)
        message = str(info.value)
        assert f"'{variable}'" in message
        assert "ALLOWED_CATALOG_RUNTIME_PARAMS" in message
        assert reports(path) == before, "a rejected run must not write anything"
        session.run()  # the session is still usable
    assert reports(path) == before | {"summary_all.csv"}


def test_an_allowed_param_may_change_a_path(
    make_project: Callable[..., Path],
) -> None:
    path = untrusted_project(make_project, allowed=["region"])
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        session.run(runtime_params={"region": "emea"})
        with pytest.raises(RuntimeParamsError, match="'creds'"):
            session.run(runtime_params={"creds": "admin"})
    assert "summary_emea.csv" in reports(path)


def test_an_allowed_param_still_cannot_choose_a_dataset_type(
    make_project: Callable[..., Path],
) -> None:
    path = untrusted_project(make_project, allowed=["kind"])
    params = {"kind": "kedro.io.MemoryDataset"}
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        with pytest.raises(UntrustedParamsError, match="type") as info:
            session.run(runtime_params=params)
        assert "runtime_params" in str(info.value)
        assert "'kind'" in str(info.value)
        with pytest.raises(UntrustedParamsError, match="'kind'"):
            session.check_runtime_params(params)  # the same check, without a run
        session.check_runtime_params({"factor": 2})
        session.run()
    # A trusted session lets its caller choose: the restriction is the mode's.
    bootstrap_project(path)
    with KedroSession.create(path) as trusted:
        trusted.run(runtime_params=params)


@pytest.mark.parametrize(
    "value",
    ["${globals:anything}", "${runtime_params:factor}", "x ${oc.env:HOME} y"],
)
def test_interpolations_in_untrusted_values_are_rejected(
    make_project: Callable[..., Path], value: str
) -> None:
    path = untrusted_project(make_project)
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        with pytest.raises(RuntimeParamsError, match="interpolation"):
            session.run(runtime_params={"currency": value})
        with pytest.raises(RuntimeParamsError, match="interpolation"):
            session.run(runtime_params={"discount": {"note": value}})
        assert session.run()["headline"].load().startswith("Top region")


def test_runtime_params_given_at_create_are_trusted(
    make_project: Callable[..., Path],
) -> None:
    """They come from the application's code, not from its callers."""
    path = untrusted_project(make_project)
    with KedroSession.create(
        path, runtime_params={"region": "fixed"}, untrusted_runtime_params=True
    ) as session:
        session.run()
    assert "summary_fixed.csv" in reports(path)


def test_an_entry_the_env_replaced_does_not_count(
    make_project: Callable[..., Path], orders: pd.DataFrame
) -> None:
    """The env's `summary` reads no runtime param: `region` touches nothing there."""
    path = make_project()
    service = path / "conf" / "service"
    service.mkdir()
    (service / "catalog.yml").write_text("summary:\n  type: MemoryDataset\n")
    bootstrap_project(path)
    with KedroSession.create(
        path, env="service", untrusted_runtime_params=True
    ) as session:
        result = session.run(
            runtime_data={"orders": orders}, runtime_params={"region": "north"}
        )
        assert result["headline"].load().startswith("Top region")
    assert reports(path) == set(), "the env keeps summary in memory"
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        with pytest.raises(RuntimeParamsError, match="'region'"):
            session.run(runtime_params={"region": "north"})


def test_snapshot_params_resolve_catalog_paths_when_allowed(
    make_project: Callable[..., Path],
) -> None:
    path = untrusted_project(make_project, allowed=["region"])
    with TestClient(create_app(path, api_key="")) as client:
        body = client.get("/snapshot", params={"params": "region=east"}).json()
        assert body["status"] == "success"
        assert body["datasets"]["summary"]["filepath"].endswith("summary_east.csv")
        refused = client.get("/snapshot", params={"params": "creds=admin"})
        assert refused.status_code == 422, refused.text
        assert "'creds'" in refused.json()["detail"][0]["msg"]


def test_a_param_that_selects_a_type_is_422_on_run_and_snapshot(
    make_project: Callable[..., Path],
) -> None:
    path = untrusted_project(make_project, allowed=["kind"])
    with TestClient(create_app(path, api_key="")) as client:
        refused = client.post(
            "/run", json={"params": {"kind": "kedro.io.MemoryDataset"}}
        )
        assert refused.status_code == 422, refused.text
        assert "'kind'" in refused.json()["detail"][0]["msg"]
        snapshot = client.get(
            "/snapshot", params={"params": "kind=kedro.io.MemoryDataset"}
        )
        assert snapshot.status_code == 422, snapshot.text
        assert snapshot.json()["detail"][0]["loc"] == ["query", "params"]
        assert "'kind'" in snapshot.json()["detail"][0]["msg"]
        assert client.post("/run", json={}).json()["status"] == "success"
        assert client.get("/snapshot").json()["status"] == "success"
