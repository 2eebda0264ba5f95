"""Count the scaled rows, in the ``audit`` namespace."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
