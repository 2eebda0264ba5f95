"""A request's params are merged outside the config lock unless config reads them
(issue 18, finding 5: a big list merged by OmegaConf under ``CONFIG_LOCK`` stalled
every other run with params on the worker)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from _example import PROJECT_PARAMS, expected_for

from kedro_runtime import KedroSession
from kedro_runtime import _kedro_private as private
from kedro_runtime.param_reads import paths_read, split_read
from kedro_runtime.parameters import ANY_RUNTIME_PARAM

TIERS = list(range(20_000))


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("${factor}", {"factor"}),
        ("x ${ model.alpha }", {"model.alpha"}),
        ("${runtime_params:'tenant', all}", {"tenant"}),
        ("${oc.select:a.b, 1}", {"a.b"}),
        ("${oc.env:HOME}", set()),
        ("${globals:x}", set()),
        ("${a[0]}", {"a"}),
        ("${.sibling}", {ANY_RUNTIME_PARAM}),
        ("${${name}}", {"name", ANY_RUNTIME_PARAM}),
        ("${now:}", {ANY_RUNTIME_PARAM}),
        ("plain", set()),
    ],
)
def test_the_paths_config_reads_are_found_by_omegaconfs_grammar(
    text: str, read: set[str]
) -> None:
    assert paths_read({"file": {"key": text}}) == read


def test_params_no_config_reads_are_set_apart() -> None:
    params = {"factor": 2, "discount": {"tiers": TIERS, "rate": "${x}"}, "n": 1}
    read, unread = split_read(params, {"factor"}, {"n": {"deep": 1}})
    # `rate` holds an interpolation, `n` replaces a mapping: OmegaConf's cases.
    assert read == {"factor": 2, "discount": {"rate": "${x}"}}
    assert unread == {"discount": {"tiers": TIERS}, "n": 1}
    assert split_read(params, {ANY_RUNTIME_PARAM}) == (params, {})
    # A list where config has a mapping stays with OmegaConf, which refuses it.
    assert split_read({"d": [1]}, set(), {"d": {"x": 1}}) == ({"d": [1]}, {})


def _run_in_thread(session: KedroSession, params: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: result.update(session.run(runtime_params=params))
    )
    with private.CONFIG_LOCK:  # as another request resolving its params would
        thread.start()
        thread.join(timeout=60)
        finished = not thread.is_alive()
    thread.join()
    assert finished, "the run waited for the config lock to merge params"
    return result


def test_a_big_param_no_config_reads_is_merged_outside_the_config_lock(
    session: KedroSession, project_path: Path
) -> None:
    session.run()  # builds the project (under the config lock)
    discount = {**PROJECT_PARAMS["discount"], "tiers": TIERS}
    result = _run_in_thread(session, {"discount.tiers": TIERS, "top_n": 2})
    expected = expected_for(project_path, top_n=2, discount=discount)
    assert result["headline"].load() == expected.headline


def test_params_config_reads_still_resolve_with_the_big_one_merged_after(
    session: KedroSession, project_path: Path
) -> None:
    """``derived: ${factor}``: the run's factor reaches it; the list rides along."""
    discount = {**PROJECT_PARAMS["discount"], "tiers": TIERS}
    result = session.run(runtime_params={"factor": 3.0, "discount": discount})
    expected = expected_for(project_path, factor=3.0, discount=discount)
    assert result["headline"].load() == expected.headline
    assert "(factor 3.0)" in result["headline"].load()
