"""The node cache: what is a hit, what is a miss, what is never cached, and its bounds."""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _cache_project import PACKAGE, create_cache_project
from _session import hook_manager
from conftest import quiet_kedro_logs
from kedro.framework.hooks import hook_impl
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Node
from kedro.runner import ParallelRunner, ThreadRunner

from kedro_runtime import KedroSession, RunRequest, SessionOptions
from kedro_runtime.node_cache import _size

TABLE = pd.DataFrame({"key": ["a", "b", "c"], "value": [1, 2, 3]})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = create_cache_project(tmp_path / "cache_project")
    bootstrap_project(root)
    quiet_kedro_logs()
    return root


@pytest.fixture
def nodes(project: Path) -> Iterator[ModuleType]:
    module = importlib.import_module(f"{PACKAGE}.nodes")
    module.CALLS.clear()
    module.GATE.set()
    yield module
    module.GATE.set()


@pytest.fixture
def session(project: Path) -> Iterator[KedroSession]:
    with KedroSession.create(project, node_cache=True) as session:
        yield session


def outputs(result: dict[str, Any]) -> dict[str, Any]:
    return {name: dataset.load() for name, dataset in result.items()}


def test_an_unchanged_run_calls_no_cached_node(
    session: KedroSession, nodes: ModuleType
) -> None:
    first = outputs(session.run())
    assert nodes.CALLS == ["first", "mutate", "second", "stamp"]
    nodes.CALLS.clear()
    again = outputs(session.run())
    assert again == first == {"mutated": 3012, "stamped": "total=12"}
    assert nodes.CALLS == ["stamp"]  # tagged no_cache
    report = session.last_report()
    assert report is not None
    assert report.names("reused") == ["mutate", "second"]
    assert report.names("skipped") == ["first"]
    assert report.names("ran") == ["stamp"]


def test_a_changed_late_parameter_reruns_only_its_nodes(
    session: KedroSession, nodes: ModuleType
) -> None:
    session.run()
    nodes.CALLS.clear()
    result = outputs(session.run(runtime_params={"offset": 5}))
    assert result == {"mutated": 3012, "stamped": "total=17"}
    assert nodes.CALLS == ["second", "stamp"]


def test_injected_data_counts_by_content(
    session: KedroSession, nodes: ModuleType
) -> None:
    session.run(runtime_data={"table": TABLE.copy()})
    nodes.CALLS.clear()
    session.run(runtime_data={"table": TABLE.copy()})  # a new, equal object
    assert nodes.CALLS == ["stamp"]
    changed = TABLE.copy()
    changed.loc[1, "value"] = 20
    result = outputs(session.run(runtime_data={"table": changed}))
    assert "first" in nodes.CALLS
    assert result["stamped"] == "total=48"
    nodes.CALLS.clear()
    renamed = TABLE.rename(columns={"value": "value"}).set_index("key").reset_index()
    renamed.index = renamed.index + 10  # same cells, another index
    session.run(runtime_data={"table": renamed})
    assert "first" in nodes.CALLS


def test_a_file_edited_on_disk_is_a_miss(
    project: Path, session: KedroSession, nodes: ModuleType
) -> None:
    session.run()
    table = project / "data" / "table.csv"
    table.write_text("key,value\na,1\nb,2\nc,4\n")  # same size
    nodes.CALLS.clear()
    assert outputs(session.run())["stamped"] == "total=14"
    assert nodes.CALLS[0] == "first"
    # A file not modified for a while counts by size and time, not bytes.
    old = time.time() - 60
    os.utime(table, (old, old))
    session.run()
    nodes.CALLS.clear()
    session.run()
    assert nodes.CALLS == ["stamp"]


def test_a_run_can_bypass_the_cache_and_leaves_it(
    session: KedroSession, nodes: ModuleType
) -> None:
    session.run()
    nodes.CALLS.clear()
    session.run(node_cache=False)
    assert nodes.CALLS == ["first", "mutate", "second", "stamp"]
    report = session.last_report()
    assert report is not None and report.names("reused") == []
    nodes.CALLS.clear()
    session.run(request=RunRequest(node_cache=True))
    assert nodes.CALLS == ["stamp"]


