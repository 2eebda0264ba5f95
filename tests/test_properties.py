"""Property: for random pipelines, injections and parameters, ``session.run`` gives
what calling the node functions directly gives, and leaves the base catalog alone."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from _catalog_state import CatalogState
from _random_project import (
    FREE_KINDS,
    FUNCS,
    MULTI_OUTPUT,
    OUTPUT_KINDS,
    NodeSpec,
    ProjectSpec,
    create_project,
    free_name,
    output_name,
    write_spec,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import AbstractRunner, SequentialRunner, ThreadRunner

import kedro_runtime.resolve as resolve_module
from kedro_runtime import KedroSession, override_catalog

# A package name no other test module uses: Kedro's project settings and
# pipelines are process-global, and so is the import of the package.
PACKAGE = "kr_properties_project"

settings.register_profile(
    "kedro-runtime-properties",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ints = st.integers(min_value=-50, max_value=50)
KEY_ODDS = {"p0": 50, "p1": 20, "p2": 10, "group.a": 25, "group.b": 10, "derived": 15}
PARAM_KEYS = tuple(KEY_ODDS)


@dataclass
class Request:
    """One ``session.run`` call."""

    inject: dict[str, int]
    as_dataset: frozenset[str]
    runtime_params: dict[str, Any]
    threaded: bool

    def runtime_data(self) -> dict[str, Any]:
        return {
            name: MemoryDataset(value) if name in self.as_dataset else value
            for name, value in self.inject.items()
        }

    def runner(self) -> AbstractRunner:
        return ThreadRunner(max_workers=2) if self.threaded else SequentialRunner()


@dataclass
class Case:
    spec: ProjectSpec
    create_params: dict[str, Any]
    requests: list[Request]


# --- strategies ---------------------------------------------------------------------


def param_inputs(has_derived: bool) -> list[str]:
    names = ["params:p0", "params:p1", "params:p2", "params:group.a", "params:group.b"]
    # Interpolated parameters are where per-run resolution can go wrong: favour them.
    return [*names, *["params:derived"] * 4] if has_derived else names


@st.composite
def project_specs(draw: st.DrawFn) -> ProjectSpec:
    free: dict[str, tuple[str, int]] = {}
    for index in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(FREE_KINDS))
        free[free_name(index, kind)] = (kind, draw(ints))

    has_derived = draw(st.booleans())
    params: dict[str, Any] = {
        "p0": draw(ints),
        "p1": draw(ints),
        "p2": draw(ints),
        "group": {"a": draw(ints), "b": draw(ints)},
    }
    if has_derived:
        params["derived"] = "${p0}"

    pool = list(free)
    nodes: list[NodeSpec] = []
    outputs: dict[str, str] = {}
    for index in range(draw(st.integers(1, 6))):
        func = draw(st.sampled_from(FUNCS))
        data = draw(
            st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)
        )
        extra = draw(
            st.lists(
                st.sampled_from(param_inputs(has_derived)), max_size=2, unique=True
            )
        )
        inputs = draw(st.permutations(data + extra))
        count = MULTI_OUTPUT.get(func, 1)
        names = []
        for slot in range(count):
            kind = draw(st.sampled_from(OUTPUT_KINDS))
            name = output_name(index, slot, count, kind)
            outputs[name] = kind
            names.append(name)
        nodes.append(NodeSpec(f"n{index}", func, tuple(inputs), tuple(names)))
        pool.extend(names)

    return ProjectSpec(
        free=free,
        outputs=outputs,
        nodes=nodes,
        params=params,
        extra_catalog={
            # Declared, never used by the pipeline: must stay lazy in the base.
            "unused_memory": {"type": "MemoryDataset", "data": 1},
            "unused_json": {"type": "json.JSONDataset", "filepath": "data/unused.json"},
        },
    )


@st.composite
def runtime_params(draw: st.DrawFn) -> dict[str, Any]:
    # p0 feeds `derived: ${p0}`, so it is overridden most often.
    keys = [key for key in PARAM_KEYS if draw(st.integers(0, 99)) < KEY_ODDS[key]]
    values = {key: draw(ints) for key in keys}
    if draw(st.booleans()):
        return values  # dotted keys, as the CLI's --params gives them
    return nest(values)


@st.composite
def requests(draw: st.DrawFn, spec: ProjectSpec) -> Request:
    skipped = draw(st.lists(st.sampled_from(spec.nodes), unique=True, max_size=3))
    names = [name for item in skipped for name in item.outputs]
    free = spec.used_free_inputs()
    if free:
        names += draw(st.lists(st.sampled_from(free), unique=True, max_size=len(free)))
    inject = {name: draw(ints) for name in names}
    wrapped = draw(st.sets(st.sampled_from(names))) if names else set()
    return Request(
        inject=inject,
        as_dataset=frozenset(wrapped),
        runtime_params=draw(runtime_params()),
        threaded=draw(st.integers(0, 4)) == 0,
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    spec = draw(project_specs())
    create_params = draw(runtime_params()) if draw(st.booleans()) else {}
    return Case(
        spec=spec,
        create_params=create_params,
        requests=draw(st.lists(requests(spec), min_size=1, max_size=4)),
    )


# --- the reference ------------------------------------------------------------------


def nest(params: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            for inner, inner_value in value.items():
                nested.setdefault(key, {})[inner] = inner_value
            continue
        head, _, leaf = key.partition(".")
        if leaf:
            nested.setdefault(head, {})[leaf] = value
        else:
            nested[head] = value
    return nested


def effective_params(
    project: Mapping[str, Any], *layers: Mapping[str, Any]
) -> dict[str, Any]:
    """Project params < create params < run params, then ``${p0}`` resolved."""
    merged: dict[str, Any] = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in project.items()
    }
    for layer in layers:
        for key, value in nest(layer).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
    if merged.get("derived") == "${p0}":
        merged["derived"] = merged["p0"]
    return merged


def param_value(params: Mapping[str, Any], name: str) -> Any:
    value: Any = params
    for part in name.removeprefix("params:").split("."):
        value = value[part]
    return value


def evaluate(case: Case, request: Request) -> dict[str, int]:
    """Call the node functions in order; return the outputs a run must return."""
    functions = importlib.import_module(f"{PACKAGE}.nodes")
    params = effective_params(
        case.spec.params, case.create_params, request.runtime_params
    )
    values: dict[str, Any] = {
        name: value for name, (_, value) in case.spec.free.items()
    }
    values.update(request.inject)
    ran = [
        item
        for item in case.spec.nodes
        if not all(name in request.inject for name in item.outputs)
    ]
    # Nodes whose every output only skipped nodes read are skipped too.
    changed = True
    while changed:
        changed = False
        for item in list(ran):
            outputs_readers = [
                [i for i in case.spec.nodes if name in i.inputs]
                for name in item.outputs
            ]
            if item.outputs and all(
                found and not any(i in ran for i in found) for found in outputs_readers
            ):
                ran.remove(item)
                changed = True
    for item in ran:
        args = [
            param_value(params, name) if name.startswith("params:") else values[name]
            for name in item.inputs
        ]
        result = getattr(functions, item.func)(*args)
        results = result if len(item.outputs) > 1 else (result,)
        values.update(zip(item.outputs, results, strict=True))
    consumed = {name for item in ran for name in item.inputs}
    produced = [name for item in ran for name in item.outputs]
    return {name: values[name] for name in produced if name not in consumed}


# --- the property ------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_project(tmp_path_factory.mktemp("random_project"), PACKAGE)


def quiet() -> None:
    for name in ("kedro", "kedro_runtime", PACKAGE):
        logging.getLogger(name).setLevel(logging.WARNING)


def plain() -> Request:
    return Request(inject={}, as_dataset=frozenset(), runtime_params={}, threaded=False)


@settings(settings.get_profile("kedro-runtime-properties"))
@given(case=cases())
def test_run_equals_calling_the_node_functions(project_root: Path, case: Case) -> None:
    write_spec(project_root, case.spec)
    # Bootstrapping configures Kedro's settings and pipelines for this project
    # (and drops the pipelines it loaded for the previous example).
    bootstrap_project(project_root)
    quiet()
    bases: list[DataCatalog] = []

    def recording(base: DataCatalog, *args: Any, **kwargs: Any) -> DataCatalog:
        bases.append(base)
        return override_catalog(base, *args, **kwargs)

    with (
        mock.patch.object(resolve_module, "override_catalog", recording),
        KedroSession.create(
            project_root, runtime_params=case.create_params or None
        ) as session,
    ):
        defaults = loaded(session.run())
        assert defaults == evaluate(case, plain())
        base = bases[0]
        state = CatalogState.take(base)
        assert {"unused_memory", "unused_json"} <= set(state.lazy)

        for request in case.requests:
            result = session.run(
                runtime_data=request.runtime_data(),
                runtime_params=request.runtime_params,
                runner=request.runner(),
            )
            assert loaded(result) == evaluate(case, request), request
            state.assert_unchanged()

        assert loaded(session.run()) == defaults
        state.assert_unchanged()
    assert len(bases) == len(case.requests) + 2
    assert all(seen is base for seen in bases), "the base catalog was built again"


def loaded(result: Mapping[str, Any]) -> dict[str, Any]:
    return {name: dataset.load() for name, dataset in result.items()}


def test_reference_evaluator_sees_every_rule() -> None:
    """The oracle itself: skipping, parameter precedence and interpolation."""
    spec = ProjectSpec(
        free={"x0": ("memory_data", 2)},
        outputs={"d0": "memory", "d1a": "memory", "d1b": "memory", "d2": "memory"},
        nodes=[
            NodeSpec("n0", "total", ("x0", "params:p0"), ("d0",)),
            NodeSpec("n1", "split", ("d0", "params:group.a"), ("d1a", "d1b")),
            NodeSpec("n2", "product", ("d1a", "params:derived"), ("d2",)),
        ],
        params={
            "p0": 1,
            "p1": 0,
            "p2": 0,
            "group": {"a": 3, "b": 4},
            "derived": "${p0}",
        },
    )
    case = Case(spec=spec, create_params={"p0": 10}, requests=[])

    # x0 + p0 = 12; split(12, 3) = (15, 153); 15 * derived(10)
    assert evaluate(case, plain()) == {"d1b": 153, "d2": 150}
    skip = Request(
        inject={"d1a": 5, "d1b": 6},
        as_dataset=frozenset(),
        runtime_params={"group.a": 100, "p0": 7},
        threaded=False,
    )
    # n1 is skipped; n0 fed only n1, so it is skipped too: d0 is not made.
    assert evaluate(case, skip) == {"d2": 35}
    explicit = Request(
        inject={}, as_dataset=frozenset(), runtime_params={"derived": 1}, threaded=False
    )
    assert evaluate(case, explicit) == {"d1b": 153, "d2": 15}
