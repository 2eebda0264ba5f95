"""The two logging setups the benchmark compares, shared by the driver and workers;
and the driver's own progress lines (:func:`say`, :func:`silenced`).

* ``default``: what Kedro configures when a project has no ``conf/logging.yml``
  (with ``rich`` installed: a ``RichHandler`` on the root logger and the ``kedro``
  logger at ``INFO``, so every run emits a few dozen records).
* ``lean``: the setup the performance docs recommend for services. It is
  :data:`LEAN_LOGGING` below; a project gets it by saving it as
  ``conf/logging.yml`` or pointing ``KEDRO_LOGGING_CONFIG`` at it.
* ``summary``: Kedro's default config, as ``default``, with the session made
  with ``run_logging="summary"`` (one ``INFO`` line per run). It is not in
  :data:`MODES`: it is a session setting, measured by ``logging_bench.py``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from kedro.framework.project import LOGGING

LEAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "level": "WARNING",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "kedro": {"level": "WARNING"},
        "kedro_runtime": {"level": "WARNING"},
        "kedro_boot": {"level": "WARNING"},
    },
    "root": {"level": "WARNING", "handlers": ["console"]},
}

LEAN_LOGGING_YAML = """\
# conf/logging.yml (or any file named by KEDRO_LOGGING_CONFIG)
version: 1
disable_existing_loggers: false
formatters:
  plain:
    format: "%(asctime)s %(levelname)s %(name)s: %(message)s"
handlers:
  console:
    class: logging.StreamHandler
    level: WARNING
    formatter: plain
    stream: ext://sys.stderr
loggers:
  kedro:
    level: WARNING
  kedro_runtime:
    level: WARNING
root:
  level: WARNING
  handlers: [console]
"""

MODES = ("lean", "default")
SETUPS = ("lean", "default", "summary")
"""The setups ``logging_bench.py`` compares; ``summary`` logs as ``default``."""

_default: dict[str, Any] | None = None


def remember_default() -> None:
    """Keep the configuration Kedro applied, to restore it later.

    Call it once, after ``bootstrap_project`` and before any :func:`apply`.
    """
    global _default  # noqa: PLW0603
    if _default is None:
        _default = copy.deepcopy(dict(LOGGING.data))


def apply(mode: str) -> None:
    """Configure logging through Kedro's ``LOGGING.configure``."""
    if mode == "lean":
        LOGGING.configure(copy.deepcopy(LEAN_LOGGING))
    elif mode in ("default", "summary"):
        if _default is None:
            raise RuntimeError("remember_default() must run before apply('default')")
        LOGGING.configure(copy.deepcopy(_default))
        # What a session gives kedro_runtime under this config (follow_kedro_level);
        # set here because the lean setup, applied before, named kedro_runtime.
        logging.getLogger("kedro_runtime").setLevel(logging.INFO)
    else:
        raise ValueError(f"unknown logging mode {mode!r}; use one of {SETUPS}")


_REAL_STDERR: IO[str] = sys.stderr


def say(message: str) -> None:
    """Progress, on the real stderr even while measurements silence output."""
    _REAL_STDERR.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    _REAL_STDERR.flush()


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Send stdout/stderr (where Kedro's default rich logging writes) to /dev/null."""
    with (
        open(os.devnull, "w", encoding="utf-8") as devnull,
        contextlib.redirect_stdout(devnull),
        contextlib.redirect_stderr(devnull),
    ):
        yield
