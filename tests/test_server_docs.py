"""The serving examples of the docs, run as they are written.

Each example is the fenced Python block of a page whose first line names its
file (``\"\"\"service.py: ...``); the test writes it next to a copy of
examples/orders, imports it and uses it as the docs say.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from _example import copy_example
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def example(page: str, file_name: str) -> str:
    """The code of the block of ``docs/<page>`` that starts with ``file_name``."""
    blocks = [
        code
        for code in BLOCK.findall((ROOT / "docs" / page).read_text())
        if code.startswith(f'"""{file_name}:')
    ]
    assert len(blocks) == 1, f"{page} should have one {file_name} example"
    return blocks[0]


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def docs_module() -> Iterator[list[str]]:
    """Names of the modules a test loads, dropped afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        sys.modules.pop(name, None)


ORDERS = [
    {"order_id": 1, "region": "north", "product": "widget", "quantity": 10},
    {"order_id": 2, "region": "south", "product": "gadget", "quantity": 1},
]


def test_the_mounted_app_example(tmp_path: Path, docs_module: list[str]) -> None:
    project = copy_example(tmp_path / "orders")
    (project / "service.py").write_text(example("serving.md", "service.py"))
    docs_module.append("docs_serving_service")
    service = load(project / "service.py", "docs_serving_service")
    with TestClient(service.app) as client:
        assert client.get("/kedro/health").json()["status"] == "healthy"
        run = client.post(
            "/kedro/run",
            json={
                "runtime_data": {"orders": ORDERS},
                "params": {"factor": 2},
                "outputs": ["headline"],
            },
        )
        assert run.status_code == 200, run.text
        assert run.json()["outputs"] == {
            "headline": "Top region north: 270.00 EUR (factor 2)"
        }
        own = client.get("/headline", params={"factor": 3})
        assert own.status_code == 200
        assert own.json()["headline"].endswith("(factor 3.0)")
        schema = client.get("/kedro/openapi.json").json()
        assert schema["x-kedro-pipelines"]["__default__"]["outputs"] == ["headline"]
    assert service.served_project(service.kedro_app) is None


def test_the_datarobot_custom_model_example(
    tmp_path: Path, docs_module: list[str]
) -> None:
    model_dir = tmp_path / "model"
    copy_example(model_dir / "orders")
    (model_dir / "custom.py").write_text(example("web-servers.md", "custom.py"))
    docs_module.append("docs_datarobot_custom")
    custom = load(model_dir / "custom.py", "docs_datarobot_custom")
    session = custom.load_model(str(model_dir))
    try:
        rows = pd.DataFrame(
            {
                "order_id": [7, 8, 9],
                "region": ["north", "south", "east"],
                "product": ["widget", "unknown", "gizmo"],
                "quantity": [2, 1, 4],
            }
        )
        transformed = custom.transform(rows, session)
        assert transformed["order_id"].tolist() == [7, 9]
        assert transformed["revenue"].tolist() == [30.0, 34.8]
        scored = custom.score(rows, session)
        assert list(scored.columns) == ["Predictions"]
        assert scored["Predictions"].tolist()[0::2] == [30.0, 34.8]
        assert pd.isna(scored["Predictions"].iloc[1])
    finally:
        session.close()
