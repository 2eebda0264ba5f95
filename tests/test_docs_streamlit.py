"""The Streamlit example of docs/web-servers.md, run as written with Streamlit's
own test harness (AppTest runs the script as ``streamlit run`` would)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "web-servers.md").read_text()


def block(language: str, first_line: str) -> str:
    """The fenced block of the page whose first line starts with ``first_line``."""
    found = [
        code
        for code in re.findall(rf"```{language}\n(.*?)```", PAGE, re.DOTALL)
        if code.startswith(first_line)
    ]
    assert len(found) == 1, f"web-servers.md should have one {first_line!r} block"
    return found[0]


def test_the_streamlit_example_runs_again_on_every_slider_move(tmp_path: Path) -> None:
    project = tmp_path / "orders"
    shutil.copytree(
        ROOT / "examples" / "orders",
        project,
        ignore=shutil.ignore_patterns("__pycache__", "sessions", "*.egg-info"),
    )
    (project / "conf" / "service").mkdir()
    (project / "conf" / "service" / "catalog.yml").write_text(
        block("yaml", "# conf/service/catalog.yml")
    )
    app_file = project / "streamlit_app.py"
    app_file.write_text(block("python", '"""streamlit_app.py:'))

    app = AppTest.from_file(str(app_file), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    assert app.header[0].value == "Top region east: 394.20 EUR (factor 1.0)"

    app.slider[0].set_value(2.0).run()
    assert not app.exception, app.exception
    assert app.header[0].value == "Top region east: 788.40 EUR (factor 2.0)"

    app.slider[1].set_value(0.5).run()
    assert app.header[0].value.endswith("(factor 2.0)")
    assert app.header[0].value != "Top region east: 788.40 EUR (factor 2.0)"
    # Nothing was written: the service env keeps the summary in memory.
    assert not list((project / "data" / "08_reporting").glob("*.csv"))
