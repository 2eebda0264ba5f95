"""The kedro-boot path: its own virtualenv, and a worker process that serves it.

kedro-boot pins versions of Kedro's dependencies that kedro-runtime's virtualenv
need not share, so :func:`boot_python` builds a virtualenv with kedro-boot and
this environment's versions of everything else, and :class:`BootPath` drives
``benchworker.py serve-boot`` in it, block by block, between the in-process blocks.
"""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchlogging import say
from benchmeasure import package_version
from benchpaths import Block

WORKER = Path(__file__).resolve().parent / "benchworker.py"
BOOT_VERSION = "0.3.0"
PINNED = (
    "kedro",
    "kedro-datasets",
    "pandas",
    "numpy",
    "pyarrow",
    "omegaconf",
    "pluggy",
    "fsspec",
    "rich",
)


class BootUnavailableError(RuntimeError):
    """kedro-boot could not be installed or started."""


class BootPath:
    """kedro-boot, served by ``benchworker.py serve-boot`` in its own virtualenv."""

    key = "kedro_boot"
    label = "kedro-boot session.run(inputs=...)"
    reference = "memory (kedro-boot preloads it)"

    def __init__(self, python: Path, project: Path, log: Path) -> None:
        self._log = open(log, "w", encoding="utf-8")
        self._proc = subprocess.Popen(
            [str(python), str(WORKER), "serve-boot", "--project", str(project)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=str(project),
        )
        self._log_path = log
        self.info = self._read(timeout=180)
        if not self.info.get("ready"):
            raise BootUnavailableError(f"kedro-boot worker did not start: {self.info}")

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            tail = self._log_path.read_text(encoding="utf-8")[-2000:]
            raise BootUnavailableError(
                f"kedro-boot worker gave no answer. Log:\n{tail}"
            )
        return json.loads(line)  # type: ignore[no-any-return]

    def _ask(self, command: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()
        return self._read(timeout)

    def run_block(self, start: int, n: int, mode: str) -> Block:
        answer = self._ask({"cmd": "run", "start": start, "n": n, "logging": mode})
        return Block(answer["times"], answer["hooks"])

    def rss(self) -> int:
        return int(self._ask({"cmd": "rss"})["rss_bytes"])

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(Exception):
                assert self._proc.stdin is not None
                self._proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self._proc.stdin.flush()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._log.close()


def boot_python(venv: Path, fresh: bool) -> Path:
    """A virtualenv with kedro-boot and the same versions as this one."""
    pins = [f"{name}=={v}" for name in PINNED if (v := package_version(name))]
    pins = [
        p.replace("kedro-datasets==", "kedro-datasets[pandas-csvdataset]==")
        for p in pins
    ]
    python = venv / "bin" / "python"
    marker = venv / "bench-pins.json"
    wanted = [f"kedro-boot=={BOOT_VERSION}", *pins]
    if fresh and venv.exists():
        shutil.rmtree(venv)
    if python.exists() and marker.exists():
        if json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return python
    say(f"creating the kedro-boot virtualenv at {venv} (python -m venv + pip)")
    if venv.exists():
        shutil.rmtree(venv)
    _install(venv, python, wanted)
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return python


def _install(venv: Path, python: Path, wanted: list[str]) -> None:
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *wanted],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.CalledProcessError as exc:
        output = (exc.stderr or "") if isinstance(exc.stderr, str) else ""
        raise BootUnavailableError(
            f"could not install kedro-boot: {exc}\n{output[-1500:]}"
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BootUnavailableError(f"could not install kedro-boot: {exc}") from exc


def start_boot(
    venv: Path, fresh: bool, project: Path, log: Path
) -> tuple[BootPath | None, Path | None, dict[str, Any]]:
    """The kedro-boot path, its Python and what to record; never raises.

    When kedro-boot cannot be installed or started, the path and Python are
    ``None`` and the record says why: the rest of the benchmark goes on.
    """
    try:
        python = boot_python(venv, fresh)
        boot = BootPath(python, project, log)
    except Exception as exc:  # never let kedro-boot break the main run
        say(f"SKIPPING kedro-boot: {exc}")
        return None, None, {"skipped": str(exc)}
    say(f"kedro-boot {boot.info['kedro_boot']} ready in its own virtualenv")
    return boot, python, boot.info
