"""Untrusted runtime params at any depth, and catalog runtime params as path segments.

A session created with ``untrusted_runtime_params=True`` (and the server, which
creates one) must never resolve anything a caller sends as an interpolation,
wherever it hides, and an allowlisted runtime param that feeds a file path must
not walk out of its folder.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kedro.framework.startup import bootstrap_project

from kedro_runtime import (
    KedroSession,
    UntrustedParamsError,
    UntrustedParamsTypeError,
)
from kedro_runtime.server import create_app
from kedro_runtime.untrusted import catalog_param_rules, check_catalog_value

SECRET = "s3://internal-bucket-7f3a9c"
GLOBALS = f"internal_bucket: {SECRET}\n"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders"


def with_secret(path: Path, allowed: object = None) -> Path:
    """Give a project a secret in its globals; optionally an allowlist setting."""
    (path / "conf" / "base" / "globals.yml").write_text(GLOBALS)
    if allowed is not None:
        settings_file = path / "src" / path.name / "settings.py"
        settings_file.write_text(
            settings_file.read_text()
            + f"\nALLOWED_CATALOG_RUNTIME_PARAMS = {allowed!r}\n"
        )
        sys.modules.pop(f"{path.name}.settings", None)  # read the edited file
    bootstrap_project(path)
    return path


# --- interpolations hidden in containers ---------------------------------------------


@dataclasses.dataclass
class Box:
    """A dataclass value: OmegaConf resolves interpolations in its fields."""

    value: Any


RESOLVERS = [
    "globals:internal_bucket",
    "globals:internal_bucket, fallback",
    "vat_rate",
    "oc.select:globals.internal_bucket",
    "oc.select:vat_rate, 0",
    "oc.decode:'${vat_rate}'",
    "oc.env:HOME",
    "oc.dict.keys:discount",
    "runtime_params:factor",
    "oc.select:${globals:internal_bucket}",
]
SAFE_TEXT = st.text(max_size=6).filter(lambda text: "${" not in text)
INTERPOLATIONS = st.one_of(
    st.builds(
        lambda before, body, after: f"{before}${{{body}}}{after}",
        SAFE_TEXT,
        st.sampled_from(RESOLVERS),
        SAFE_TEXT,
    ),
    st.sampled_from(
        ["\\${vat_rate}", "${", "$${vat_rate}", "${ globals:internal_bucket }"]
    ),
)
PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    SAFE_TEXT,
)
KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
Poisoned = tuple[Any, str]
"""A value with an interpolation somewhere inside, and the path to it."""


def _is_hashable(poisoned: Poisoned) -> bool:
    try:
        hash(poisoned[0])
    except TypeError:
        return False
    return True


def _wrap(inner: st.SearchStrategy[Poisoned]) -> st.SearchStrategy[Poisoned]:
    """Put a poisoned value one level deeper, among plain siblings."""
    siblings = st.lists(PLAIN, max_size=3)

    def in_sequence(kind: type) -> st.SearchStrategy[Poisoned]:
        return st.builds(
            lambda before, poisoned, after: (
                kind([*before, poisoned[0], *after]),
                f"[{len(before)}]{poisoned[1]}",
            ),
            siblings,
            inner,
            siblings,
        )

    as_value = st.builds(
        lambda others, key, poisoned: (
            {**others, key: poisoned[0]},
            f".{key}{poisoned[1]}",
        ),
        st.dictionaries(KEYS, PLAIN, max_size=3),
        KEYS,
        inner,
    )
    as_key = st.builds(
        lambda others, key, value: ({**others, key: value}, f".{key}"),
        st.dictionaries(KEYS, PLAIN, max_size=3),
        # Without dots: runtime params nest dotted keys of mappings.
        INTERPOLATIONS.filter(lambda text: "." not in text),
        PLAIN,
    )
    in_set = st.builds(
        lambda kind, others, poisoned: (
            kind({*others, poisoned[0]}),
            f"[*]{poisoned[1]}",
        ),
        st.sampled_from([set, frozenset]),
        st.frozensets(PLAIN, max_size=3),
        inner.filter(_is_hashable),
    )
    in_box = st.builds(lambda p: (Box(p[0]), f".value{p[1]}"), inner)
    return st.one_of(
        in_sequence(list), in_sequence(tuple), as_value, as_key, in_set, in_box
    )


POISONED: st.SearchStrategy[Poisoned] = st.recursive(
    INTERPOLATIONS.map(lambda text: (text, "")), _wrap, max_leaves=6
)
NAMES = st.sampled_from(["currency", "discount", "discount.note", "brand_new"])


@pytest.fixture
def secret_project(make_project: Callable[..., Path]) -> Path:
    return with_secret(make_project())


def test_without_the_flag_a_nested_interpolation_is_resolved(
    secret_project: Path,
) -> None:
    """What the untrusted mode prevents: config values reach the output."""
    with KedroSession.create(secret_project) as session:
        result = session.run(
            runtime_params={"currency": ["${globals:internal_bucket}"]}
        )
    assert SECRET in result["headline"].load()


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"currency": ["${globals:internal_bucket}"]}, "currency[0]"),
        ({"currency": [{"x": "${vat_rate}"}]}, "currency[0].x"),
        ({"currency": ("a", "${oc.select:vat_rate}")}, "currency[1]"),
        ({"currency": {"${oc.decode:'1'}"}}, "currency[*]"),
        ({"currency": [[["\\${vat_rate}"]]]}, "currency[0][0][0]"),
        ({"discount.note": {"${vat_rate}": 1}}, "discount.note.${vat_rate}"),
        ({"${globals:internal_bucket}": 1}, "${globals:internal_bucket}"),
        ({"currency": Box("${globals:internal_bucket}")}, "currency.value"),
    ],
    ids=["list", "dict-in-list", "tuple", "set", "escaped", "key", "name", "dataclass"],
)
def test_a_nested_interpolation_is_refused_naming_its_path(
    secret_project: Path, params: dict[str, Any], path: str
) -> None:
    with KedroSession.create(secret_project, untrusted_runtime_params=True) as session:
        with pytest.raises(UntrustedParamsError) as info:
            session.run(runtime_params=params)
        assert isinstance(info.value, ValueError)
        message = str(info.value)
        assert f"'{path}'" in message
        assert "interpolation" in message and "plain values" in message
        assert SECRET not in message
        assert session.run()["headline"].load().endswith("EUR (factor 1.0)")


def test_any_interpolation_at_any_depth_is_refused_by_session_run(
    secret_project: Path,
) -> None:
    with KedroSession.create(secret_project, untrusted_runtime_params=True) as session:

        @settings(
            max_examples=200,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(name=NAMES, poisoned=POISONED)
        def refused(name: str, poisoned: Poisoned) -> None:
            value, path = poisoned
            with pytest.raises(UntrustedParamsError) as info:
                session.run(runtime_params={name: value})
            message = str(info.value)
            assert f"'{name}{path}'" in message
            assert SECRET not in message

        refused()
        headline = session.run()["headline"].load()
    assert headline.endswith("EUR (factor 1.0)")


# --- the same through HTTP ----------------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("untrusted-http") / "orders"
    shutil.copytree(
        EXAMPLE,
        path,
        ignore=shutil.ignore_patterns("__pycache__", "sessions", "*.egg-info"),
    )
    (path / "conf" / "base" / "globals.yml").write_text(GLOBALS)
    with TestClient(create_app(path, api_key="")) as test_client:
        yield test_client


JSON_PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    SAFE_TEXT,
)


def _json_only(inner: st.SearchStrategy[Poisoned]) -> st.SearchStrategy[Poisoned]:
    """What a JSON body can hold: lists and objects."""
    return st.one_of(
        st.builds(
            lambda before, poisoned: (
                [*before, poisoned[0]],
                f"[{len(before)}]{poisoned[1]}",
            ),
            st.lists(JSON_PLAIN, max_size=3),
            inner,
        ),
        st.builds(
            lambda key, poisoned: ({"k": 1, key: poisoned[0]}, f".{key}{poisoned[1]}"),
            KEYS,
            inner,
        ),
    )


JSON_POISONED: st.SearchStrategy[Poisoned] = st.recursive(
    INTERPOLATIONS.map(lambda text: (text, "")), _json_only, max_leaves=5
)


def test_post_run_refuses_an_interpolation_in_a_list(client: TestClient) -> None:
    response = client.post(
        "/run",
        json={
            "params": {"currency": ["${globals:internal_bucket}"]},
            "outputs": ["headline"],
        },
    )
    assert response.status_code == 422, response.text
    assert SECRET not in response.text
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "params"]
    assert "'currency[0]'" in detail["msg"]


def test_post_run_refuses_any_nested_interpolation(client: TestClient) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(name=NAMES, poisoned=JSON_POISONED)
    def refused(name: str, poisoned: Poisoned) -> None:
        value, path = poisoned
        response = client.post(
            "/run", json={"params": {name: value}, "outputs": ["headline"]}
        )
        assert response.status_code == 422, response.text
        assert SECRET not in response.text
        assert f"'{name}{path}'" in response.json()["detail"][0]["msg"]

    refused()
    response = client.post("/run", json={"params": {"factor": 2}})
    assert response.status_code == 200
    assert response.json()["status"] == "success"


# --- catalog runtime params: one path segment by default ----------------------------------

HOSTILE = [
    "x/../../../../escape",
    "../escape",
    "..",
    ".",
    "...",
    "",
    "/tmp",
    "C:",
    "C:\\escape",
    "..\\..\\escape",
    "s3://bucket/escape",
    "a\x00b",
    "line\nbreak",
]


def _tree(root: Path, data: Path) -> set[str]:
    """Every file and folder under ``root``, except the data folder's content."""
    return {
        str(path)
        for path in root.rglob("*")
        if "__pycache__" not in path.parts and not path.is_relative_to(data)
    }


