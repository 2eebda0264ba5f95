"""The server's parts on their own: codec, settings, helpers and the command."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import os
import subprocess
import sys
import uuid
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _example import copy_example
from click.testing import CliRunner
from kedro import KedroDeprecationWarning
from kedro.framework.cli.server import server_start as kedro_server_start
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset
from pydantic import BaseModel

from kedro_runtime import KedroSession, RuntimeParamsError, SessionOptions, parse_params
from kedro_runtime.server import warm_session
from kedro_runtime.server.cli import commands
from kedro_runtime.server.codec import (
    DecodeError,
    EncodeError,
    dataset_kind,
    decode_value,
    encode_output,
    encode_outputs,
)
from kedro_runtime.server.execute import redact
from kedro_runtime.server.project import ServerStartError, _data_kind
from kedro_runtime.server.settings import (
    API_KEY_ENV,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEPRECATED_API_KEY_ENV,
    MAX_REQUEST_BYTES_ENV,
    PIPELINES_ENV,
    PROJECT_PATH_ENV,
    REQUEST_TIMEOUT_ENV,
    ServerSettings,
    ServerSettingsError,
)


class _MyCSV(CSVDataset):
    """A project's own subclass of a pandas dataset."""


# --- decoding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset_type", "kind"),
    [
        (CSVDataset, "pandas"),
        (_MyCSV, "pandas"),
        (MemoryDataset, "json"),
        (JSONDataset, "json"),
        (None, "json"),
    ],
)
def test_dataset_kind_follows_the_declared_class(
    dataset_type: type | None, kind: str
) -> None:
    assert dataset_kind(dataset_type) == kind


def test_json_values_are_passed_as_they_are() -> None:
    value = {"a": [1, {"b": None}]}
    assert decode_value("x", "json", value) is value


def test_records_and_columns_make_the_same_frame() -> None:
    records = [{"a": 1, "b": "x"}, {"a": 2, "b": None}]
    columns = {"a": [1, 2], "b": ["x", None]}
    from_records = decode_value("t", "pandas", records)
    from_columns = decode_value("t", "pandas", columns)
    pd.testing.assert_frame_equal(from_records, from_columns)
    assert list(from_records.columns) == ["a", "b"]
    assert from_records["a"].tolist() == [1, 2]


def test_records_with_missing_keys_get_missing_values() -> None:
    frame = decode_value("t", "pandas", [{"a": 1}, {"b": 2}])
    assert frame.shape == (2, 2)
    assert frame.isna().sum().sum() == 2


def test_an_empty_list_is_an_empty_frame() -> None:
    assert decode_value("t", "pandas", []).empty


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "sent null"),
        (True, "sent a boolean"),
        ([{"a": 1}, "b"], 'records hold a string "b"'),
        ({"a": [1], "b": 2}, "column 'b' is a number 2"),
        ({"a": [1, 2], "b": [1]}, "different lengths ({'a': 2, 'b': 1})"),
    ],
)
def test_values_that_are_not_tables_are_refused(value: Any, fragment: str) -> None:
    with pytest.raises(DecodeError, match="orders") as caught:
        decode_value("orders", "pandas", value)
    assert fragment in str(caught.value)
    assert caught.value.name == "orders"


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ({"type": "MemoryDataset"}, "json"),
        ({"type": "pandas.CSVDataset", "filepath": "x.csv"}, "pandas"),
        (
            {
                "type": "MemoryDataset",
                "metadata": {"kedro_runtime": {"decode": "pandas"}},
            },
            "pandas",
        ),
        (
            {
                "type": "pandas.CSVDataset",
                "filepath": "x.csv",
                "metadata": {"kedro_runtime": {"decode": "json"}},
            },
            "json",
        ),
    ],
)
def test_catalog_metadata_can_set_how_data_is_decoded(
    entry: dict[str, Any], kind: str
) -> None:
    catalog = DataCatalog.from_config({"x": entry})
    assert _data_kind(catalog, "x") == kind
    assert _data_kind(catalog, "not_declared") == "json"


