"""A real notebook in a real IPython kernel: ``%load_ext kedro.ipython`` on a
kedro-runtime project gives a ``session`` that runs again and again.

``tests/notebooks/runtime_session.ipynb`` is executed with nbclient from the root
of a copy of examples/orders; each code cell prints one JSON line, read here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from _session import hook_manager
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def _orders(region: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [1, 2],
            "region": [region, region],
            "product": ["widget", "gadget"],
            "quantity": [2, 1],
        }
    )


@pytest.fixture
def executed(project_path: Path) -> list[dict[str, Any]]:
    """Run the notebook on the project; the JSON printed by each code cell."""
    package = project_path / "src" / "orders_demo"
    shutil.copy(NOTEBOOKS / "probe_hooks.py", package / "probe_hooks.py")
    with (package / "settings.py").open("a") as settings:
        settings.write("\nfrom orders_demo.probe_hooks import ProbeHooks\n")
        settings.write("HOOKS = (ProbeHooks(),)\n")
    raw = project_path / "data" / "01_raw"
    _orders("alpha").to_csv(raw / "orders_a.csv", index=False)
    _orders("beta").to_csv(raw / "orders_b.csv", index=False)

    notebook = nbformat.read(NOTEBOOKS / "runtime_session.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(project_path)}},
    ).execute()

    printed = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        text = "".join(
            output.get("text", "")
            for output in cell.outputs
            if output.output_type == "stream" and output.name == "stdout"
        )
        printed.append(json.loads(text.strip().splitlines()[-1]))
    return printed


def test_notebook_session_runs_repeatedly_and_builds_once(
    executed: list[dict[str, Any]],
) -> None:
    loaded, first, second, third, reloaded = executed

    # %load_ext kedro.ipython: the session's own context and catalog, built once
    assert loaded["session"] == "kedro_runtime.session.KedroSession"
    assert loaded["context_catalog_is_catalog"] is True
    assert loaded["counts"] == {
        "after_context_created": 1,
        "after_catalog_created": 1,
        "before_pipeline_run": 0,
    }

    # two runs with different runtime_data and runtime_params, no %reload_kedro
    assert first["headline"] == "Top region alpha: 156.00 EUR (factor 2)"
    assert second["headline"] == "Top region beta: 78.00 EUR (factor 1)"
    assert second["first_still"] == first["headline"]
    assert third["headline"].startswith("Top region gamma:")
    assert third["catalog_unchanged"] is True
    for run, runs in ((first, 1), (second, 2), (third, 3)):
        assert run["counts"] == {
            "after_context_created": 1,
            "after_catalog_created": 1,
            "before_pipeline_run": runs,
        }

    # %reload_kedro rebuilds everything, once, in a new session
    assert reloaded["new_session"] is True
    assert reloaded["context_catalog_is_catalog"] is True
    assert reloaded["headline"] == "Top region east: 394.20 EUR (factor 1.0)"
    assert reloaded["counts"] == {
        "after_context_created": 1,
        "after_catalog_created": 1,
        "before_pipeline_run": 1,
    }


# --- the same, in this process: what the extension reads from the session ----------


def test_context_catalog_is_the_session_base_catalog(
    session: Any, recorder: Any
) -> None:
    from kedro.framework.project import settings  # noqa: PLC0415

    context = session.load_context()  # what Kedro's extension calls, then .catalog
    catalog = context.catalog
    assert isinstance(context, settings.CONTEXT_CLASS)
    assert type(context).__name__ == settings.CONTEXT_CLASS.__name__
    assert session.load_context() is context
    assert context.catalog is catalog
    session.run()
    session.run(runtime_params={"factor": 2})
    assert context.catalog is catalog
    assert len(recorder.calls_of("after_context_created")) == 1
    assert len(recorder.calls_of("after_catalog_created")) == 1
    assert recorder.calls_of("after_catalog_created")[0]["catalog"] is catalog


def test_a_hook_reading_context_catalog_builds_the_base_catalog_once(
    session: Any,
) -> None:
    from kedro.framework.hooks import hook_impl  # noqa: PLC0415

    seen: list[Any] = []

    class ReadsCatalog:
        @hook_impl
        def after_context_created(self, context: Any) -> None:
            seen.append(context.catalog)

        @hook_impl
        def after_catalog_created(self, catalog: Any) -> None:
            seen.append(catalog)

    hook_manager(session).register(ReadsCatalog())
    context = session.load_context()
    assert context.catalog is seen[0] is seen[1]
    assert len(seen) == 2
    session.run()
    assert len(seen) == 2


def test_session_context_class_without_a_session_is_kedros_context(
    project_path: Path,
) -> None:
    from kedro.framework.context import KedroContext  # noqa: PLC0415
    from kedro.framework.session import KedroSession as KedroDefaultSession  # noqa: PLC0415

    from kedro_runtime._context import session_context_class  # noqa: PLC0415

    subclass = session_context_class(KedroContext)
    assert session_context_class(KedroContext) is subclass
    assert issubclass(subclass, KedroContext)
    plain = KedroDefaultSession.create(project_path).load_context()
    context = subclass(
        package_name="orders_demo",
        project_path=project_path,
        config_loader=plain.config_loader,
        env=None,
        hook_manager=hook_manager(plain),
    )
    first = context.catalog
    assert "orders" in first
    assert context.catalog is not first  # Kedro's behaviour: a new catalog per read
