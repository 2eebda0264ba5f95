"""Property: with the node cache, every run gives what the same run gives without it.

Random pipelines (3 to 8 nodes, shared inputs, parameters at several depths) and
random sequences of changes: runtime params, injected data, a source file
edited on disk, runs that bypass the cache, runs on a thread runner and runs
made at once from several threads. Each run of a session with the cache is
compared with the same run on a session without it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _random_project import (
    FUNCS,
    MULTI_OUTPUT,
    NodeSpec,
    ProjectSpec,
    create_project,
    free_name,
    output_name,
    write_spec,
)
from conftest import quiet_kedro_logs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kedro.framework.startup import bootstrap_project
from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession

PACKAGE = "kr_node_cache_property_project"
ints = st.integers(min_value=-50, max_value=50)
PARAMS = ("params:p0", "params:p1", "params:group.a", "params:group.inner.b")
OUTPUT_KINDS = ("memory", "undeclared", "pickle", "versioned")


@dataclass(frozen=True)
class Run:
    """One ``session.run``."""

    inject: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    cache: bool = True
    threaded: bool = False

    def call(
        self, session: KedroSession, *, cache: bool, in_memory: bool = False
    ) -> dict[str, Any]:
        """Run; the outputs loaded (only those in memory if ``in_memory``)."""
        runner = ThreadRunner(max_workers=2) if self.threaded else SequentialRunner()
        result = session.run(
            runtime_data=dict(self.inject),
            runtime_params=self.params,
            runner=runner,
            node_cache=cache and self.cache,
        )
        return {
            name: dataset.load()
            for name, dataset in result.items()
            if not in_memory or isinstance(dataset, MemoryDataset)
        }


@dataclass(frozen=True)
class Edit:
    """A free input's file written again with a new value."""

    name: str
    value: int


@dataclass(frozen=True)
class Together:
    """Runs made at once from several threads."""

    runs: tuple[Run, ...]


@st.composite
def specs(draw: st.DrawFn) -> ProjectSpec:
    free: dict[str, tuple[str, int]] = {}
    for index in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("json", "json", "memory_data")))
        free[free_name(index, kind)] = (kind, draw(ints))
    params = {"p0": draw(ints), "p1": draw(ints)}
    params["group"] = {"a": draw(ints), "inner": {"b": draw(ints)}}
    pool, nodes, outputs = list(free), [], {}
    for index in range(draw(st.integers(3, 8))):
        func = draw(st.sampled_from(FUNCS))
        data = draw(
            st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)
        )
        extra = draw(st.lists(st.sampled_from(PARAMS), max_size=2, unique=True))
        count = MULTI_OUTPUT.get(func, 1)
        names = []
        for slot in range(count):
            kind = draw(st.sampled_from(OUTPUT_KINDS))
            names.append(output_name(index, slot, count, kind))
            outputs[names[-1]] = kind
        inputs = draw(st.permutations(data + extra))
        nodes.append(NodeSpec(f"n{index}", func, tuple(inputs), tuple(names)))
        pool.extend(names)
    return ProjectSpec(free=free, outputs=outputs, nodes=nodes, params=params)


@st.composite
def runs(draw: st.DrawFn, spec: ProjectSpec) -> Run:
    free = spec.used_free_inputs()
    inject = {
        name: draw(ints)
        for name in draw(st.lists(st.sampled_from(free), unique=True, max_size=2))
    }
    if draw(st.integers(0, 3)) == 0:
        node = draw(st.sampled_from(spec.nodes))
        inject.update({name: draw(ints) for name in node.outputs})
    keys = draw(st.lists(st.sampled_from(PARAMS), unique=True, max_size=2))
    params = {key.removeprefix("params:"): draw(ints) for key in keys}
    return Run(
        inject=inject,
        params=params,
        cache=draw(st.integers(0, 4)) > 0,
        threaded=draw(st.integers(0, 3)) == 0,
    )


@st.composite
def steps(draw: st.DrawFn, spec: ProjectSpec) -> list[Run | Edit | Together]:
    files = [name for name, (kind, _) in spec.free.items() if kind == "json"]
    chosen: list[Run | Edit | Together] = []
    for _ in range(draw(st.integers(2, 7))):
        kind = draw(st.integers(0, 6))
        if kind == 0 and files:
            chosen.append(Edit(draw(st.sampled_from(files)), draw(ints)))
        elif kind == 2:  # a run made before, or a plain one: hits
            before = [step for step in chosen if isinstance(step, Run)]
            chosen.append(draw(st.sampled_from(before)) if before else Run())
        elif kind == 1:
            together = draw(st.lists(runs(spec), min_size=2, max_size=3))
            chosen.append(Together(tuple(together)))
        else:
            chosen.append(draw(runs(spec)))
    return chosen


@st.composite
def cases(draw: st.DrawFn) -> tuple[ProjectSpec, list[Run | Edit | Together]]:
    spec = draw(specs())
    return spec, draw(steps(spec))


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_project(tmp_path_factory.mktemp("node_cache_project"), PACKAGE)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_cached_runs_equal_uncached_runs(
    project_root: Path, case: tuple[ProjectSpec, list[Run | Edit | Together]]
) -> None:
    spec, chosen = case
    write_spec(project_root, spec)
    bootstrap_project(project_root)
    quiet_kedro_logs()
    with (
        KedroSession.create(
            project_root, node_cache=True, shared_files="wait"
        ) as cached,
        KedroSession.create(project_root) as plain,
    ):
        check(cached, plain, Run())
        for step in [*chosen, Run()]:
            if isinstance(step, Edit):
                path = project_root / "data" / f"{step.name}.json"
                path.write_text(json.dumps(step.value))
            elif isinstance(step, Together):
                # Only outputs in memory: a file output read after its run may
                # be being written by another run.
                with ThreadPoolExecutor(len(step.runs)) as pool:
                    got = list(pool.map(together, step.runs, [cached] * 3))
                for run, result in zip(step.runs, got, strict=True):
                    assert result == together(run, plain, cache=False), run
            else:
                check(cached, plain, step)


def together(run: Run, session: KedroSession, cache: bool = True) -> dict[str, Any]:
    return run.call(session, cache=cache, in_memory=True)


def check(cached: KedroSession, plain: KedroSession, run: Run) -> None:
    got = run.call(cached, cache=True)
    assert got == run.call(plain, cache=False), (run, cached.last_report())
