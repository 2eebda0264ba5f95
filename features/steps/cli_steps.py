"""Steps that drive the real ``kedro`` command line on the generated project."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from behave import given, then, when
from behave.runner import Context

COMPLETED = re.compile(r"Completed node: (\S+)")
KEDRO_VERSION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z$")
RUNTIME_VERSION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z-[0-9a-f]{16}$")
OUTPUTS = ("data/02_intermediate", "data/08_reporting")
ALL_NODES = "scale_node, summarise_node, audit.count_node"

CUSTOM_SESSION = """

from kedro.framework.session import KedroSession as _KedroSession


class AuditedSession(_KedroSession):
    \"\"\"A project's own session, of Kedro's lineage, not kedro-runtime's.\"\"\"


SESSION_CLASS = AuditedSession
"""


def _run(context: Context, command: str) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command.format(**context.placeholders))
    if args[0] == "kedro":
        args[0] = str(context.bin / "kedro")
    elif args[0] == "python":
        args[0] = sys.executable
    return subprocess.run(
        args,
        cwd=context.project,
        env=context.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def _names(text: str) -> list[str]:
    return sorted(name.strip() for name in text.split(",") if name.strip())


def _report(context: Context, name: str) -> pd.DataFrame:
    path = context.project / "data" / "08_reporting" / name
    assert path.exists(), f"{name} was not written; output:\n{_output(context.result)}"
    return pd.read_csv(path)


# --- project state -----------------------------------------------------------------


@given("a clean project")
def clean_project(context: Context) -> None:
    for folder in OUTPUTS:
        path = context.project / folder
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)


@given("the project has been run")
def project_has_run(context: Context) -> None:
    reporting = context.project / "data" / "08_reporting"
    scaled = context.project / "data" / "02_intermediate" / "scaled.csv"
    if (
        (reporting / "report_plain.csv").exists()
        and (reporting / "row_count.csv").exists()
        and scaled.exists()
    ):
        return
    result = _run(context, "kedro run")
    assert result.returncode == 0, _output(result)


@given('the file "{path}" holds the values {values}')
def numbers_file(context: Context, path: str, values: str) -> None:
    target = context.project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    numbers = [float(value) for value in values.split(",")]
    pd.DataFrame({"value": numbers}).to_csv(target, index=False)


@given('the versioned file "{path}" holds the values {values}')
def versioned_numbers_file(context: Context, path: str, values: str) -> None:
    # A versioned dataset at `path` is a folder of versions, each with the file.
    version = "2024-05-01T00.00.00.000Z"
    numbers_file(context, f"{path}/{version}/{Path(path).name}", values)


@given('the config file "{path}"')
def config_file(context: Context, path: str) -> None:
    target = context.project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(context.text)


@given('the "{env}" environment sets {key} to {value}')
def environment_parameter(context: Context, env: str, key: str, value: str) -> None:
    folder = context.project / "conf" / env
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parameters.yml").write_text(yaml.safe_dump({key: yaml.safe_load(value)}))


@given('a copy of the configuration in "{path}" where {key} is {value}')
def configuration_copy(context: Context, path: str, key: str, value: str) -> None:
    target = context.project / path
    shutil.copytree(context.project / "conf", target)
    parameters = target / "base" / "parameters.yml"
    values = yaml.safe_load(parameters.read_text())
    values[key] = yaml.safe_load(value)
    parameters.write_text(yaml.safe_dump(values))


@given("two versions of scaled were saved, with factors {first:d} and {second:d}")
def two_versions(context: Context, first: int, second: int) -> None:
    folder = context.project / "data" / "02_intermediate" / "scaled.csv"
    before = set(folder.iterdir()) if folder.exists() else set()
    for factor in (first, second):
        result = _run(context, f"kedro run --params factor={factor} --nodes scale_node")
        assert result.returncode == 0, _output(result)
    versions = sorted(path.name for path in set(folder.iterdir()) - before)
    assert len(versions) == 2, versions
    context.placeholders["first_scaled_version"] = versions[0]


@given('a pipeline module "{name}" that fails to import')
def broken_pipeline(context: Context, name: str) -> None:
    # Removed again before the next scenario (environment.before_scenario).
    module = context.project / "src" / context.package / "pipelines" / name
    module.mkdir(parents=True, exist_ok=True)
    (module / "__init__.py").write_text("raise ImportError('deliberately broken')\n")


@given("settings.py sets SESSION_CLASS to {which}")
def session_class(context: Context, which: str) -> None:
    settings = {
        "kedro-runtime's KedroSession": context.runtime_settings,
        "Kedro's default KedroSession": context.kedro_settings,
        "a custom session of Kedro's lineage": context.kedro_settings + CUSTOM_SESSION,
    }[which]
    (context.project / "src" / context.package / "settings.py").write_text(settings)


# --- the command ---------------------------------------------------------------------


@when("I run `{command}`")
def run_command(context: Context, command: str) -> None:
    context.result = _run(context, command)


@then("the command succeeds")
def succeeds(context: Context) -> None:
    assert context.result.returncode == 0, _output(context.result)


@then("the command fails with exit code {code:d}")
def fails(context: Context, code: int) -> None:
    assert context.result.returncode == code, (
        f"exit code {context.result.returncode}:\n{_output(context.result)}"
    )


@then('the output says "{text}"')
def output_says(context: Context, text: str) -> None:
    assert text in _output(context.result), _output(context.result)


@then("the output shows no traceback")
def no_traceback(context: Context) -> None:
    output = _output(context.result)
    assert "Traceback" not in output, output
    assert "most recent call last" not in output, output


@then("the nodes that ran are {names}")
def nodes_ran(context: Context, names: str) -> None:
    expected = [] if names == "none" else _names(names.replace("all", ALL_NODES))
    ran = sorted(COMPLETED.findall(context.result.stderr))
    assert ran == expected, f"ran {ran}, expected {expected}:\n{context.result.stderr}"


@then('"{name}" has a total of {total:g} over {rows:d} rows')
def report_total(context: Context, name: str, total: float, rows: int) -> None:
    report = _report(context, name)
    assert report["total"].tolist() == [total], report
    assert report["rows"].tolist() == [rows], report


@then("the newest version of scaled is named as {who} names it")
def newest_version(context: Context, who: str) -> None:
    folder = context.project / "data" / "02_intermediate" / "scaled.csv"
    newest = max(folder.iterdir(), key=lambda path: path.stat().st_mtime).name
    pattern = {"Kedro": KEDRO_VERSION, "kedro-runtime": RUNTIME_VERSION}[who]
    assert pattern.match(newest), f"{newest} is not named as {who} names versions"


@then('"{name}" was not written')
def not_written(context: Context, name: str) -> None:
    path = context.project / "data" / "08_reporting" / name
    assert not path.exists(), f"{path} exists"


@then("no report was written")
def no_report(context: Context) -> None:
    written = sorted(p.name for p in (context.project / OUTPUTS[1]).iterdir())
    assert not written, written


@then("the help lists every option of Kedro's kedro run and {extra}")
def help_lists_options(context: Context, extra: str) -> None:
    from kedro.framework.cli.project import run  # noqa: PLC0415

    help_text = context.result.stdout
    for param in run.params:
        for option in param.opts:
            assert re.search(rf"(^|[\s,]){re.escape(option)}\b", help_text), option
    for option in _names(extra.replace(" and ", ",")):
        assert option in help_text, option
