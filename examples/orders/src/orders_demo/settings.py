"""Project settings: the one line that turns kedro-runtime on is SESSION_CLASS."""

from kedro_runtime import KedroSession

SESSION_CLASS = KedroSession

CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}
