"""Stateful property: any sequence of runs on one session behaves like the node functions.

A hypothesis ``RuleBasedStateMachine`` drives ONE session of the orders + extras
project through random steps: runs with and without injected data (raw values or
dataset objects) and runtime params, runs that fail in a node (``params:fail``,
orders without a ``quantity`` column, an empty summary), runs filtered by tags,
node names, ``to_outputs`` or pipeline name, runs rejected for bad input,
concurrent batches of runs from threads, edits of ``parameters.yml`` and
``reload()``s. After every step it checks that

- each run's outputs (or its exception) are what calling the node functions in
  order gives (``evaluate``, which knows nothing of Kedro: it has its own table of
  the project's nodes, checked against the registered pipeline once),
- each run's hooks saw that run only: its nodes, its injected names and params,
  ``on_pipeline_error`` with the very exception the caller got,
- the base catalog is the one built after the last ``reload()`` and is unchanged
  (``CatalogState``), holds the config's parameters and no pipeline data,
- outputs returned by earlier runs still load what those runs computed, so nothing
  a later run computed or injected reached them.
"""

from __future__ import annotations

import copy
import importlib
import io
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from _catalog_state import CatalogState
from _session import base_catalog, built_base_catalog, hook_manager
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from kedro.framework.project import pipelines
from kedro.io import MemoryDataset
from kedro.runner import AbstractRunner, SequentialRunner, ThreadRunner

from kedro_runtime import KedroSession, RuntimeDataError

STATS: Counter[str] = Counter()
"""What the machine did, over all examples: printed and checked at the end."""

# --- the reference: the project's nodes, as this test knows them -----------------------


@dataclass(frozen=True)
class NodeSpec:
    name: str
    module: str  # under <package>.pipelines
    func: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    tags: tuple[str, ...] = ()
    pipeline: str = "orders"


NODES = (
    NodeSpec("clean_orders", "orders", "clean_orders", ("orders",), ("clean_orders",)),
    NodeSpec(
        "price", "orders", "price_orders", ("clean_orders", "prices"), ("priced",)
    ),
    NodeSpec(
        "revenue",
        "orders",
        "add_revenue",
        ("priced", "params:vat_rate", "params:factor"),
        ("with_revenue",),
    ),
    NodeSpec(
        "discount",
        "orders",
        "apply_discount",
        ("with_revenue", "params:discount"),
        ("discounted",),
        tags=("pricing",),
    ),
    NodeSpec(
        "summarise", "orders", "summarise", ("discounted", "params:top_n"), ("summary",)
    ),
    NodeSpec(
        "headline",
        "orders",
        "headline",
        ("summary", "params:currency", "params:derived"),
        ("headline",),
    ),
    NodeSpec(
        "split",
        "extras",
        "split_orders",
        ("clean_orders",),
        ("small_orders", "large_orders"),
        pipeline="extras",
    ),
    NodeSpec(
        "count",
        "extras",
        "count_orders",
        ("small_orders", "large_orders"),
        ("order_counts",),
        pipeline="extras",
    ),
    NodeSpec(
        "checkpoint",
        "extras",
        "checkpoint",
        ("summary", "params:fail"),
        ("checked",),
        pipeline="extras",
    ),
)
FILES = ("orders", "prices")
"""Inputs read from data/01_raw: never written by a run."""
SUMMARY = "summary"
"""The one output kept in a file (per ``region`` runtime param): shared by design."""
INTERMEDIATES = {name for spec in NODES for name in spec.outputs} - {SUMMARY}
CONFIG: dict[str, Any] = {
    "vat_rate": 0.2,
    "factor": 1.0,
    "derived": "${factor}",
    "currency": "EUR",
    "top_n": 3,
    "discount": {"threshold": 100, "rate": 0.1},
    "fail": False,
}
"""The parameters.yml of the extras variant, as this test writes it."""