def test_clear_and_reload_empty_the_cache(
    session: KedroSession, nodes: ModuleType
) -> None:
    for empty in (session.clear_node_cache, session.reload):
        session.run()
        empty()
        nodes.CALLS.clear()
        session.run()
        assert nodes.CALLS == ["first", "mutate", "second", "stamp"]


def test_the_least_recently_used_results_go_beyond_the_bound(
    project: Path, nodes: ModuleType
) -> None:
    big = pd.DataFrame({"key": ["k"] * 5000, "value": range(5000)})
    size = int(big.memory_usage(deep=True).sum())
    with KedroSession.create(
        project, node_cache=True, node_cache_max_bytes=int(size * 1.5)
    ) as session:
        session.run(runtime_data={"table": big})
        nodes.CALLS.clear()
        session.run(runtime_data={"table": big}, runtime_params={"offset": 2})
        assert nodes.CALLS == ["second", "stamp"]
        other = big.assign(value=big["value"] + 1)
        session.run(runtime_data={"table": other})  # its `scaled` evicts big's
        nodes.CALLS.clear()
        # `mutate` and `second` run again: `scaled` of big must come from `first`.
        session.run(runtime_data={"table": big}, runtime_params={"offset": 3})
        assert nodes.CALLS == ["first", "second", "stamp"]


def test_a_node_that_mutates_its_input_cannot_corrupt_the_cache(
    session: KedroSession, nodes: ModuleType
) -> None:
    expected = outputs(session.run())
    # `mutate` runs again on the reused `scaled`, and changes it in place.
    session.run(runtime_params={"bump": 7})
    nodes.CALLS.clear()
    result = outputs(session.run(runtime_params={"offset": 1}))
    assert nodes.CALLS == ["second", "stamp"]
    assert result == {**expected, "stamped": "total=13"}


def test_persistent_outputs_of_a_reused_node_are_saved(
    project: Path, session: KedroSession, nodes: ModuleType
) -> None:
    session.run()
    total = project / "data" / "total.json"
    total.unlink()
    nodes.CALLS.clear()
    session.run()
    assert nodes.CALLS == ["stamp"]
    assert json.loads(total.read_text()) == 12


def test_concurrent_runs_compute_a_missing_result_once(
    session: KedroSession, nodes: ModuleType
) -> None:
    nodes.GATE.clear()
    nodes.STARTED.clear()
    cache = session._node_cache
    assert cache is not None
    # Without `second`: its file would make the runs take turns.
    names = ["first", "mutate"]
    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(
            session.run, node_names=names, runner=ThreadRunner(max_workers=2)
        )
        assert nodes.STARTED.wait(30)
        two = pool.submit(session.run, node_names=names)
        while len(cache._runs) < 2 and not two.done():
            time.sleep(0.01)  # the second run is planning: it waits for `first`
        nodes.GATE.set()
        results = [outputs(one.result(60)), outputs(two.result(60))]
    assert results[0] == results[1]
    assert results[0] == {"mutated": 3012}
    assert nodes.CALLS == ["first", "mutate"]


def test_nothing_changes_without_the_option(project: Path, nodes: ModuleType) -> None:
    with KedroSession.create(project) as session:
        session.run()
        nodes.CALLS.clear()
        session.run()
        assert nodes.CALLS == ["first", "mutate", "second", "stamp"]
        assert session.last_report() is None
        session.clear_node_cache()  # nothing to clear: no error


def test_the_report_renders_as_a_table(session: KedroSession) -> None:
    session.run()
    report = session.last_report()
    assert report is not None
    assert report.summary() == "4 ran, 0 reused, 0 skipped"
    assert report._repr_markdown_().splitlines()[2].startswith("| first | ran |")
    assert "<td>stamp</td><td>ran</td>" in report._repr_html_()