def test_an_unknown_decode_setting_stops_the_server() -> None:
    entry = {"type": "MemoryDataset", "metadata": {"kedro_runtime": {"decode": "x"}}}
    catalog = DataCatalog.from_config({"t": entry})
    with pytest.raises(ServerStartError, match="'pandas' or 'json', got 'x'"):
        _data_kind(catalog, "t")


# --- encoding --------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Reading(BaseModel):
    value: float
    when: dt.date


def test_a_frame_is_encoded_as_records_without_its_index() -> None:
    frame = pd.DataFrame(
        {"a": [1, 2], "b": [0.1, np.nan], "c": pd.to_datetime(["2026-01-01", None])},
        index=["x", "y"],
    )
    assert json.loads(encode_output("f", frame)) == [
        {"a": 1, "b": 0.1, "c": "2026-01-01T00:00:00"},
        {"a": 2, "b": None, "c": None},
    ]


def test_floats_keep_their_shortest_form() -> None:
    assert encode_output("f", pd.DataFrame({"v": [26.1, 1e-12]})) == (
        '[{"v":26.1},{"v":1e-12}]'
    )


def test_a_series_is_encoded_as_a_list() -> None:
    assert json.loads(encode_output("s", pd.Series([1.5, None]))) == [1.5, None]


def test_plain_and_common_python_values_are_encoded() -> None:
    value = {
        "int": np.int32(3),
        "array": np.arange(3),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5),
        "money": decimal.Decimal("1.25"),
        "id": uuid.UUID(int=1),
        "colour": Colour.RED,
        "point": Point(1, 2),
        "reading": Reading(value=1.5, when=dt.date(2026, 5, 6)),
        "set": {7},
        "frame": pd.DataFrame({"a": [1]}),
    }
    assert json.loads(encode_output("v", value)) == {
        "int": 3,
        "array": [0, 1, 2],
        "when": "2026-01-02T03:04:05",
        "money": 1.25,
        "id": "00000000-0000-0000-0000-000000000001",
        "colour": "red",
        "point": {"x": 1, "y": 2},
        "reading": {"value": 1.5, "when": "2026-05-06"},
        "set": [7],
        "frame": [{"a": 1}],
    }


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (b"raw", "holds a builtins.bytes, which has no JSON form"),
        ({"a": object()}, "holds a builtins.object"),
        (float("inf"), "NaN and infinite numbers have no JSON form"),
        ({(1, 2): "tuple key"}, "keys must be"),
        (
            pd.DataFrame([[1, 2]], columns=["a", "a"]),
            "columns ['a'] appear more than once",
        ),
    ],
)
def test_values_with_no_json_form_are_refused(value: Any, fragment: str) -> None:
    with pytest.raises(EncodeError) as caught:
        encode_output("model", value)
    assert caught.value.name == "model"
    assert "Output 'model'" in str(caught.value)
    assert fragment in str(caught.value)


def test_outputs_are_encoded_as_one_object() -> None:
    text = encode_outputs({"a": 1, 'quote"d': pd.DataFrame({"x": [1]})})
    assert json.loads(text) == {"a": 1, 'quote"d': [{"x": 1}]}
    assert encode_outputs({}) == "{}"


# --- settings --------------------------------------------------------------------------


def test_settings_come_from_arguments_first(tmp_path: Path) -> None:
    environ = {
        PROJECT_PATH_ENV: "/nonexistent",
        PIPELINES_ENV: "a,b",
        MAX_REQUEST_BYTES_ENV: "10",
        API_KEY_ENV: "from-env",
    }
    settings = ServerSettings.resolve(
        project_path=tmp_path,
        env="prod",
        conf_source="conf2",
        pipelines=["x", " y ", "x"],
        api_key="",
        max_request_bytes=99,
        environ=environ,
    )
    assert settings == ServerSettings(
        project_path=tmp_path.resolve(),
        env="prod",
        conf_source="conf2",
        pipelines=("x", "y"),
        max_request_bytes=99,
        api_key=None,
    )


