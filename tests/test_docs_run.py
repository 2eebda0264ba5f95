"""Every Python and shell block of the docs runs as written.

The blocks are read from ``docs/*.md`` and ``README.md`` (new pages are picked up
by themselves): every fenced block whose language is ``python``, ``bash``,
``shell`` or ``console`` is one test case, named ``<page>:<line of the fence>``.

Where a block runs:

- Each page gets one fresh copy of ``examples/`` (the example project
  ``examples/orders`` and ``examples/demo.py``) in a temporary folder that stands
  for a clone of the repository; the page's blocks run in it, in page order.
- Blocks run from the root of that clone, or from the folder a page names once
  with ``<!-- run-in: examples/orders -->``.
- Processes get the test environment's ``bin`` folder first on ``PATH`` (so
  ``kedro``, ``python`` and ``pip`` are the ones under test) and
  ``KEDRO_DISABLE_TELEMETRY=true``.

How a block runs:

- ``bash``/``shell``: with ``bash -e -o pipefail``; it must exit with 0, or with
  the code that ``<!-- exits: N -->`` on the line just before the fence names.
  ``console``: the lines that start with ``$ `` are the commands. A block shown
  failing (``exits: N``) is followed by a ``text`` block with the message it
  prints: each of its lines must be in the output.
- ``python``: each block in a fresh interpreter, unless the page says (in words,
  and with ``<!-- python-blocks-continue -->``) that its Python blocks continue
  from each other: then they share one interpreter, in page order (running one
  block alone runs the page's earlier Python blocks first).
  ``<!-- python-blocks-continue: ipython -->`` runs them in one IPython shell, so
  that ``%`` magics work as in a notebook.
- A block whose first line names a file, ``# path: ...`` in YAML or
  ``\"\"\"path: ...`` in Python, is a file the page asks you to create: it is
  written at that path in the example project before the page's first block
  runs (a YAML block that names a file the project already has is an excerpt
  of it, and is left alone). Such a Python block is run as ``python path`` from
  the project's folder.

Blocks that must not run (a server that runs until stopped, a command that
needs the network) carry ``<!-- not-run: reason -->`` on the line just before
the fence. They are not collected; ``test_not_run_blocks_are_few_and_say_why``
checks that each says why. A test of their own runs those it can: the serving
page's first command (its server started on a free loopback port, with the
test environment in place of its ``pip install``, queried with the page's
``curl`` and stopped) and the web servers page's ``curl`` (sent to the app).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
RUN_LANGUAGES = {"python", "bash", "shell", "console"}
TIMEOUT = 240.0
MAX_NOT_RUN = 12

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
EXITS = re.compile(r"^\s*<!--\s*exits:\s*(?P<code>\d+)\s*-->\s*$")
RUN_IN = re.compile(r"<!--\s*run-in:\s*(?P<folder>\S+)\s*-->")
CONTINUE = re.compile(r"<!--\s*python-blocks-continue(?::\s*(?P<mode>\w+))?\s*-->")
FILE_LINE = {
    "yaml": re.compile(r"^#\s*(?P<path>[\w./-]+\.ya?ml)\b"),
    "python": re.compile(r'^"""(?P<path>[\w./-]+\.py):'),
}


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int
    language: str
    code: str
    not_run: str | None
    exit_code: int

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def file(self) -> str | None:
        """The path this block asks the reader to create, if it names one."""
        pattern = FILE_LINE.get(self.language)
        match = pattern.match(self.code) if pattern else None
        return match["path"] if match else None


def read_blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, with its marker and dedented code."""
    lines = page.read_text().splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening or not opening["lang"]:
            index += 1
            continue
        indent = opening["indent"]
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != f"{indent}```":
            end += 1
        body = [line[len(indent) :] for line in lines[index + 1 : end]]
        before = lines[index - 1] if index else ""
        not_run, exits = NOT_RUN.match(before), EXITS.match(before)
        blocks.append(
            Block(
                page=page,
                line=index + 1,
                language=opening["lang"],
                code="\n".join(body) + "\n",
                not_run=not_run["reason"].strip() if not_run else None,
                exit_code=int(exits["code"]) if exits else 0,
            )
        )
        index = end + 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in read_blocks(page)]
RUNNABLE = [
    block
    for block in ALL_BLOCKS
    if block.language in RUN_LANGUAGES and block.not_run is None
]


def environment() -> dict[str, str]:
    """The environment of every process a block starts."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env.pop("PYTHONPATH", None)
    return env


def shipped_example_files() -> list[str]:
    """The files under ``examples/`` that a clone has (git's view, without the
    files it ignores), so that a doc that reads an ignored file fails here."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "examples"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


WORKER = r"""
import json, os, sys, traceback

