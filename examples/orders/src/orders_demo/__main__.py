"""Run the project with `python -m orders_demo [kedro run options]`."""

from __future__ import annotations

from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project


def main() -> None:
    configure_project("orders_demo")
    find_run_command("orders_demo")()


if __name__ == "__main__":
    main()