def test_settings_fall_back_to_the_environment(tmp_path: Path) -> None:
    environ = {
        PROJECT_PATH_ENV: str(tmp_path),
        "KEDRO_SERVER_ENV": "staging",
        PIPELINES_ENV: "a, b,,a",
        MAX_REQUEST_BYTES_ENV: "1234",
        API_KEY_ENV: "k",
    }
    settings = ServerSettings.resolve(environ=environ)
    assert settings.project_path == tmp_path.resolve()
    assert settings.env == "staging"
    assert settings.conf_source is None
    assert settings.pipelines == ("a", "b")
    assert settings.max_request_bytes == 1234
    assert settings.api_key == "k"
    defaults = ServerSettings.resolve(project_path=tmp_path, environ={})
    assert defaults.pipelines is None
    assert defaults.max_request_bytes == DEFAULT_MAX_REQUEST_BYTES
    assert defaults.api_key is None


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"project_path": "/does/not/exist"}, "does not exist"),
        ({"max_request_bytes": 0}, "positive number of bytes"),
        ({"pipelines": [" "]}, "No pipeline to serve"),
    ],
)
def test_unusable_settings_are_refused(
    tmp_path: Path, arguments: dict[str, Any], fragment: str
) -> None:
    arguments = {"project_path": tmp_path, **arguments}
    with pytest.raises(ServerSettingsError, match=fragment.replace("(", r"\(")):
        ServerSettings.resolve(**arguments, environ={})


def test_a_size_limit_from_the_environment_must_be_a_number(tmp_path: Path) -> None:
    with pytest.raises(ServerSettingsError, match="'lots'"):
        ServerSettings.resolve(
            project_path=tmp_path, environ={MAX_REQUEST_BYTES_ENV: "lots"}
        )


# --- helpers ---------------------------------------------------------------------------


def test_redact_hides_url_credentials() -> None:
    assert redact("cannot read s3://user:pw@bucket/x.csv") == (
        "cannot read s3://***@bucket/x.csv"
    )
    assert redact("at abfs://account@host/x and gcs://k:s@b/y") == (
        "at abfs://***@host/x and gcs://***@b/y"
    )
    assert redact("http://host/y?a=b@c") == "http://host/y?a=b@c"


def test_params_are_parsed_as_kedro_run_does() -> None:
    assert parse_params("a=1,b.c=x,d=0.5") == {"a": 1, "b": {"c": "x"}, "d": 0.5}
    with pytest.raises(ValueError, match="Invalid 'params' value 'a'"):
        parse_params("a")


# --- the command -----------------------------------------------------------------------


def test_the_command_is_registered_as_a_project_command() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="kedro.project_commands")}
    assert found["kedro_runtime_server"] == "kedro_runtime.server.cli:commands"
    assert found["kedro_runtime_server"] != found["kedro_runtime"]


def test_the_command_keeps_every_option_of_kedros() -> None:
    start = commands.commands["server"].commands["start"]  # type: ignore[attr-defined]
    ours = {param.name: param for param in start.params}
    for option in kedro_server_start.params:
        assert ours[option.name] is option
    assert {"workers", "pipelines", "max_request_bytes"} <= set(ours)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--reload", "--workers", "2"], "cannot be used together"),
        (["--workers", "0"], "0 is not in the range x>=1"),
        (["--pipelines", " , "], "name at least one pipeline"),
    ],
)
def test_bad_option_combinations_are_refused(
    tmp_path: Path, arguments: list[str], fragment: str
) -> None:
    result = CliRunner().invoke(commands, ["server", "start", *arguments], obj=None)
    assert result.exit_code == 2
    assert fragment in result.output


def test_kedro_server_start_in_a_project_is_ours(tmp_path: Path) -> None:
    project = copy_example(tmp_path / "orders")
    bootstrap_project(project)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("kedro")), "server", "start", "--help"],
        cwd=project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "from kedro-runtime" in result.stdout
    for option in ("--host", "--port", "--reload", "--env", "--conf-source"):
        assert option in result.stdout
    for option in (
        "--workers",
        "--pipelines",
        "--max-request-bytes",
        "--request-timeout",
    ):
        assert option in result.stdout


