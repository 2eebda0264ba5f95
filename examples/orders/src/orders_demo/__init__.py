"""orders-demo: a small Kedro project that kedro-runtime's demo and tests run."""

__version__ = "0.1.0"