@dataclass(frozen=True)
class Filter:
    """What selects the nodes of a run: one Kedro filter at most."""

    pipeline: str = "__default__"
    tags: tuple[str, ...] | None = None
    node_names: tuple[str, ...] | None = None
    to_outputs: tuple[str, ...] | None = None

    def select(self) -> list[NodeSpec]:
        nodes = [
            spec
            for spec in NODES
            if self.pipeline == "__default__" or spec.pipeline == self.pipeline
        ]
        if self.tags is not None:
            return [spec for spec in nodes if set(spec.tags) & set(self.tags)]
        if self.node_names is not None:
            return [spec for spec in nodes if spec.name in self.node_names]
        if self.to_outputs is not None:
            wanted = set(self.to_outputs)
            chosen = []
            for spec in reversed(nodes):
                if wanted & set(spec.outputs):
                    chosen.append(spec)
                    wanted |= set(spec.inputs)
            return [spec for spec in nodes if spec in chosen]
        return nodes

    def kwargs(self) -> dict[str, Any]:
        args: dict[str, Any] = {"pipeline_names": [self.pipeline]}
        for key in ("tags", "node_names", "to_outputs"):
            value = getattr(self, key)
            if value is not None:
                args[key] = list(value)
        return args


@dataclass
class Request:
    """One ``session.run`` call."""

    filter: Filter
    inject: dict[str, Any]
    as_dataset: frozenset[str]
    params: dict[str, Any]  # as passed: dotted keys or nested
    threaded: bool
    run_id: str | None = None

    def runtime_data(self) -> dict[str, Any] | None:
        if not self.inject:
            return None
        return {
            name: MemoryDataset(value, copy_mode="assign")
            if name in self.as_dataset
            else value
            for name, value in self.inject.items()
        }

    def runner(self) -> AbstractRunner:
        return ThreadRunner(max_workers=2) if self.threaded else SequentialRunner()


@dataclass
class Outcome:
    """What a run must give: outputs, or one of the errors its nodes raise."""

    nodes: list[str]  # the nodes the run runs (when nothing fails)
    outputs: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)  # node -> error
    downstream: dict[str, set[str]] = field(default_factory=dict)


def nest(params: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in params.items():
        head, _, leaf = key.partition(".")
        if leaf:
            nested.setdefault(head, {})[leaf] = value
        elif isinstance(value, Mapping):
            nested.setdefault(head, {}).update(value)
        else:
            nested[head] = value
    return nested


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in nest(layer).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = copy.deepcopy(value)
    return merged


def effective_params(config: Mapping[str, Any], *layers: Mapping[str, Any]) -> dict:
    params = merge(config, *layers)
    if params["derived"] == "${factor}":
        params["derived"] = params["factor"]
    return params


def csv_round_trip(frame: pd.DataFrame) -> pd.DataFrame:
    """What a CSV file written with ``index=False`` gives back."""
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


def evaluate(
    package: str, project: Path, request: Request, params: Mapping[str, Any]
) -> Outcome:
    """Call the node functions of the run in order, as the run must."""
    selected = request.filter.select()
    ran = [
        spec
        for spec in selected
        if not all(name in request.inject for name in spec.outputs)
    ]
    # Nodes whose every output only skipped nodes read are skipped too.
    changed = True
    while changed:
        changed = False
        for spec in list(ran):
            readers = [[r for r in selected if out in r.inputs] for out in spec.outputs]
            if spec.outputs and all(
                found and not any(r in ran for r in found) for found in readers
            ):
                ran.remove(spec)
                changed = True
    outcome = Outcome(nodes=[spec.name for spec in ran])
    values: dict[str, Any] = dict(request.inject)
    failed: set[str] = set()  # datasets a failed node did not make
    for spec in ran:
        if failed & set(spec.inputs):
            failed |= set(spec.outputs)
            continue
        args = []
        for name in spec.inputs:
            if name.startswith("params:"):
                value: Any = params
                for part in name.removeprefix("params:").split("."):
                    value = value[part]
                args.append(value)
            elif name in values:
                args.append(values[name])
            else:
                assert name in FILES, f"the request gives no '{name}' to {spec.name}"
                args.append(pd.read_csv(project / "data" / "01_raw" / f"{name}.csv"))
        func = getattr(
            importlib.import_module(f"{package}.pipelines.{spec.module}.nodes"),
            spec.func,
        )
        try:
            result = func(*args)
        except Exception as error:
            outcome.errors[spec.name] = error
            failed |= set(spec.outputs)
            continue
        results = result if len(spec.outputs) > 1 else (result,)
        for name, value in zip(spec.outputs, results, strict=True):
            values[name] = csv_round_trip(value) if name == SUMMARY else value
    consumed = {name for spec in ran for name in spec.inputs}
    outcome.outputs = {
        name: values[name]
        for spec in ran
        for name in spec.outputs
        if name not in consumed and name not in failed
    }
    for spec in ran:  # the nodes that must not run when `spec` fails
        below = {spec.name}
        made = set(spec.outputs)
        for other in ran:
            if made & set(other.inputs):
                below.add(other.name)
                made |= set(other.outputs)
        outcome.downstream[spec.name] = below - {spec.name}
    return outcome


def same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, pd.DataFrame):
        if not isinstance(actual, pd.DataFrame):
            return False
        try:
            pd.testing.assert_frame_equal(actual, wanted)
        except AssertionError:
            return False
        return True
    return bool(type(actual) is type(wanted) and actual == wanted)


