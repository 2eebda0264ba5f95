"""Shared fixtures: a fresh copy of the example project for every test that needs one."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

EXAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "examples" / "orders"


@pytest.fixture(autouse=True)
def _quiet_kedro_logs() -> None:
    logging.getLogger("kedro").setLevel(logging.WARNING)


@pytest.fixture
def project_path(tmp_path: Path) -> Path:
    """A copy of ``examples/orders`` in a temporary directory, bootstrapped."""
    path = tmp_path / "orders"
    shutil.copytree(
        EXAMPLE_PROJECT,
        path,
        ignore=shutil.ignore_patterns("__pycache__", "sessions", "*.egg-info"),
    )
    bootstrap_project(path)
    return path


@pytest.fixture
def session(project_path: Path) -> Iterator[KedroSession]:
    """A kedro-runtime session on the example project."""
    with KedroSession.create(project_path) as session:
        yield session


@pytest.fixture
def orders() -> pd.DataFrame:
    """Orders to inject instead of ``data/01_raw/orders.csv``."""
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3],
            "region": ["alpha", "beta", "alpha"],
            "product": ["widget", "gadget", "gizmo"],
            "quantity": [2, 5, 4],
        }
    )