protocol = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
if sys.argv[1] == "ipython":
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()

    def run(code):
        result = shell.run_cell(code)
        error = result.error_before_exec or result.error_in_exec
        return None if error is None else "".join(traceback.format_exception(error))
else:
    namespace = {"__name__": "__main__"}

    def run(code):
        try:
            exec(compile(code, "<docs block>", "exec"), namespace)
        except BaseException:
            return traceback.format_exc()
        return None

for line in sys.stdin:
    error = run(json.loads(line))
    sys.stdout.flush()
    sys.stderr.flush()
    protocol.write(json.dumps(error) + "\n")
    protocol.flush()
"""


class Interpreter:
    """One Python (or IPython) process that runs the blocks it is sent, in turn."""

    def __init__(self, cwd: Path, mode: str, log: Path) -> None:
        self.log = log
        self._log_file: IO[bytes] = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-c", WORKER, mode],
            cwd=cwd,
            env=environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        self.done = 0

    def run(self, code: str) -> str | None:
        """Run ``code``; the traceback if it raised, else ``None``."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(code) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], TIMEOUT)
        if not ready:
            self.close()
            return f"no answer in {TIMEOUT:.0f} s"
        answer = self.process.stdout.readline()
        if not answer:
            return "the interpreter died"
        error: str | None = json.loads(answer)
        return error

    def close(self) -> None:
        """Stop the process."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log_file.close()


class PageRun:
    """The clone folder of one page and, for continuing pages, its interpreter."""

    def __init__(self, page: Path, folder: Path) -> None:
        self.page = page
        text = page.read_text()
        self.root = folder
        for name in shipped_example_files():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
        self.project = folder / "examples" / "orders"
        run_in = RUN_IN.search(text)
        self.cwd = folder / run_in["folder"] if run_in else folder
        continuing = CONTINUE.search(text)
        self.mode = (continuing["mode"] or "python") if continuing else None
        self.interpreter: Interpreter | None = None
        self.blocks = read_blocks(page)
        for block in self.blocks:
            target = self.project / block.file if block.file else None
            if target and (block.language == "python" or not target.exists()):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code)

    def run_python(self, block: Block) -> None:
        """Run a Python block as the page says it runs."""
        if block.file:
            self.run_shell(block, f"python {block.file}", cwd=self.project)
            return
        if self.mode is None:
            script = self.root / f"_block_{block.line}.py"
            script.write_text(block.code)
            self.run_shell(block, f"python {script}", cwd=self.cwd)
            return
        if self.interpreter is None:
            log = self.root / "interpreter.log"
            self.interpreter = Interpreter(self.cwd, self.mode, log)
        earlier = [
            b
            for b in self.blocks
            if b.language == "python" and b.not_run is None and not b.file
        ]
        position = earlier.index(block)
        for previous in earlier[self.interpreter.done : position + 1]:
            error = self.interpreter.run(previous.code)
            self.interpreter.done += 1
            if error:
                log = self.interpreter.log.read_text(errors="replace")[-4000:]
                pytest.fail(
                    f"{previous.id} raised:\n{error}\n--- output ---\n{log}",
                    pytrace=False,
                )

    def run_shell(self, block: Block, script: str, cwd: Path | None = None) -> str:
        """Run ``script`` with bash, check its exit code; its stdout and stderr."""
        try:
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=cwd or self.cwd,
                env=environment(),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{block.id} did not finish in {TIMEOUT:.0f} s", pytrace=False)
        if done.returncode != block.exit_code:
            pytest.fail(
                f"{block.id} exited with {done.returncode}, "
                f"expected {block.exit_code}:\n{script}\n--- stdout ---\n"
                f"{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}",
                pytrace=False,
            )
        return done.stdout + done.stderr

    def close(self) -> None:
        """Stop the interpreter, if one runs."""
        if self.interpreter is not None:
            self.interpreter.close()


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A lazily made ``PageRun`` per page, closed when the module's tests end."""
    runs: dict[Path, PageRun] = {}

    def get(page: Path) -> PageRun:
        if page not in runs:
            folder = tmp_path_factory.mktemp(page.stem)
            runs[page] = PageRun(page, folder)
        return runs[page]

    yield get
    for run in runs.values():
        run.close()


def shell_script(block: Block) -> str:
    """The commands of a shell block (only the ``$ `` lines of a console one)."""
    if block.language != "console":
        return block.code
    return "\n".join(
        line[2:] for line in block.code.splitlines() if line.startswith("$ ")
    )


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_block_runs_as_written(block: Block, page_runs: Any) -> None:
    run: PageRun = page_runs(block.page)
    if block.language == "python":
        run.run_python(block)
        return
    output = run.run_shell(block, shell_script(block))
    if block.exit_code:
        # A command shown failing is followed by the message it prints.
        shown = run.blocks[run.blocks.index(block) + 1]
        assert shown.language == "text", f"{block.id}: show the error it prints"
        missing = [
            line
            for line in shown.code.splitlines()
            if line.strip() and line.strip() not in output
        ]
        assert not missing, f"{block.id} did not print {missing}:\n{output[-4000:]}"


