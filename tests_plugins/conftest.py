"""The example project with real plugins installed (``make plugins``, .venv-plugins).

Kept apart from ``tests/``: an installed plugin registers its hooks in every
session of the environment, and the main suite tests kedro-runtime alone.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kedro.framework.startup import bootstrap_project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _example import copy_example

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
PACKAGE = "orders_demo"


def forget_project() -> None:
    """Drop the example package's modules: each test imports its own copy."""
    for name in list(sys.modules):
        if name.split(".")[0] == PACKAGE:
            del sys.modules[name]


def bootstrap(path: Path) -> None:
    """Bootstrap a copy of the example; Kedro's own lines are not needed here."""
    forget_project()
    bootstrap_project(path)
    logging.getLogger("kedro").setLevel(logging.WARNING)


@pytest.fixture
def example(tmp_path: Path) -> Iterator[Path]:
    """A copy of ``examples/orders`` (``SESSION_CLASS`` set), not bootstrapped yet."""
    yield copy_example(tmp_path / "orders")
    forget_project()