# --- strategies ------------------------------------------------------------------------

REGIONS = ("north", "south", "east", "west")
PRODUCTS = ("widget", "gadget", "gizmo", "doohickey")  # doohickey has no price


# Frames are built from one drawn seed each: drawing every cell would fill
# hypothesis' buffer within a few steps and bias the machine to cheap rules.


def orders_frame(rng: random.Random, *, clean: bool) -> pd.DataFrame:
    size = rng.randint(1 if clean else 0, 4)
    return pd.DataFrame(
        {
            "order_id": list(range(1, size + 1)),
            "region": [rng.choice(REGIONS) for _ in range(size)],
            "product": [rng.choice(PRODUCTS) for _ in range(size)],
            "quantity": [
                None if not clean and rng.random() < 0.2 else rng.randint(1, 12)
                for _ in range(size)
            ],
        }
    )


def revenue_frame(rng: random.Random, *, min_size: int = 1) -> pd.DataFrame:
    size = rng.randint(min_size, 4)
    return pd.DataFrame(
        {
            "region": [rng.choice(REGIONS) for _ in range(size)],
            "revenue": [rng.randint(1, 1000) / 4 for _ in range(size)],
        }
    )


def make_data(name: str, seed: int, bad_orders: bool) -> Any:
    """A value to inject as ``name``: of the shape the project's nodes take."""
    rng = random.Random(seed)
    if name == "orders":
        frame = orders_frame(rng, clean=False)
        return frame.drop(columns="quantity") if bad_orders else frame
    if name == "prices":
        products = rng.sample(PRODUCTS[:3], rng.randint(0, 3))
        return pd.DataFrame(
            {
                "product": products,
                "unit_price": [rng.randint(1, 200) / 4 for _ in products],
            }
        )
    if name in ("clean_orders", "small_orders", "large_orders"):
        return orders_frame(rng, clean=True)
    if name == "priced":
        frame = orders_frame(rng, clean=True)
        return frame.assign(unit_price=[12.5] * len(frame))
    if name in ("with_revenue", "discounted"):
        return revenue_frame(rng)
    if name == SUMMARY:  # an empty summary makes `headline` fail
        return revenue_frame(rng, min_size=0)
    if name == "headline":
        return f"headline {seed}"
    if name == "order_counts":
        return {"small": rng.randint(0, 9), "large": rng.randint(0, 9)}
    assert name == "checked", name
    return rng.randint(0, 9)


NODE_NAMES = [spec.name for spec in NODES]
OUTPUT_NAMES = sorted({name for spec in NODES for name in spec.outputs})
PARAM_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "factor": st.sampled_from([0.5, 2.0, 3.0]),
    "vat_rate": st.sampled_from([0.0, 0.1]),
    "top_n": st.integers(1, 4),
    "currency": st.sampled_from(["USD", "GBP"]),
    "discount.rate": st.sampled_from([0.0, 0.5]),
    "discount.threshold": st.sampled_from([10, 500]),
    "derived": st.sampled_from([7.0, 9.5]),
    "region": st.sampled_from(["eu", "us"]),
}

filters = st.one_of(
    st.just(Filter()),
    st.just(Filter()),
    st.just(Filter(tags=("pricing",))),
    st.sampled_from([Filter(pipeline="orders"), Filter(pipeline="extras")]),
    st.lists(st.sampled_from(NODE_NAMES), min_size=1, max_size=4, unique=True).map(
        lambda names: Filter(node_names=tuple(sorted(names)))
    ),
    st.lists(st.sampled_from(OUTPUT_NAMES), min_size=1, max_size=2, unique=True).map(
        lambda names: Filter(to_outputs=tuple(sorted(names)))
    ),
)


