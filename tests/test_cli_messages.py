"""What ``kedro`` prints in a project: missing extras, each command once in --help,
and the ``--config`` key of an option given by its flag.

The first tests run the real ``kedro`` executable, as a user runs it: Kedro's
own handling of a plugin command's errors (and click's) is part of what is
tested. A missing extra is simulated by a ``sitecustomize`` that makes its
import fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _example import copy_example
from click.testing import CliRunner

from kedro_runtime.cli import cli


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/orders, with a one-point sweep grid."""
    path = copy_example(tmp_path_factory.mktemp("messages") / "orders")
    (path / "grid.yml").write_text("product:\n  factor: [1.0]\n")
    return path


def kedro(
    project: Path, tmp_path: Path, *args: str, block: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``kedro *args`` in ``project``, with the modules ``block`` not importable."""
    pythonpath = [os.environ.get("PYTHONPATH", "")]
    if block:
        (tmp_path / "sitecustomize.py").write_text(
            "import sys\n"
            + "".join(f"sys.modules[{name!r}] = None\n" for name in block)
        )
        pythonpath.insert(0, str(tmp_path))
    return subprocess.run(
        [str(Path(sys.executable).with_name("kedro")), *args],
        cwd=project,
        env={
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "PYTHONPATH": os.pathsep.join(p for p in pythonpath if p),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "block", "extra"),
    [
        (("server", "start"), ("fastapi",), "server"),
        (("server", "start"), ("uvicorn",), "server"),
        (("sweep", "--grid", "grid.yml"), ("dask", "distributed"), "dask"),
    ],
)
def test_a_missing_extra_names_the_install_line_and_exits_1(
    project: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    block: tuple[str, ...],
    extra: str,
) -> None:
    result = kedro(project, tmp_path, *args, block=block)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f'pip install -e ".[{extra}]"' in result.stderr
    assert "NoneType" not in output
    assert "--verbose" not in output
    assert "Traceback" not in output


def test_each_command_is_listed_once_in_kedro_help(
    project: Path, tmp_path: Path
) -> None:
    result = kedro(project, tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  ([a-z-]+)  ", result.stdout, flags=re.MULTILINE)
    for command in ("run", "server", "sweep", "catalog", "ipython", "jupyter"):
        assert listed.count(command) == 1, result.stdout


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("async", "The key of `--async` is `is_async`."),
        ("nodes", "The key of `--nodes` is `node_names`."),
        ("n", "The key of `--nodes` is `node_names`."),
        ("runtime_param", "Did you mean runtime_params"),
    ],
)
def test_a_config_key_written_as_its_flag_names_the_key(
    project_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, fragment: str
) -> None:
    monkeypatch.chdir(project_path)
    (project_path / "run.yml").write_text(f"run:\n  {key}: x\n")
    result = CliRunner().invoke(cli, ["run", "--config", "run.yml"])
    assert result.exit_code == 1, result.output
    assert f"key `{key}` in --config file" in result.stderr  # Kedro: stdout
    assert fragment in result.stderr
    assert not result.stdout
