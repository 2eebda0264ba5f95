"""The runtime params config reads are found by OmegaConf's grammar, every spelling."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.framework.startup import bootstrap_project
from omegaconf import OmegaConf

from kedro_runtime import KedroSession, UntrustedParamsError
from kedro_runtime import _kedro_private as private
from kedro_runtime.parameters import (
    ANY_RUNTIME_PARAM,
    runtime_param_keys,
    runtime_params_read_by,
)


def keys_omegaconf_reads(text: str) -> set[str]:
    """The truth: the keys OmegaConf gives a recording ``runtime_params`` resolver."""
    read: set[str] = set()

    def record(key: Any, default: Any = None) -> str:
        read.add(str(key))
        return "v"

    with private.CONFIG_LOCK:  # resolvers are process-wide
        OmegaConf.register_new_resolver("runtime_params", record, replace=True)
        try:
            OmegaConf.to_container(OmegaConf.create({"v": text}), resolve=True)
        finally:
            # Kedro's loaders register their own again before they resolve.
            OmegaConf.clear_resolver("runtime_params")
    return read


_KEY = st.from_regex(
    r"[a-z_][a-z0-9_]{0,5}(\.[a-z_][a-z0-9_]{0,5}){0,2}", fullmatch=True
)
_SPACE = st.sampled_from(["", " ", "  "])


@st.composite
def _key_spelling(draw: st.DrawFn) -> str:
    key = draw(_KEY)
    quote = draw(st.sampled_from(["", "'", '"']))
    return f"{draw(_SPACE)}{quote}{key}{quote}{draw(_SPACE)}"


def _lookup(default: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``${runtime_params:key}``, with or without a default, in any spelling."""
    return st.builds(
        lambda lead, key, arg: f"${{{lead}runtime_params{lead}:{key}{arg}}}",
        _SPACE,
        _key_spelling(),
        st.one_of(st.just(""), default.map(lambda value: f",{value}")),
    )


_PLAIN = st.sampled_from(["all", "'all'", '"a b"', "1", " x "])
_SPELLINGS = st.recursive(
    _lookup(_PLAIN),
    lambda inner: st.one_of(
        _lookup(inner),  # a default that reads another runtime param
        _lookup(inner.map(lambda text: f"'pre{text}post'")),  # inside a string
        inner.map(lambda text: f"${{oc.select:absent, {text}}}"),
    ),
    max_leaves=4,
)
_VALUES = st.builds(
    lambda head, lookup, tail: head + lookup + tail,
    st.sampled_from(["", "data/", "s3://bucket/"]),
    _SPELLINGS,
    st.sampled_from(["", "/f.csv", ".parquet"]),
)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_every_key_omegaconf_reads_is_found(text: str) -> None:
    truth = keys_omegaconf_reads(text)
    assert truth, text
    assert truth <= runtime_param_keys(text), text
    read = runtime_params_read_by({"catalog.yml": {"entry": {"filepath": text}}})
    assert truth <= set(read), text


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("${runtime_params:'tenant', all}", {"tenant"}),
        ('data/${ runtime_params : "ten ant" }/f.csv', {"ten ant"}),
        ("${runtime_params:a, ${runtime_params:b}}", {"a", "b"}),
        ("${runtime_params:${key}}", {ANY_RUNTIME_PARAM}),
        ("${${name}:tenant}", {ANY_RUNTIME_PARAM}),
        ("\\${runtime_params:x}", set()),  # escaped: not an interpolation
        ("${runtime_params:x", set()),  # OmegaConf cannot parse it either
        ("no interpolation", set()),
    ],
)
def test_spellings_are_read_as_omegaconf_reads_them(text: str, keys: set[str]) -> None:
    assert runtime_param_keys(text) == keys


QUOTED_TENANT = """
tenant_report:
  type: pandas.CSVDataset
  filepath: data/08_reporting/${runtime_params:'tenant', all}/report.csv
"""


def _quoted_key_project(make_project: Callable[..., Path], catalog: str) -> Path:
    path = make_project()
    with (path / "conf" / "base" / "catalog.yml").open("a") as file:
        file.write(catalog)
    settings_file = path / "src" / path.name / "settings.py"
    settings_file.write_text(
        settings_file.read_text() + "\nALLOWED_CATALOG_RUNTIME_PARAMS = ['region']\n"
    )
    sys.modules.pop(f"{path.name}.settings", None)  # read the edited file
    bootstrap_project(path)
    return path


def test_a_quoted_key_does_not_bypass_the_allowlist(
    make_project: Callable[..., Path],
) -> None:
    """Issue 18: ``region`` allowed, ``tenant`` read through a quoted key."""
    path = _quoted_key_project(
        make_project,
        QUOTED_TENANT.replace("report.csv", "${runtime_params:region, all}.csv"),
    )
    params = {"region": "emea", "tenant": "../../../../x"}
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        with pytest.raises(UntrustedParamsError, match="'tenant'"):
            session.check_runtime_params(params)
        with pytest.raises(UntrustedParamsError, match="'tenant'"):
            session.run(runtime_params=params)
        session.run(runtime_params={"region": "emea"})  # the allowed one still works


def test_a_computed_key_refuses_every_untrusted_param(
    make_project: Callable[..., Path],
) -> None:
    path = _quoted_key_project(
        make_project,
        QUOTED_TENANT.replace("'tenant'", "${runtime_params:which, tenant}"),
    )
    with KedroSession.create(path, untrusted_runtime_params=True) as session:
        with pytest.raises(UntrustedParamsError, match="computes"):
            session.check_runtime_params({"factor": 2})
