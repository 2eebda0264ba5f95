"""pandera through the example's validation hook (kedro-pandera needs kedro<0.20)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from _session import hook_manager
from conftest import bootstrap
from pandera.errors import SchemaError

from kedro_runtime import KedroSession
from kedro_runtime.hook_safety import unsafe_hooks


@pytest.fixture
def validated(example: Path) -> Path:
    settings = example / "src" / "orders_demo" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nfrom orders_demo.validation import ValidateOrders\n\n"
        + "HOOKS = (ValidateOrders(),)\n"
        # kedro-mlflow is installed here too (Kedro matches the name as its
        # metadata spells it: kedro_mlflow); not what this test is about.
        + "DISABLE_HOOKS_FOR_PLUGINS = ('kedro_mlflow',)\n"
    )
    bootstrap(example)
    return example


def orders(quantity: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [1, 2],
            "region": ["north", "south"],
            "product": ["widget", "gadget"],
            "quantity": [3, quantity],
        }
    )


def test_orders_are_validated_in_every_run(validated: Path) -> None:
    with KedroSession.create(validated) as session:
        assert "headline" in session.run()  # the shipped orders are valid
        with pytest.raises(SchemaError, match="quantity"):
            session.run(runtime_data={"orders": orders(quantity=0)})
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(
                    lambda q: session.run(runtime_data={"orders": orders(q)}), (1, 2)
                )
            )
        assert all("headline" in result for result in results)
        # Declared safe: runs with this hook do not take turns.
        assert unsafe_hooks(hook_manager(session)) == []