@st.composite
def runtime_params(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 2)) == 0:
        return {}
    keys = draw(st.lists(st.sampled_from(sorted(PARAM_VALUES)), unique=True))
    params = {key: draw(PARAM_VALUES[key]) for key in keys}
    if draw(st.integers(0, 2)) == 0:
        params["fail"] = True
    return nest(params) if draw(st.booleans()) else params


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """A run that the session must accept: every free input is given."""
    chosen_filter = draw(filters)
    selected = chosen_filter.select()
    made = {name for spec in selected for name in spec.outputs}
    used = {n for spec in selected for n in spec.inputs if not n.startswith("params:")}
    needed = sorted(name for name in used - made if name not in FILES)
    optional = sorted((used | made) - set(needed))
    names = set(needed) | set(draw(st.lists(st.sampled_from(optional), unique=True)))
    if names & {"small_orders", "large_orders"}:  # a node runs whole or not at all
        names |= {"small_orders", "large_orders"}
    bad_orders = draw(st.integers(0, 3)) == 0
    seed = draw(st.integers(0, 2**32))
    inject = {
        name: make_data(name, seed + index, bad_orders)
        for index, name in enumerate(sorted(names))
    }
    wrapped = draw(st.sets(st.sampled_from(sorted(names)))) if names else set()
    return Request(
        filter=chosen_filter,
        inject=inject,
        as_dataset=frozenset(wrapped),
        params=draw(runtime_params()),
        threaded=draw(st.integers(0, 3)) == 0,
        run_id=f"sm-{uuid.uuid4().hex[:12]}" if draw(st.booleans()) else None,
    )


REJECTED = {
    # A node runs whole or not at all: one output of `split` alone.
    "partial outputs": (Filter(), {"small_orders": pd.DataFrame({"quantity": [1]})}),
    # Not a dataset of the filtered pipeline.
    "filtered out": (Filter(tags=("pricing",)), {"orders": pd.DataFrame()}),
    "parameter": (Filter(), {"params:factor": 2.0}),
}


# --- the machine -----------------------------------------------------------------------


@dataclass
class Kept:
    """An output an earlier run returned, and what it must still load."""

    dataset: Any
    value: Any
    run_id: str


