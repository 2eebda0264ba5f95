"""A small project for the node cache tests: nodes that count their calls.

``nodes.CALLS`` lists the nodes called, in order; ``nodes.GATE`` (set by
default) holds ``first`` until a test sets it, and ``nodes.STARTED`` tells that
``first`` was called.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

PACKAGE = "kr_cache_project"

NODES_SOURCE = '''
"""Nodes that record their calls."""

from __future__ import annotations

import threading

import pandas as pd

CALLS: list[str] = []
GATE = threading.Event()
GATE.set()
STARTED = threading.Event()


def first(table: pd.DataFrame, scale: int) -> pd.DataFrame:
    CALLS.append("first")
    STARTED.set()
    GATE.wait(60)
    return table.assign(value=table["value"] * scale)


def mutate(frame: pd.DataFrame, bump: int) -> int:
    CALLS.append("mutate")
    frame["value"] = frame["value"] + bump
    return int(frame["value"].sum())


def second(frame: pd.DataFrame, offset: int) -> int:
    CALLS.append("second")
    return int(frame["value"].sum()) + offset


def stamp(total: int) -> str:
    CALLS.append("stamp")
    return f"total={total}"
'''

REGISTRY_SOURCE = """
from kedro.pipeline import Pipeline, node

from . import nodes


def register_pipelines() -> dict[str, Pipeline]:
    return {
        "__default__": Pipeline(
            [
                node(nodes.first, ["table", "params:scale"], "scaled", name="first"),
                node(nodes.mutate, ["scaled", "params:bump"], "mutated", name="mutate"),
                node(nodes.second, ["scaled", "params:offset"], "total", name="second"),
                node(nodes.stamp, "total", "stamped", name="stamp", tags=["no_cache"]),
            ]
        )
    }
"""

CATALOG = """
table:
  type: pandas.CSVDataset
  filepath: data/table.csv
total:
  type: json.JSONDataset
  filepath: data/total.json
"""

TABLE = "key,value\na,1\nb,2\nc,3\n"


def create_cache_project(root: Path) -> Path:
    """Write the project at ``root``; return its path."""
    package_dir = root / "src" / PACKAGE
    package_dir.mkdir(parents=True)
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [tool.kedro]
            package_name = "{PACKAGE}"
            project_name = "{PACKAGE}"
            kedro_init_version = "1.7.0"
            source_dir = "src"
            """
        )
    )
    (package_dir / "__init__.py").write_text('"""The cache test project."""\n')
    (package_dir / "settings.py").write_text(
        "from kedro_runtime import KedroSession\n\nSESSION_CLASS = KedroSession\n"
    )
    (package_dir / "nodes.py").write_text(NODES_SOURCE)
    (package_dir / "pipeline_registry.py").write_text(REGISTRY_SOURCE)
    (root / "conf" / "base" / "catalog.yml").write_text(CATALOG)
    (root / "conf" / "base" / "parameters.yml").write_text(
        "scale: 2\nbump: 1000\noffset: 0\n"
    )
    (root / "data" / "table.csv").write_text(TABLE)
    return root