def test_not_run_blocks_are_few_and_say_why() -> None:
    marked = [block for block in ALL_BLOCKS if block.not_run is not None]
    assert all(block.not_run for block in marked), [
        block.id for block in marked if not block.not_run
    ]
    assert all(block.language in RUN_LANGUAGES for block in marked), [
        block.id for block in marked if block.language not in RUN_LANGUAGES
    ]
    assert len(marked) <= MAX_NOT_RUN, [block.id for block in marked]


def test_every_page_has_a_block_to_run_and_python_pages_say_so() -> None:
    assert len(RUNNABLE) > 40
    for page in PAGES:
        text = page.read_text()
        if CONTINUE.search(text):
            assert "continue" in re.sub(CONTINUE, "", text), (
                f"{page.name} shares one interpreter between its Python blocks "
                "but does not say so in words"
            )


CURL_CLIENT = """
import json, sys
from fastapi.testclient import TestClient

sys.path.insert(0, ".")
from service import app

with TestClient(app) as client:
    response = client.post("/headline", json=json.loads(sys.argv[1]))
print(json.dumps([response.status_code, response.json()]))
"""


def test_the_fastapi_example_answers_the_curl_request(tmp_path: Path) -> None:
    """web-servers.md: ``service.py`` answers its ``curl`` with the output shown.

    The ``curl`` block needs a running ``uvicorn``, so it is marked not-run;
    this test sends its body to the app, lifespan included, in a child process.
    """
    page = ROOT / "docs" / "web-servers.md"
    run = PageRun(page, tmp_path)
    blocks = run.blocks
    curl = next(
        b for b in blocks if b.code.startswith("curl") and "/headline" in b.code
    )
    shown = blocks[blocks.index(curl) + 1]
    body = re.search(r"-d '(?P<body>.*?)'", curl.code, re.DOTALL)
    assert body and shown.language == "text"
    done = subprocess.run(
        [sys.executable, "-c", CURL_CLIENT, body["body"]],
        cwd=run.project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    status, answer = json.loads(done.stdout.splitlines()[-1])
    assert (status, answer) == (200, json.loads(shown.code))


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``url/health`` answers 200, or fail with the server's output."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not start in {TIMEOUT:.0f} s:\n{log.read_text()}")


def test_the_serving_page_starts_its_server_and_answers_its_curl(
    tmp_path: Path,
) -> None:
    """serving.md: its first command, in a fresh clone, serves its ``curl``.

    The command runs as written, but for its ``pip install`` (the test
    environment has the ``server`` extra) and on a free port of 127.0.0.1; the
    answer has the page's fields and outputs (the run id and duration differ).
    """
    run = PageRun(ROOT / "docs" / "serving.md", tmp_path)
    start, curl, shown = run.blocks[:3]
    assert start.not_run and "kedro server start" in start.code
    assert curl.code.startswith("curl") and shown.language == "text"
    port = free_port()
    lines = [ln for ln in start.code.splitlines() if not ln.startswith("pip install")]
    script = "\n".join(lines).replace(
        "kedro server start", f"exec kedro server start --host 127.0.0.1 --port {port}"
    )
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            ["bash", "-e", "-c", script],
            cwd=run.root,
            env=environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, log)
        request = curl.code.replace("localhost:8000", f"127.0.0.1:{port}")
        answer = json.loads(run.run_shell(curl, f"curl -sS {request[len('curl') :]}"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    expected = json.loads(shown.code)
    assert answer.keys() == expected.keys()
    assert answer["status"] == expected["status"]
    assert answer["outputs"] == expected["outputs"]


def test_yaml_excerpts_match_the_example_project() -> None:
    """A YAML block that names a file the example project has is an excerpt of
    it: every key it shows is in the file with the value shown."""
    project = ROOT / "examples" / "orders"
    excerpts = [
        block
        for block in ALL_BLOCKS
        if block.language == "yaml" and block.file and (project / block.file).exists()
    ]
    assert excerpts
    for block in excerpts:
        shown = yaml.safe_load(block.code)
        actual = yaml.safe_load((project / str(block.file)).read_text())
        assert is_within(shown, actual), block.id


def is_within(shown: Any, actual: Any) -> bool:
    """Whether ``shown`` is ``actual`` with some mapping keys left out."""
    if isinstance(shown, dict) and isinstance(actual, dict):
        return all(
            key in actual and is_within(value, actual[key])
            for key, value in shown.items()
        )
    return bool(shown == actual)