class SessionMachine(RuleBasedStateMachine):
    """One kedro-runtime session, driven by random steps."""

    project: Path
    hook_recorder: Callable[[KedroSession], Any]

    def __init__(self) -> None:
        super().__init__()
        self.package = self.project.name
        self.session: KedroSession | None = None
        self.create_params: dict[str, Any] = {}
        self.disk = copy.deepcopy(CONFIG)  # parameters.yml as on disk
        self.seen: dict[str, Any] | None = None  # what the base was built from
        self.base: CatalogState | None = None
        self.catalogs_built = 0
        self.kept: list[Kept] = []
        self.recorder: Any = None
        STATS["examples"] += 1

    # --- helpers ---------------------------------------------------------------

    def write_config(self) -> None:
        path = self.project / "conf" / "base" / "parameters.yml"
        path.write_text(yaml.safe_dump(self.disk))

    @property
    def live(self) -> KedroSession:
        assert self.session is not None
        return self.session

    def expected(self, request: Request) -> Outcome:
        assert self.seen is not None
        params = effective_params(self.seen, self.create_params, request.params)
        return evaluate(self.package, self.project, request, params)

    def calls_for(self, run_id: str, since: int) -> dict[str, list[dict[str, Any]]]:
        calls: dict[str, list[dict[str, Any]]] = {}
        for name, kwargs in self.recorder.calls[since:]:
            key = kwargs.get("run_id") or kwargs.get("run_params", {}).get("run_id")
            if key == run_id:
                calls.setdefault(name, []).append(kwargs)
        return calls

    def run(
        self, request: Request
    ) -> tuple[dict[str, Any] | None, BaseException | None]:
        """Run ``request``; load its outputs at once (files are shared)."""
        try:
            result = self.live.run(
                **request.filter.kwargs(),
                runner=request.runner(),
                runtime_data=request.runtime_data(),
                runtime_params=request.params or None,
                run_id=request.run_id,
            )
        except Exception as error:
            return None, error
        return {name: (ds, ds.load()) for name, ds in result.items()}, None

    def check_run(
        self,
        request: Request,
        outcome: tuple[dict[str, Any] | None, BaseException | None],
        since: int,
    ) -> None:
        """The run gave what the node functions give, and its hooks saw it alone."""
        wanted = self.expected(request)
        result, error = outcome
        assert request.run_id is not None
        calls = self.calls_for(request.run_id, since)
        before = calls.get("before_pipeline_run", [])
        assert len(before) == 1, f"{request}: before_pipeline_run {len(before)} times"
        run_params = before[0]["run_params"]
        assert run_params["runtime_data"] == sorted(request.inject)
        assert run_params["runtime_params"] == merge(self.create_params, request.params)
        ran = [call["node"].name for call in calls.get("before_node_run", [])]
        STATS["runs"] += 1
        STATS["injected runs"] += bool(request.inject)
        STATS["runs with runtime params"] += bool(request.params)
        STATS["runs without data or params"] += not (request.inject or request.params)
        STATS["filtered runs"] += request.filter != Filter()
        STATS["thread-runner runs"] += request.threaded

        if wanted.errors:
            STATS["failed runs"] += 1
            STATS[f"failed runs: {type(error).__name__}"] += 1
            assert error is not None, f"{request} should fail with {wanted.errors}"
            matches = [
                node
                for node, expected_error in wanted.errors.items()
                if type(error) is type(expected_error)
                and str(error) == str(expected_error)
            ]
            assert matches, f"{request}: got {error!r}, wanted one of {wanted.errors}"
            assert set(ran) <= set(wanted.nodes)
            assert set(matches) & set(ran), "the failing node did not run"
            for node in matches:
                assert not wanted.downstream[node] & set(ran)
            errors = calls.get("on_pipeline_error", [])
            assert len(errors) == 1
            assert errors[0]["error"] is error, "hooks saw another exception"
            assert "after_pipeline_run" not in calls
            return

        assert error is None, f"{request} failed: {error!r}"
        assert result is not None
        assert sorted(ran) == sorted(wanted.nodes)
        assert set(result) == set(wanted.outputs)
        for name, (dataset, value) in result.items():
            assert same(value, wanted.outputs[name]), (
                f"{request}: '{name}' is {value!r}, not {wanted.outputs[name]!r}"
            )
            if name != SUMMARY:  # files are shared by design; memory is not
                self.kept.append(Kept(dataset, wanted.outputs[name], request.run_id))
        assert "on_pipeline_error" not in calls
        after = calls.get("after_pipeline_run", [])
        assert len(after) == 1
        assert set(after[0]["run_result"]) == set(wanted.outputs)
        self.kept = self.kept[-40:]

    def run_id_of_last_run(self, since: int) -> str:
        runs = [
            kwargs["run_params"]["run_id"]
            for name, kwargs in self.recorder.calls[since:]
            if name == "before_pipeline_run"
        ]
        assert len(runs) == 1
        return str(runs[0])

    def before_run(self) -> None:
        if self.seen is None:  # this run builds the base: it reads the config now
            self.seen = copy.deepcopy(self.disk)

    # --- rules ---------------------------------------------------------------------

    @initialize(
        create_params=st.sampled_from(
            [{}, {"currency": "CHF"}, {"factor": 4.0}, {"discount": {"rate": 0.2}}]
        ),
        plain_first_run=st.booleans(),
    )
    def start(self, create_params: dict[str, Any], plain_first_run: bool) -> None:
        """A new session; maybe a first run with neither data nor params."""
        self.write_config()
        self.create_params = create_params
        self.session = KedroSession.create(
            self.project, runtime_params=create_params or None
        )
        self.recorder = type(self).hook_recorder(self.session)
        if plain_first_run:
            self.run_and_check(plain_request())

    @rule(request=requests())
    def run_one(self, request: Request) -> None:
        STATS["steps"] += 1
        STATS["single runs"] += 1
        self.run_and_check(request)

    def run_and_check(self, request: Request) -> None:
        self.before_run()
        since = len(self.recorder.calls)
        outcome = self.run(request)
        if request.run_id is None:
            request.run_id = self.run_id_of_last_run(since)
        self.check_run(request, outcome, since)

    @rule(batch=st.lists(requests(), min_size=2, max_size=3))
    def run_concurrently(self, batch: list[Request]) -> None:
        STATS["steps"] += 1
        self.before_run()
        for index, request in enumerate(batch):
            # Own run ids to tell the hook calls apart, own summary files.
            request.run_id = f"batch-{uuid.uuid4().hex[:12]}"
            request.params = {**request.params, "region": f"thread{index}"}
        since = len(self.recorder.calls)
        barrier = threading.Barrier(len(batch))
        outcomes: list[Any] = [None] * len(batch)

        def work(index: int) -> None:
            barrier.wait()
            outcomes[index] = self.run(batch[index])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batch))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        STATS["concurrent batches"] += 1
        for request, outcome in zip(batch, outcomes, strict=True):
            self.check_run(request, outcome, since)

    @rule(kind=st.sampled_from(sorted(REJECTED)))
    def rejected_run(self, kind: str) -> None:
        STATS["steps"] += 1
        chosen_filter, inject = REJECTED[kind]
        self.before_run()  # a rejected run may still build the base
        since = len(self.recorder.calls)
        try:
            self.live.run(**chosen_filter.kwargs(), runtime_data=inject)
        except RuntimeDataError as error:
            assert type(error) is RuntimeDataError
        else:
            raise AssertionError(f"{kind}: accepted {inject}")
        fired = [
            name
            for name, _ in self.recorder.calls[since:]
            if name not in ("after_context_created", "after_catalog_created")
        ]
        assert fired == [], f"hooks fired for a rejected run: {fired}"
        STATS["rejected runs"] += 1

    @rule(
        edit=st.none()
        | st.fixed_dictionaries(
            {
                "vat_rate": st.sampled_from([0.2, 0.25]),
                "top_n": st.integers(1, 3),
                "currency": st.sampled_from(["EUR", "SEK"]),
            }
        ),
        reload=st.booleans(),
    )
    def change_config(self, edit: dict[str, Any] | None, reload: bool) -> None:
        """Edit parameters.yml and/or ``reload()``: no run sees an edit before
        the next ``reload()`` (a warm run reads no config file)."""
        STATS["steps"] += 1
        if edit is not None:
            self.disk.update(edit)
            self.write_config()
            STATS["config edits"] += 1
        if reload:
            self.live.reload()
            self.seen = None
            self.base = None
            STATS["reloads"] += 1

    # --- after every step ------------------------------------------------------------

    @invariant()
    def base_catalog_is_untouched(self) -> None:
        if self.session is None or built_base_catalog(self.live) is None:
            return
        built = len(self.recorder.calls_of("after_catalog_created"))
        if self.base is None:
            # Built by the last step (maybe by concurrent runs): once since reload.
            assert built == self.catalogs_built + 1, (
                f"base catalog built {built - self.catalogs_built} times since the "
                f"last reload (or start), not once"
            )
            self.catalogs_built = built
            # Entries only a default run reads stay lazy until then: build them all
            # now, so that the snapshot is the base every later run shares.
            self.live.warm_up()
            self.base = CatalogState.take(base_catalog(self.live))
        assert built == self.catalogs_built, "base catalog built again without reload"
        base = self.base.catalog
        assert base_catalog(self.live) is base, "base catalog replaced"
        self.base.assert_unchanged()
        assert self.seen is not None
        assert base.load("parameters") == effective_params(
            self.seen, self.create_params
        )
        for name in base.keys():
            assert name not in INTERMEDIATES, f"'{name}' of a run is in the base"
        for name, dataset in base._datasets.items():
            if type(dataset) is MemoryDataset and not name.startswith("param"):
                raise AssertionError(f"base holds in-memory data '{name}'")

    @invariant()
    def earlier_outputs_still_hold_their_runs_data(self) -> None:
        for kept in self.kept:
            assert same(kept.dataset.load(), kept.value), (
                f"an output of run {kept.run_id} changed after later runs"
            )

    def teardown(self) -> None:
        if self.session is not None:
            hook_manager(self.session).unregister(self.recorder)
            self.session.close()


