"""kedro-runtime in one minute: one session, three runs.

Run it from the repository root, once the package is installed with its
``demo`` extra:

    python examples/demo.py

It copies the example project ``examples/orders`` to a temporary folder (the
repository stays clean), opens ONE kedro-runtime ``KedroSession`` on it, and
runs the project's pipeline three times:

1. with web-shop orders held in memory and its own parameters,
2. with shop-floor orders held in memory and other parameters,
3. with nothing injected: the project's own data and parameters.
"""
# ruff: noqa: E402  (Kedro is imported after the settings below, on purpose)

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

# Set before Kedro is imported: no telemetry requests, and none of the INFO lines
# Kedro logs for every dataset and node (this demo prints its own results).
os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"
logging.disable(logging.INFO)
# Kedro 1.7 calls an OmegaConf function that OmegaConf 2.4 deprecates.
warnings.filterwarnings("ignore", message="register_new_resolver")

import pandas as pd
from kedro.framework.startup import bootstrap_project

from kedro_runtime import KedroSession

EXAMPLE = Path(__file__).resolve().parent / "orders"

WEB_ORDERS = pd.DataFrame(
    {
        "order_id": [101, 102, 103, 104],
        "region": ["north", "north", "south", "east"],
        "product": ["widget", "gadget", "gizmo", "widget"],
        "quantity": [8, 2, 20, 1],
    }
)
SHOP_ORDERS = pd.DataFrame(
    {
        "order_id": [201, 202, 203],
        "region": ["west", "south", "west"],
        "product": ["gadget", "widget", "gadget"],
        "quantity": [5, 3, 4],
    }
)


def report(title: str, outputs: dict[str, Any], project: Path, region: str) -> None:
    """Print the summary table and the headline of one run."""
    # The catalog saves `summary` to
    # data/08_reporting/summary_${runtime_params:region, all}.csv
    summary_file = project / "data" / "08_reporting" / f"summary_{region}.csv"
    print(f"\n=== {title}")
    print(f"summary table ({summary_file.name}):")
    print(pd.read_csv(summary_file).to_string(index=False))
    print(f"headline: {outputs['headline'].load()}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kedro-runtime-demo-") as tmp:
        project = Path(tmp) / "orders"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__"))
        bootstrap_project(project)

        # ONE session: config, context, catalog and pipeline are built by its
        # first run and reused by every run after it.
        with KedroSession.create(project) as session:
            outputs = session.run(
                runtime_data={"orders": WEB_ORDERS},
                runtime_params={"factor": 1.5, "region": "web"},
            )
            report("Run 1: web-shop orders, factor 1.5", outputs, project, "web")

            outputs = session.run(
                runtime_data={"orders": SHOP_ORDERS},
                runtime_params={"factor": 0.8, "discount.rate": 0.5, "region": "shop"},
            )
            report(
                "Run 2: shop orders, factor 0.8, discount.rate 0.5",
                outputs,
                project,
                "shop",
            )

            outputs = session.run()
            report("Run 3: nothing injected", outputs, project, "all")


if __name__ == "__main__":
    main()