def test_hostile_values_write_nothing_outside_the_data_folder(
    make_project: Callable[..., Path],
) -> None:
    path = with_secret(make_project(), allowed=["region"])
    root = path.parent.parent  # the project lives in tmp_path: check around it
    data = path / "data"
    outside = path.parent / "escaped"
    hostile: list[Any] = [
        *HOSTILE,
        str(outside),
        f"file://{outside}",
        ["../escape"],
        {"sub": "../escape"},
        ("..",),
        None,
    ]
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        session.run(runtime_params={"region": "warm"})
        before = _tree(root, data)
        for value in hostile:
            with pytest.raises(UntrustedParamsError) as info:
                session.run(runtime_params={"region": value})
            assert "'region'" in str(info.value)
            assert ("one path segment" in str(info.value)) or isinstance(
                info.value, UntrustedParamsTypeError
            )
        session.run(runtime_params={"region": "north"})
        session.run(runtime_params={"region": 7})
    assert _tree(root, data) == before
    reports = {p.name for p in (data / "08_reporting").iterdir()}
    assert {"summary_warm.csv", "summary_north.csv", "summary_7.csv"} <= reports
    assert not outside.exists()


def test_a_pattern_per_name_replaces_the_default_rule(
    make_project: Callable[..., Path],
) -> None:
    path = with_secret(make_project(), allowed={"region": r"[a-z]{2,10}"})
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        session.run(runtime_params={"region": "emea"})
        for value in ("North", "x/../y", "a", 7):
            with pytest.raises(UntrustedParamsError, match=r"\[a-z\]\{2,10\}"):
                session.run(runtime_params={"region": value})
    assert (path / "data" / "08_reporting" / "summary_emea.csv").exists()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x/../y", "'/'"),
        ("a\\b", "'\\\\'"),
        ("C:", "':'"),
        ("..", "only dots"),
        ("", "empty"),
        ("a\tb", "control character"),
    ],
)
def test_the_default_rule_says_what_is_wrong(value: str, problem: str) -> None:
    rules = catalog_param_rules(["region"])
    with pytest.raises(UntrustedParamsError, match=problem) as info:
        check_catalog_value("region", value, rules)
    assert "ALLOWED_CATALOG_RUNTIME_PARAMS" in str(info.value)