def test_the_report_is_the_last_run_of_the_calling_thread(
    session: KedroSession,
) -> None:
    session.run()
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(session.last_report()))
    thread.start()
    thread.join()
    assert seen == [None]
    assert session.last_report() is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"node_cache": "yes"}, "`node_cache` must be True or False"),
        ({"node_cache_max_bytes": 0}, "`node_cache_max_bytes` must be an int > 0"),
        ({"node_cache_max_bytes": "1GB"}, "`node_cache_max_bytes` must be an int"),
    ],
)
def test_options_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        SessionOptions(**changes)


def test_the_run_option_is_checked() -> None:
    with pytest.raises(TypeError, match="`node_cache` must be True, False or None"):
        RunRequest(node_cache="no")  # type: ignore[arg-type]


class NodeHooks:
    """Records the node and dataset hooks of runs."""

    kedro_runtime_concurrent_safe = True

    def __init__(self) -> None:
        self.nodes: dict[str, list[str]] = {}
        self.saved: list[str] = []
        self.loaded: list[str] = []

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self.nodes[node.name] = list(node.inputs)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self.saved.append(dataset_name)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self.loaded.append(dataset_name)


def test_hooks_of_a_reused_node(session: KedroSession, nodes: ModuleType) -> None:
    session.run()
    hooks = NodeHooks()
    hook_manager(session).register(hooks)
    session.run()
    # Reused: node hooks with no inputs; skipped (`first`): nothing.
    assert hooks.nodes == {"mutate": [], "second": [], "stamp": ["total"]}
    assert sorted(hooks.saved) == ["mutated", "stamped", "total"]
    assert hooks.loaded == ["total"]


def test_a_parallel_run_bypasses_the_cache(
    session: KedroSession, nodes: ModuleType
) -> None:
    expected = outputs(session.run())
    result = outputs(session.run(runner=ParallelRunner(max_workers=2)))
    assert result == expected
    report = session.last_report()
    assert report is not None and report.names("reused") == []


def test_a_preloaded_input_counts_by_its_file(project: Path, nodes: ModuleType) -> None:
    with KedroSession.create(project, node_cache=True, preload=True) as session:
        first = outputs(session.run())
        nodes.CALLS.clear()
        assert outputs(session.run()) == first
    assert nodes.CALLS == ["stamp"]


def test_data_injected_as_a_memory_dataset_counts_by_content(
    session: KedroSession, nodes: ModuleType
) -> None:
    from kedro.io import MemoryDataset  # noqa: PLC0415

    first = outputs(session.run(runtime_data={"table": MemoryDataset(TABLE.copy())}))
    nodes.CALLS.clear()
    again = outputs(session.run(runtime_data={"table": MemoryDataset(TABLE.copy())}))
    assert again == first
    assert nodes.CALLS == ["stamp"]
    changed = TABLE.assign(value=[1, 2, 4])
    nodes.CALLS.clear()
    session.run(runtime_data={"table": MemoryDataset(changed)})
    assert "first" in nodes.CALLS


def test_stored_frame_size_is_its_deep_memory_usage():
    frame = pd.DataFrame(
        {
            "text": ["x" * i for i in range(50)],
            "kind": pd.Categorical(["u", "v"] * 25),
            "when": pd.date_range("2020", periods=50, tz="UTC"),
            "count": pd.array(range(50), dtype="Int64"),
            "value": np.arange(50.0),
        },
        index=pd.Index([str(i) for i in range(50)]),
    )
    assert _size({"a": (frame, "copy"), "b": (frame, "copy")}) == 2 * int(
        frame.memory_usage(deep=True).sum()
    )


def test_a_reused_run_logs_no_catalog_warning(
    session: KedroSession, nodes: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    first = outputs(session.run())
    with caplog.at_level(logging.WARNING):
        again = outputs(session.run())
    assert again == first
    assert [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
    ] == []