def test_reference_table_is_the_project(make_project: Callable[..., Path]) -> None:
    """The reference's own node table matches the registered pipelines."""
    make_project(extras=True)
    registered = {
        (node.name, tuple(node.inputs), tuple(node.outputs), tuple(sorted(node.tags)))
        for node in pipelines["__default__"].nodes
    }
    assert registered == {
        (spec.name, spec.inputs, spec.outputs, spec.tags) for spec in NODES
    }
    for name in ("orders", "extras"):
        assert {node.name for node in pipelines[name].nodes} == {
            spec.name for spec in NODES if spec.pipeline == name
        }


def test_reference_evaluator(make_project: Callable[..., Path]) -> None:
    """The oracle itself: filters, skipping, outputs, failures, parameters."""
    project = make_project(extras=True)
    package = project.name
    with_revenue = pd.DataFrame({"region": ["a", "b"], "revenue": [200.0, 50.0]})
    pricing = Request(
        Filter(tags=("pricing",)),
        {"with_revenue": with_revenue},
        frozenset(),
        {},
        False,
    )
    outcome = evaluate(package, project, pricing, effective_params(CONFIG))
    assert outcome.nodes == ["discount"]
    assert outcome.outputs["discounted"]["revenue"].tolist() == [180.0, 50.0]
    half = effective_params(CONFIG, {"discount.rate": 0.5})
    outcome = evaluate(package, project, pricing, half)
    assert outcome.outputs["discounted"]["revenue"].tolist() == [100.0, 50.0]

    summary = pd.DataFrame({"region": ["z"], "revenue": [1.5]})
    skip = Request(Filter(), {SUMMARY: summary}, frozenset(), {}, False)
    params = effective_params(CONFIG, {"factor": 2.0})
    assert params["derived"] == 2.0
    outcome = evaluate(package, project, skip, params)
    assert "summarise" not in outcome.nodes
    # `discount` and the nodes before it fed only `summarise`: skipped too.
    assert "discount" not in outcome.nodes
    assert set(outcome.outputs) == {"headline", "order_counts", "checked"}
    assert outcome.outputs["headline"] == "Top region z: 1.50 EUR (factor 2.0)"
    assert outcome.outputs["checked"] == 1

    failing = effective_params(CONFIG, {"fail": True, "derived": 5.0})
    assert failing["derived"] == 5.0
    outcome = evaluate(package, project, plain_request(), failing)
    assert list(outcome.errors) == ["checkpoint"]
    assert "checked" not in outcome.outputs
    assert "headline" in outcome.outputs
    assert outcome.downstream["clean_orders"] == set(NODE_NAMES) - {"clean_orders"}
    assert outcome.downstream["checkpoint"] == set()


