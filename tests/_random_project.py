"""A real Kedro project on disk whose pipeline, parameters and catalog a test chooses.

The project's ``register_pipelines()`` builds the pipeline from ``spec.json`` at the
project root, so a test can write a new spec, new ``parameters.yml`` and new
``catalog.yml`` for every example and get a fresh pipeline by bootstrapping again.

Node functions are small pure functions over ints (``NODES_SOURCE``), importable as
``<package>.nodes`` once the project is bootstrapped.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NODES_SOURCE = '''
"""Small pure functions over ints for generated pipelines."""

from __future__ import annotations

MODULUS = 1_000_003


def total(*values: int) -> int:
    return sum(values) % MODULUS


def product(*values: int) -> int:
    result = 1
    for value in values:
        result = (result * (value % MODULUS)) % MODULUS
    return result


def alternate(*values: int) -> int:
    return sum(v if i % 2 == 0 else -v for i, v in enumerate(values)) % MODULUS


def weighted(*values: int) -> int:
    return sum((i + 1) * v for i, v in enumerate(values)) % MODULUS


def split(*values: int) -> tuple[int, int]:
    return sum(values) % MODULUS, sum(v * v for v in values) % MODULUS
'''

REGISTRY_SOURCE = '''
"""Pipelines built from the project's spec.json."""

from __future__ import annotations

import json
from pathlib import Path

from kedro.pipeline import Pipeline, node

from . import nodes

SPEC = Path(__file__).resolve().parents[2] / "spec.json"


def register_pipelines() -> dict[str, Pipeline]:
    spec = json.loads(SPEC.read_text())
    built = [
        node(
            getattr(nodes, item["func"]),
            item["inputs"],
            item["outputs"] if len(item["outputs"]) > 1 else item["outputs"][0],
            name=item["name"],
        )
        for item in spec["nodes"]
    ]
    return {"__default__": Pipeline(built)}
'''

SETTINGS_SOURCE = """
from kedro_runtime import KedroSession

SESSION_CLASS = KedroSession
"""

MULTI_OUTPUT = {"split": 2}
FUNCS = ("total", "product", "alternate", "weighted", "split")

# How a free input is stored, and how a node output is stored.
FREE_KINDS = ("memory_data", "json", "pattern_json")
OUTPUT_KINDS = ("memory", "undeclared", "pickle", "pattern_pkl", "versioned")


@dataclass(frozen=True)
class NodeSpec:
    name: str
    func: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass
class ProjectSpec:
    """Everything a generated project is made of."""

    free: dict[str, tuple[str, int]]  # name -> (kind, value)
    outputs: dict[str, str]  # name -> kind
    nodes: list[NodeSpec]
    params: dict[str, Any]  # as written to parameters.yml (may hold "${p0}")
    extra_catalog: dict[str, Any] = field(default_factory=dict)

    def pipeline_datasets(self) -> set[str]:
        return {
            name
            for item in self.nodes
            for name in (*item.inputs, *item.outputs)
            if not name.startswith("params:")
        }

    def used_free_inputs(self) -> list[str]:
        used = self.pipeline_datasets()
        return [name for name in self.free if name in used]


def free_name(index: int, kind: str) -> str:
    return f"x{index}_json" if kind == "pattern_json" else f"x{index}"


def output_name(index: int, slot: int, count: int, kind: str) -> str:
    base = f"d{index}" if count == 1 else f"d{index}{'ab'[slot]}"
    return f"{base}_pkl" if kind == "pattern_pkl" else base


def create_project(root: Path, package: str) -> Path:
    """Write the parts of the project that never change; return its path."""
    package_dir = root / "src" / package
    package_dir.mkdir(parents=True)
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [tool.kedro]
            package_name = "{package}"
            project_name = "{package}"
            kedro_init_version = "1.7.0"
            source_dir = "src"
            """
        )
    )
    (package_dir / "__init__.py").write_text('"""A generated project."""\n')
    (package_dir / "settings.py").write_text(SETTINGS_SOURCE)
    (package_dir / "nodes.py").write_text(NODES_SOURCE)
    (package_dir / "pipeline_registry.py").write_text(REGISTRY_SOURCE)
    return root


def write_spec(root: Path, spec: ProjectSpec) -> None:
    """Write spec.json, parameters.yml, catalog.yml and input files for ``spec``."""
    data = root / "data"
    (root / "spec.json").write_text(
        json.dumps(
            {
                "nodes": [
                    {
                        "name": item.name,
                        "func": item.func,
                        "inputs": list(item.inputs),
                        "outputs": list(item.outputs),
                    }
                    for item in spec.nodes
                ]
            }
        )
    )
    # JSON is YAML: every value here is an int, a string or a mapping.
    (root / "conf" / "base" / "parameters.yml").write_text(json.dumps(spec.params))

    catalog: dict[str, Any] = {
        "{name}_json": {
            "type": "json.JSONDataset",
            "filepath": "data/json/{name}.json",
        },
        "{name}_pkl": {
            "type": "pickle.PickleDataset",
            "filepath": "data/patterns/{name}.pkl",
        },
    }
    (data / "json").mkdir(parents=True, exist_ok=True)
    for name, (kind, value) in spec.free.items():
        if kind == "memory_data":
            catalog[name] = {"type": "MemoryDataset", "data": value}
        elif kind == "json":
            catalog[name] = {
                "type": "json.JSONDataset",
                "filepath": f"data/{name}.json",
            }
            (data / f"{name}.json").write_text(json.dumps(value))
        else:
            (data / "json" / f"{name.removesuffix('_json')}.json").write_text(
                json.dumps(value)
            )
    for name, kind in spec.outputs.items():
        if kind == "memory":
            catalog[name] = {"type": "MemoryDataset"}
        elif kind == "pickle":
            catalog[name] = {
                "type": "pickle.PickleDataset",
                "filepath": f"data/{name}.pkl",
            }
        elif kind == "versioned":
            catalog[name] = {
                "type": "pickle.PickleDataset",
                "filepath": f"data/versioned/{name}.pkl",
                "versioned": True,
            }
    catalog.update(spec.extra_catalog)
    (root / "conf" / "base" / "catalog.yml").write_text(json.dumps(catalog))
