"""The Streamlit example of docs/web-servers.md, run as written with Streamlit's
own test harness (AppTest runs the script as ``streamlit run`` would).

AppTest runs in a child process: importing Streamlit reconfigures process-wide
state (logging among it) that later tests in the same process must not inherit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from _example import copy_example

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "web-servers.md").read_text()

DRIVER = """
import json, sys
from streamlit.testing.v1 import AppTest

app = AppTest.from_file(sys.argv[1], default_timeout=60)
headers = []
app.run()
headers.append([str(e) for e in app.exception] or app.header[0].value)
app.slider[0].set_value(2.0).run()
headers.append([str(e) for e in app.exception] or app.header[0].value)
app.slider[1].set_value(0.5).run()
headers.append([str(e) for e in app.exception] or app.header[0].value)
print(json.dumps(headers))
"""


def block(language: str, first_line: str) -> str:
    """The fenced block of the page whose first line starts with ``first_line``."""
    found = [
        code
        for code in re.findall(rf"```{language}\n(.*?)```", PAGE, re.DOTALL)
        if code.startswith(first_line)
    ]
    assert len(found) == 1, f"web-servers.md should have one {first_line!r} block"
    return found[0]


def test_the_streamlit_example_runs_again_on_every_slider_move(
    tmp_path: Path,
) -> None:
    project = copy_example(tmp_path / "orders")
    (project / "conf" / "service").mkdir()
    (project / "conf" / "service" / "catalog.yml").write_text(
        block("yaml", "# conf/service/catalog.yml")
    )
    app_file = project / "streamlit_app.py"
    app_file.write_text(block("python", '"""streamlit_app.py:'))

    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(app_file)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    first, faster, discounted = json.loads(done.stdout.strip().splitlines()[-1])
    assert first == "Top region east: 394.20 EUR (factor 1.0)"
    assert faster == "Top region east: 788.40 EUR (factor 2.0)"
    assert isinstance(discounted, str)
    assert discounted.endswith("(factor 2.0)")
    assert discounted != faster
    # Nothing was written: the service env keeps the summary in memory.
    assert not list((project / "data" / "08_reporting").glob("*.csv"))