def plain_request() -> Request:
    return Request(Filter(), {}, frozenset(), {}, threaded=False)


def test_random_sequences_of_runs_on_one_session(
    make_project: Callable[..., Path],
    hook_recorder: Callable[[KedroSession], Any],
) -> None:
    SessionMachine.project = make_project(extras=True)
    SessionMachine.hook_recorder = hook_recorder
    STATS.clear()
    run_state_machine_as_test(
        SessionMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    print(f"\nstate machine: {dict(sorted(STATS.items()))}")
    assert STATS["examples"] >= 25
    for what in (
        "failed runs",
        "concurrent batches",
        "rejected runs",
        "reloads",
        "filtered runs",
        "injected runs",
        "runs with runtime params",
        "runs without data or params",
    ):
        assert STATS[what] > 0, f"no {what} in {STATS['examples']} examples"


def test_runs_that_skip_nodes_do_not_leave_the_base_half_built(
    make_project: Callable[..., Path],
) -> None:
    """Found by the machine: a first run that injected ``clean_orders`` (so did not
    read ``orders``) marked the default pipeline's base entries as built, and every
    later run rebuilt ``orders`` from its config, or built it into the base."""
    project = make_project(extras=True)
    clean = pd.DataFrame(
        {"order_id": [1], "region": ["north"], "product": ["widget"], "quantity": [2]}
    )
    with KedroSession.create(project) as session:
        session.run(runtime_data={"clean_orders": clean})
        base = base_catalog(session)
        assert "orders" in base._datasets, "the base entry 'orders' was not built"
        state = CatalogState.take(base)
        plain = session.run()
        state.assert_unchanged()
        wanted = evaluate(
            project.name, project, plain_request(), effective_params(CONFIG)
        )
        assert {name: ds.load() for name, ds in plain.items()}.keys() == set(
            wanted.outputs
        )
        assert plain["headline"].load() == wanted.outputs["headline"]
