"""The ways to serve a request that the benchmark measures in its own process.

:class:`Bench` builds each path over the project ``benchproject.py`` writes; a
path answers request *n* (batch *n* mod 8, ``factor_for(n)``) with the run's two
outputs. The kedro-boot path runs in its own virtualenv: see ``benchboot.py``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchlogging
import benchproject
import pandas as pd
import pluggy
from kedro.framework.hooks import specs
from kedro.framework.hooks.markers import HOOK_NAMESPACE
from kedro.framework.project import pipelines, settings
from kedro.framework.session import KedroSession
from kedro.framework.session.service_session import KedroServiceSession
from kedro.framework.startup import bootstrap_project
from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

import kedro_runtime

Result = tuple[pd.DataFrame, dict[str, Any]]

_PLUGIN_HOOKS = "kedro.hooks"  # the entry-point group Kedro plugins declare hooks in


def session_hook_manager(
    hooks: Iterable[Any] | None = None, disabled: Iterable[str] | None = None
) -> pluggy.PluginManager:
    """A hook manager with the hooks a Kedro session registers, from public APIs.

    Kedro's specs, the project's ``HOOKS`` and the plugins' hooks (entry points
    ``kedro.hooks``, minus ``DISABLE_HOOKS_FOR_PLUGINS``): what a bare runner needs
    to fire the same hooks as a session, without reading a session's private hook
    manager. ``hooks`` and ``disabled`` default to the bootstrapped project's
    settings.
    """
    manager = pluggy.PluginManager(HOOK_NAMESPACE)
    for spec in (
        specs.NodeSpecs,
        specs.PipelineSpecs,
        specs.DataCatalogSpecs,
        specs.DatasetSpecs,
        specs.KedroContextSpecs,
    ):
        manager.add_hookspecs(spec)
    for hook in settings.HOOKS if hooks is None else hooks:
        if not manager.is_registered(hook):
            manager.register(hook)
    manager.load_setuptools_entrypoints(_PLUGIN_HOOKS)
    off = set(settings.DISABLE_HOOKS_FOR_PLUGINS if disabled is None else disabled)
    for plugin, dist in manager.list_plugin_distinfo():
        if dist.project_name in off:
            manager.unregister(plugin=plugin)
    return manager


@dataclass
class Block:
    """The times of one block of requests and the hooks they fired."""

    times: list[float]
    hooks: dict[str, int]


class InProcessPath:
    """A way to serve a request, measured in this process."""

    def __init__(
        self,
        key: str,
        label: str,
        request: Callable[[int], Result],
        reference: str,
        counts: dict[str, int],
    ) -> None:
        self.key = key
        self.label = label
        self.reference = reference
        self._request = request
        self._counts = counts

    def request(self, number: int) -> Result:
        return self._request(number)

    def run_block(self, start: int, n: int, mode: str) -> Block:
        del mode  # logging is process-wide: the driver sets it per phase
        before = dict(self._counts)
        times = []
        for number in range(start, start + n):
            tick = time.perf_counter()
            self._request(number)
            times.append(time.perf_counter() - tick)
        fired = {key: self._counts[key] - before[key] for key in self._counts}
        return Block(times, fired)


# key, label, reference table, how Bench builds the request function
_PATHS: tuple[tuple[str, str, str, Callable[[Bench], Callable[[int], Result]]], ...] = (
    ("direct", "node functions called directly", "csv",
     lambda b: b.direct_request(False)),
    ("direct_mem", "node functions called directly (ref in memory)", "memory",
     lambda b: b.direct_request(True)),
    ("bare_runner", "bare SequentialRunner, catalog prepared once", "csv",
     lambda b: b.bare_request(False)),
    ("bare_runner_mem", "bare SequentialRunner (ref in memory)", "memory",
     lambda b: b.bare_request(True)),
    ("kedro_runtime", "kedro-runtime session.run(runtime_data=...)", "csv",
     lambda b: b.runtime_request(False)),
    ("kedro_runtime_mem", "kedro-runtime session.run (ref in memory)", "memory",
     lambda b: b.runtime_request(True)),
    ("kedro_runtime_preload", "kedro-runtime session.run, preload=True", "memory",
     lambda b: b.runtime_request(False, preload=True)),
    ("kedro_runtime_data", "kedro-runtime session.run, runtime_data only", "csv",
     lambda b: b.runtime_request(False, params=False)),
    ("service_session", "KedroServiceSession.run() + injection hook", "csv",
     lambda b: b.service_request()),
    ("kedro_session", "new KedroSession + run per request + hook", "csv",
     lambda b: b.kedro_session),
)  # fmt: skip


class Bench:
    """Everything measured in this process, built over one project."""

    def __init__(self, project: Path) -> None:
        self.project = project
        benchlogging.remember_default()
        bootstrap_project(project)
        benchlogging.apply("lean")
        self.hooks = benchproject.project_module("hooks")
        self.nodes = benchproject.project_module("nodes")
        self.requests = benchproject.load_requests(project)
        self.products_csv = project / benchproject.PRODUCTS_CSV
        self.products = pd.read_csv(self.products_csv)
        self.runtime_sessions: dict[str, Any] = {}

    def paths(self) -> list[InProcessPath]:
        """Every in-process path, in the order the report lists them."""
        return [
            InProcessPath(key, label, build(self), reference, self.hooks.COUNTS)
            for key, label, reference, build in _PATHS
        ]

    def path(
        self, key: str, label: str, request: Callable[[int], Result]
    ) -> InProcessPath:
        """A path over the project's CSV reference table, counting its hooks."""
        return InProcessPath(key, label, request, "csv", self.hooks.COUNTS)

    # shared helpers
    def req(self, number: int) -> tuple[pd.DataFrame, float]:
        return (
            self.requests[number % len(self.requests)],
            benchproject.factor_for(number),
        )

    @staticmethod
    def outputs(out: dict[str, Any]) -> Result:
        return out["summary"].load(), out["kpis"].load()

    def runtime_session(self, env: str | None = None, preload: bool = False) -> Any:
        key = f"{env or 'local'}{'+preload' if preload else ''}"
        if key not in self.runtime_sessions:
            self.runtime_sessions[key] = kedro_runtime.KedroSession.create(
                self.project, env=env, preload=preload
            )
        return self.runtime_sessions[key]

    # 1. a new Kedro session per request
    def kedro_session(self, number: int) -> Result:
        data, factor = self.req(number)
        self.hooks.PENDING["orders"] = data
        try:
            with KedroSession.create(
                self.project, runtime_params={"factor": factor}
            ) as session:
                return self.outputs(session.run())
        finally:
            self.hooks.PENDING.clear()

    # 2. one KedroServiceSession
    def service_request(self, env: str | None = None) -> Callable[[int], Result]:
        session = KedroServiceSession.create(
            project_path=self.project, env=env, serving_mode=True
        )

        def request(number: int) -> Result:
            data, factor = self.req(number)
            self.hooks.PENDING["orders"] = data
            try:
                return self.outputs(session.run(runtime_params={"factor": factor}))
            finally:
                self.hooks.PENDING.clear()

        return request

    # 4. a bare SequentialRunner over a catalog prepared once
    def bare_request(self, preloaded: bool) -> Callable[[int], Result]:
        # The same hooks a session registers, so node hooks fire as in a session.
        hook_manager = session_hook_manager()
        with KedroSession.create(self.project) as session:
            catalog = session.load_context().catalog
        catalog["orders"] = MemoryDataset()
        if preloaded:
            catalog["products"] = MemoryDataset(self.products, copy_mode="assign")
        pipeline = pipelines["__default__"]

        def request(number: int) -> Result:
            data, factor = self.req(number)
            catalog.save("orders", data)
            catalog.save("params:factor", factor)
            catalog.save("params:scale", factor)
            out = SequentialRunner().run(pipeline, catalog, hook_manager)
            return self.outputs(out)

        return request

    # 5. the node functions called directly
    def direct_request(self, preloaded: bool) -> Callable[[int], Result]:
        params = copy.deepcopy(self.runtime_session().load_context().params)

        def request(number: int) -> Result:
            data, factor = self.req(number)
            products = self.products if preloaded else pd.read_csv(self.products_csv)
            return benchproject.call_nodes(self.nodes, params, data, products, factor)

        return request

    # 6. kedro-runtime
    def runtime_request(
        self,
        preloaded: bool,
        env: str | None = None,
        params: bool = True,
        preload: bool = False,
    ) -> Callable[[int], Result]:
        session = self.runtime_session(env, preload)
        extra = (
            {"products": MemoryDataset(self.products, copy_mode="assign")}
            if preloaded
            else {}
        )

        def request(number: int) -> Result:
            data, factor = self.req(number)
            out = session.run(
                runtime_data={"orders": data, **extra},
                runtime_params={"factor": factor} if params else None,
            )
            return self.outputs(out)

        return request