@pytest.mark.parametrize(
    "value", ["north", "São Paulo", "2026-11", "a.b", 7, 0.5, True]
)
def test_the_default_rule_accepts_one_segment(value: object) -> None:
    check_catalog_value("region", value, catalog_param_rules(["region"]))


@pytest.mark.parametrize(
    ("value", "kind"), [(["a"], "list"), ({"a": 1}, "dict"), (None, "NoneType")]
)
def test_a_catalog_param_must_be_one_value(value: object, kind: str) -> None:
    rules = catalog_param_rules({"region": None})
    with pytest.raises(UntrustedParamsTypeError, match=kind) as info:
        check_catalog_value("region", value, rules)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    ("setting", "error", "fragment"),
    [
        ("region", TypeError, "list of runtime param names"),
        ({"region": 3}, TypeError, "give each a pattern"),
        ({"region": "[a-"}, ValueError, "not a valid regular expression"),
    ],
)
def test_a_bad_allowlist_setting_is_explained(
    setting: object, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        catalog_param_rules(setting)  # type: ignore[arg-type]


def test_hostile_values_are_refused_over_http(
    make_project: Callable[..., Path],
) -> None:
    path = with_secret(make_project(), allowed=["region"])
    root, data = path.parent.parent, path / "data"
    before = _tree(root, data)
    with TestClient(create_app(path, api_key="")) as test_client:
        for value in ["x/../../../../escape", "..", f"file://{path.parent}/e"]:
            response = test_client.post("/run", json={"params": {"region": value}})
            assert response.status_code == 422, response.text
            assert "one path segment" in response.json()["detail"][0]["msg"]
        response = test_client.post("/run", json={"params": {"region": "east"}})
        assert response.json()["status"] == "success"
    assert _tree(root, data) == before
    assert (data / "08_reporting" / "summary_east.csv").exists()