def test_the_package_and_the_command_import_without_fastapi() -> None:
    code = (
        "import sys\n"
        "import kedro_runtime, kedro_runtime.server, kedro_runtime.server.cli\n"
        "import kedro_runtime.server.project, kedro_runtime.server.codec\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --- warm_session --------------------------------------------------------------------


def test_warm_session_gives_a_warm_untrusted_session(project_path: Path) -> None:
    session = warm_session(project_path, pipelines=["orders"])
    try:
        assert isinstance(session, KedroSession)
        with pytest.raises(RuntimeParamsError, match="ALLOWED_CATALOG_RUNTIME_PARAMS"):
            session.run(pipeline_names=["orders"], runtime_params={"region": "x"})
        orders = pd.DataFrame(
            [{"order_id": 1, "region": "west", "product": "gizmo", "quantity": 2}]
        )
        outputs = session.run(
            pipeline_names=["orders"], runtime_data={"orders": orders}
        )
        assert outputs["headline"].load().startswith("Top region west: 17.40 EUR")
    finally:
        session.close()


def test_warm_session_can_trust_its_callers(project_path: Path) -> None:
    trusted = SessionOptions.for_service(untrusted_runtime_params=False)
    with warm_session(
        project_path, runtime_params={"top_n": 1}, options=trusted
    ) as session:
        session.run(runtime_params={"region": "west"})
    assert (project_path / "data" / "08_reporting" / "summary_west.csv").exists()


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan"])
def test_a_request_timeout_that_is_not_positive_is_refused(
    tmp_path: Path, raw: str
) -> None:
    with pytest.raises(ValueError, match=REQUEST_TIMEOUT_ENV):
        request_timeout(tmp_path, {REQUEST_TIMEOUT_ENV: raw})


def test_the_request_timeout_comes_from_the_environment(tmp_path: Path) -> None:
    assert request_timeout(tmp_path, {REQUEST_TIMEOUT_ENV: "2.5"}) == 2.5
    assert request_timeout(tmp_path, {}) == DEFAULT_REQUEST_TIMEOUT


def request_timeout(project_path: Path, environ: dict[str, str]) -> float:
    settings = ServerSettings.resolve(project_path=project_path, environ=environ)
    return settings.request_timeout


def test_the_former_api_key_variable_is_read_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(KedroDeprecationWarning, match=API_KEY_ENV):
        settings = ServerSettings.resolve(
            project_path=tmp_path, environ={DEPRECATED_API_KEY_ENV: "old"}
        )
    assert settings.api_key == "old"
    both = {DEPRECATED_API_KEY_ENV: "old", API_KEY_ENV: "new"}
    assert ServerSettings.resolve(project_path=tmp_path, environ=both).api_key == "new"


def test_server_start_node_cache_flag_and_variable_reach_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn  # noqa: PLC0415

    from kedro_runtime.server.settings import (  # noqa: PLC0415
        ENV_VARIABLES,
        NODE_CACHE_ENV,
        ServerSettings,
    )

    for name in ENV_VARIABLES:  # restored after the test, as they were
        monkeypatch.setenv(name, "")
    seen: list[bool] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.append(ServerSettings.resolve().node_cache)
    )
    metadata = type("Metadata", (), {"project_path": tmp_path})()
    for arguments in ([], ["--node-cache"], []):
        result = CliRunner().invoke(
            commands, ["server", "start", *arguments], obj=metadata
        )
        assert result.exit_code == 0, result.output
    assert seen == [False, True, False]
    # Without the command (uvicorn --factory): the variable, off by default.
    for raw, expected in (("", False), ("1", True), ("true", True), ("0", False)):
        environ = {NODE_CACHE_ENV: raw}
        assert ServerSettings.resolve(tmp_path, environ=environ).node_cache is expected
    on = ServerSettings.resolve(
        tmp_path, environ={NODE_CACHE_ENV: "1"}, node_cache=False
    )
    assert on.node_cache is False  # an argument wins over the variable
