"""Hooks that count calls; copied into the notebook test's project package."""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl

COUNTS = {
    "after_context_created": 0,
    "after_catalog_created": 0,
    "before_pipeline_run": 0,
}


class ProbeHooks:
    """Counts the context, catalog and pipeline hooks of the project."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        COUNTS["after_context_created"] += 1

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        COUNTS["after_catalog_created"] += 1

    @hook_impl
    def before_pipeline_run(self, run_params: Any) -> None:
        COUNTS["before_pipeline_run"] += 1
