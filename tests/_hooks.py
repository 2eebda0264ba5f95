"""A recorder of Kedro hook calls, for tests of what hooks see."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any

from kedro.framework.hooks import hook_impl

PIPELINE_AND_NODE_HOOKS = frozenset(
    {
        "after_context_created",
        "after_catalog_created",
        "before_pipeline_run",
        "after_pipeline_run",
        "on_pipeline_error",
        "before_node_run",
        "after_node_run",
        "on_node_error",
        "after_dataset_saved",
    }
)
"""What the ``hook_recorder`` fixture records: every hook but dataset loads and
``before_dataset_saved``."""


class HookRecorder:
    """Records calls of Kedro's hooks, with every argument, from any thread.

    ``calls`` holds ``(hook name, arguments)`` in call order.

    Args:
        normalise: Applied to each argument when the hook fires (default: kept
            as it is).
        hooks: The hooks to record (default: all of them).
    """

    # Thread-safe, so it does not make concurrent runs take turns (see
    # kedro_runtime/hook_safety.py): concurrency tests would pass sequentially.
    kedro_runtime_concurrent_safe = True

    def __init__(
        self,
        normalise: Callable[[Any], Any] | None = None,
        hooks: Collection[str] | None = None,
    ) -> None:
        self.normalise = normalise or (lambda value: value)
        self.hooks = hooks
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def _add(self, hook: str, **kwargs: Any) -> None:
        if self.hooks is not None and hook not in self.hooks:
            return
        call = (hook, {key: self.normalise(value) for key, value in kwargs.items()})
        with self._lock:
            self.calls.append(call)

    def calls_of(self, hook: str) -> list[dict[str, Any]]:
        """The arguments of each call of ``hook``."""
        with self._lock:
            return [kwargs for name, kwargs in self.calls if name == hook]

    def nodes_run(self) -> list[str]:
        """The names of the nodes whose ``before_node_run`` fired, in call order."""
        return [call["node"].name for call in self.calls_of("before_node_run")]

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._add("after_context_created", context=context)

    @hook_impl
    def after_catalog_created(
        self,
        catalog: Any,
        conf_catalog: Any,
        conf_creds: Any,
        parameters: Any,
        save_version: Any,
        load_versions: Any,
    ) -> None:
        self._add(
            "after_catalog_created",
            catalog=catalog,
            conf_catalog=conf_catalog,
            conf_creds=conf_creds,
            parameters=parameters,
            save_version=save_version,
            load_versions=load_versions,
        )

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        self._add(
            "before_pipeline_run",
            run_params=run_params,
            pipeline=pipeline,
            catalog=catalog,
        )

    @hook_impl
    def after_pipeline_run(
        self, run_params: Any, run_result: Any, pipeline: Any, catalog: Any
    ) -> None:
        self._add(
            "after_pipeline_run",
            run_params=run_params,
            run_result=run_result,
            pipeline=pipeline,
            catalog=catalog,
        )

    @hook_impl
    def on_pipeline_error(
        self, error: Any, run_params: Any, pipeline: Any, catalog: Any
    ) -> None:
        self._add(
            "on_pipeline_error",
            error=error,
            run_params=run_params,
            pipeline=pipeline,
            catalog=catalog,
        )

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: Any, is_async: Any, run_id: Any
    ) -> None:
        self._add(
            "before_node_run",
            node=node,
            catalog=catalog,
            inputs=inputs,
            is_async=is_async,
            run_id=run_id,
        )

    @hook_impl
    def after_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: Any,
        outputs: Any,
        is_async: Any,
        run_id: Any,
    ) -> None:
        self._add(
            "after_node_run",
            node=node,
            catalog=catalog,
            inputs=inputs,
            outputs=outputs,
            is_async=is_async,
            run_id=run_id,
        )

    @hook_impl
    def on_node_error(
        self,
        error: Any,
        node: Any,
        catalog: Any,
        inputs: Any,
        is_async: Any,
        run_id: Any,
    ) -> None:
        self._add(
            "on_node_error",
            error=error,
            node=node,
            catalog=catalog,
            inputs=inputs,
            is_async=is_async,
            run_id=run_id,
        )

    @hook_impl
    def before_dataset_loaded(self, dataset_name: Any, node: Any) -> None:
        self._add("before_dataset_loaded", dataset_name=dataset_name, node=node)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: Any, data: Any, node: Any) -> None:
        self._add(
            "after_dataset_loaded", dataset_name=dataset_name, data=data, node=node
        )

    @hook_impl
    def before_dataset_saved(self, dataset_name: Any, data: Any, node: Any) -> None:
        self._add(
            "before_dataset_saved", dataset_name=dataset_name, data=data, node=node
        )

    @hook_impl
    def after_dataset_saved(self, dataset_name: Any, data: Any, node: Any) -> None:
        self._add(
            "after_dataset_saved", dataset_name=dataset_name, data=data, node=node
        )
