"""Order scoring: clean orders, price them, and summarise revenue by region."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
