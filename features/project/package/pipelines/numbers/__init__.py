"""Scale numbers by a parameter and report their total."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
