"""Validate the orders a run reads with pandera (``pip install pandera``).

Not registered by default. Enable it in ``settings.py``::

    from orders_demo.validation import ValidateOrders

    HOOKS = (ValidateOrders(),)

A run whose ``orders`` break the schema fails before its first node runs, with
pandera's ``SchemaError`` naming the column and the failing values. The hook
keeps no per-run state, so it is declared safe for concurrent runs.
"""

from __future__ import annotations

from typing import Any

import pandera.pandas as pa
from kedro.framework.hooks import hook_impl

ORDERS = pa.DataFrameSchema(
    {
        "order_id": pa.Column(int, unique=True),
        "region": pa.Column(str),
        "product": pa.Column(str),
        # Missing quantities are allowed: ``clean_orders`` drops those orders.
        "quantity": pa.Column(float, pa.Check.gt(0), nullable=True, coerce=True),
    }
)
"""What the ``orders`` dataset must hold (file or ``runtime_data``)."""


class ValidateOrders:
    """Checks the ``orders`` input of every node that reads it."""

    kedro_runtime_concurrent_safe = True

    @hook_impl
    def before_node_run(self, inputs: dict[str, Any]) -> None:
        if "orders" in inputs:
            ORDERS.validate(inputs["orders"])
