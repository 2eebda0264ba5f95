"""kedro-mlflow 2.0.3 on the example project: one flat MLflow run per session.run.

Real MLflow, a SQLite tracking store in ``tmp_path`` (an absolute URI: a relative
``sqlite:///`` URI is relative to the process's working directory), kedro-mlflow's
defaults otherwise (``tracking.run.nested: true``, as ``kedro mlflow init`` writes).
"""

from __future__ import annotations

import logging
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from conftest import bootstrap
from mlflow.tracking import MlflowClient

from kedro_runtime import KedroSession

CATALOG = """
revenue_total:
  type: kedro_mlflow.io.metrics.MlflowMetricDataset
summary_report:
  type: kedro_mlflow.io.artifacts.MlflowArtifactDataset
  dataset:
    type: pandas.CSVDataset
    filepath: data/08_reporting/report_${runtime_params:factor, 1.0}.csv
"""
TRACKING = """
from kedro.pipeline import Pipeline, node


def total(summary):
    return float(summary["revenue"].sum())


def create_pipeline(**kwargs):
    return Pipeline(
        [
            node(total, "summary", "revenue_total", name="total"),
            node(lambda summary: summary, "summary", "summary_report", name="report"),
        ]
    )
"""
ML_CATALOG = """
price_model:
  type: pickle.PickleDataset
  filepath: data/06_models/price_model_${runtime_params:factor, 1.0}.pkl
instances:
  type: pandas.CSVDataset
  filepath: data/01_raw/instances.csv
"""
ML = """
from kedro.pipeline import Pipeline, node
from kedro_mlflow.pipeline import pipeline_ml_factory


def fit(prices, factor):
    return {p: float(u) * factor for p, u in zip(prices["product"], prices["unit_price"])}


def predict(price_model, instances):
    return instances.assign(price=instances["product"].map(price_model))


def create_pipeline(**kwargs):
    return pipeline_ml_factory(
        training=Pipeline([node(fit, ["prices", "params:factor"], "price_model")]),
        inference=Pipeline(
            [node(predict, ["price_model", "instances"], "predictions")]
        ),
        input_name="instances",
    )
"""


def add_pipeline(path: Path, name: str, code: str, catalog: str) -> None:
    package = path / "src" / "orders_demo" / "pipelines" / name
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(code))
    with (path / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(catalog)


@pytest.fixture
def tracked(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The example with kedro-mlflow configured and a tracking pipeline; its URI."""
    # MLflow puts a SQLite store's artifacts under the working directory.
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (example / "conf" / "local" / "mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: {uri}\n"
        "tracking:\n  experiment:\n    name: orders_demo\n"
    )
    add_pipeline(example, "tracking", TRACKING, CATALOG)
    yield example, uri
    while mlflow.active_run():  # a failing test must not leak into the next one
        mlflow.end_run()


def runs_by_factor(uri: str) -> dict[str, Any]:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("orders_demo")
    runs = client.search_runs([experiment.experiment_id])
    return {run.data.params["factor"]: run for run in runs if run.data.params}


def test_sequential_and_threaded_runs_are_flat_with_their_own_params(
    tracked: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, uri = tracked
    bootstrap(path)
    with KedroSession.create(path) as session:
        for factor in (1.0, 2.0, 3.0):
            session.run(runtime_params={"factor": factor})
        with (
            caplog.at_level(logging.WARNING, logger="kedro_runtime"),
            ThreadPoolExecutor(max_workers=3) as pool,
        ):
            list(
                pool.map(
                    lambda f: session.run(runtime_params={"factor": f}),
                    (4.0, 5.0, 6.0),
                )
            )
    assert mlflow.active_run() is None  # nothing left active in this thread
    runs = runs_by_factor(uri)
    client = MlflowClient(uri)
    assert sorted(runs) == ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0"]
    for factor, run in runs.items():
        assert "mlflow.parentRunId" not in run.data.tags, factor  # flat
        assert run.info.status == "FINISHED"
        assert run.data.params["derived"] == factor  # ${factor} of this run
        assert run.data.tags["runtime_params"] == f"{{'factor': {factor}}}"
        artifact = f"report_{factor}.csv"
        assert [a.path for a in client.list_artifacts(run.info.run_id)] == [artifact]
        local = client.download_artifacts(run.info.run_id, artifact, str(tmp_path))
        total = pd.read_csv(local)["revenue"].sum()
        assert run.data.metrics["revenue_total"] == pytest.approx(total)
    totals = [runs[f].data.metrics["revenue_total"] for f in sorted(runs, key=float)]
    assert totals == sorted(set(totals))  # six runs, six different totals
    assert len({run.data.tags["run_id"] for run in runs.values()}) == 6
    turns = [r.getMessage() for r in caplog.records if "take turns" in r.getMessage()]
    assert len(turns) <= 1  # once per session, naming kedro-mlflow's hook
    assert all("MlflowHook" in message for message in turns)


def test_a_failed_run_is_failed_and_no_run_nests(tracked: Any) -> None:
    path, uri = tracked
    bootstrap(path)
    with KedroSession.create(path) as session:
        session.run(runtime_params={"factor": 1.0})
        with pytest.raises(TypeError):
            session.run(runtime_params={"factor": 2.0, "top_n": "x"})
        session.run(runtime_params={"factor": 3.0})
    runs = runs_by_factor(uri)
    assert {f: run.info.status for f, run in runs.items()} == {
        "1.0": "FINISHED",
        "2.0": "FAILED",
        "3.0": "FINISHED",
    }
    assert [f for f, r in runs.items() if "mlflow.parentRunId" in r.data.tags] == []


def test_a_run_the_caller_started_is_kept(tracked: Any) -> None:
    path, uri = tracked
    bootstrap(path)
    with KedroSession.create(path) as session:
        session.run(runtime_params={"factor": 1.0})
        mlflow.set_tracking_uri(uri)
        with mlflow.start_run(run_name="outer") as outer:
            session.run(runtime_params={"factor": 2.0})
            assert mlflow.active_run().info.run_id == outer.info.run_id
        session.run(runtime_params={"factor": 3.0})
    runs = runs_by_factor(uri)
    parents = {f: r.data.tags.get("mlflow.parentRunId") for f, r in runs.items()}
    # Inside the caller's run, the run is its child, as the caller asked.
    assert parents == {"1.0": None, "2.0": outer.info.run_id, "3.0": None}


def test_pipeline_ml_factory_logs_each_runs_own_model(
    tracked: Any, tmp_path: Path
) -> None:
    path, uri = tracked
    add_pipeline(path, "ml", ML, ML_CATALOG)
    (path / "data" / "01_raw" / "instances.csv").write_text("product\nwidget\n")
    bootstrap(path)
    with KedroSession.create(path) as session, ThreadPoolExecutor(3) as pool:
        list(
            pool.map(
                lambda f: session.run(
                    pipeline_names=["ml"], runtime_params={"factor": f}
                ),
                (1.0, 2.0, 3.0),
            )
        )
    runs = runs_by_factor(uri)
    mlflow.set_tracking_uri(uri)
    instances = pd.DataFrame({"product": ["widget", "gadget"]})
    for factor, run in runs.items():
        assert "mlflow.parentRunId" not in run.data.tags
        model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
        predicted = model.predict(instances)["price"].tolist()
        assert predicted == [12.5 * float(factor), 40.0 * float(factor)]
