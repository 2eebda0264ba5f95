"""One Kedro project, generated with ``kedro new``, for every scenario.

``before_all`` creates the project in a temporary directory with the ``kedro``
executable of the running Python environment (where kedro-runtime is
installed), adds the pipelines, config and data of ``features/project`` and sets
``SESSION_CLASS = KedroSession`` (from kedro_runtime) in its ``settings.py``.
Each scenario starts from that ``settings.py`` and without extra config
environments; a scenario that needs clean outputs says so with a step.

Set ``KEDRO_RUNTIME_E2E_KEEP=1`` to keep the project after the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from behave.model import Scenario
from behave.runner import Context

FEATURES = Path(__file__).resolve().parent
TEMPLATE = FEATURES / "project"
PACKAGE = "e2e_demo"
BIN = Path(sys.executable).parent
KEDRO_NEW_OPTIONS = ("--tools", "none", "--example", "n")

RUNTIME_SETTINGS = """

from kedro_runtime import KedroSession

SESSION_CLASS = KedroSession
"""


def _environment(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env["KEDRO_LOGGING_CONFIG"] = str(project / "conf" / "logging.yml")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(project / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["COLUMNS"] = "200"
    # `kedro ipython` starts the `ipython` found on PATH: this environment's.
    env["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
    return env


def before_all(context: Context) -> None:
    context.tmp = Path(tempfile.mkdtemp(prefix="kedro-runtime-e2e-"))
    context.bin = BIN
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    subprocess.run(
        [str(BIN / "kedro"), "new", "--name", "e2e demo", *KEDRO_NEW_OPTIONS],
        cwd=context.tmp,
        env=env,
        check=True,
        capture_output=True,
    )
    project = context.tmp / "e2e-demo"
    package = project / "src" / PACKAGE
    shutil.copytree(TEMPLATE / "conf", project / "conf", dirs_exist_ok=True)
    shutil.copytree(TEMPLATE / "data", project / "data", dirs_exist_ok=True)
    shutil.copytree(
        TEMPLATE / "package" / "pipelines",
        package / "pipelines",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for folder in ("02_intermediate", "08_reporting"):
        (project / "data" / folder).mkdir(parents=True, exist_ok=True)
    settings = package / "settings.py"
    context.kedro_settings = settings.read_text()
    context.runtime_settings = context.kedro_settings + RUNTIME_SETTINGS
    settings.write_text(context.runtime_settings)
    context.project = project
    context.package = PACKAGE
    context.env = _environment(project)


def before_scenario(context: Context, scenario: Scenario) -> None:
    (context.project / "src" / PACKAGE / "settings.py").write_text(
        context.runtime_settings
    )
    for folder in context.project.glob("conf/*"):
        if folder.is_dir() and folder.name not in {"base", "local"}:
            shutil.rmtree(folder)
    for folder in ("other_conf", "inputs", f"src/{PACKAGE}/pipelines/broken"):
        shutil.rmtree(context.project / folder, ignore_errors=True)
    context.placeholders = {"project": str(context.project)}
    context.result = None


def after_all(context: Context) -> None:
    if os.environ.get("KEDRO_RUNTIME_E2E_KEEP"):
        print(f"Kept the generated project in {context.project}")
        return
    shutil.rmtree(context.tmp, ignore_errors=True)
