"""The node cache's plan of a run: each node's key, and the pipeline with hits replaced.

See :mod:`kedro_runtime.node_cache` for what a key is made of and what a hit does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline

from . import _kedro_private as private
from . import fingerprint
from .cache_store import Outputs
from .memory import RunMemoryDataset
from .preload import PreloadedDataset

if TYPE_CHECKING:
    from .node_cache import _RunState

NO_CACHE_TAG = "no_cache"
"""The node tag that keeps a node out of the cache."""


class Keys:
    """The keys of one run's nodes, each input fingerprinted once.

    Args:
        catalog: The run's catalog (its layer over the base catalog).
        base: The session's base catalog, for the file behind a preloaded input.
        runtime_data: The run's injected data, as given.
    """

    def __init__(
        self, catalog: DataCatalog, base: DataCatalog, runtime_data: Mapping[str, Any]
    ):
        self._catalog = catalog
        self._base = base
        self._data = runtime_data
        self._inputs: dict[str, str | None] = {}

    def of(self, pipe: Pipeline) -> dict[str, str | None]:
        """Node name to key (``None``: never reused), in the pipeline's order.

        Args:
            pipe: The run's pipeline, after injection.

        Returns:
            The keys.
        """
        keys: dict[str, str | None] = {}
        for node in pipe.nodes:
            key = self._key(node)
            keys[node.name] = key
            for name in node.outputs:
                self._inputs[name] = (
                    None if key is None else fingerprint.digest(key, name)
                )
        return keys

    def _key(self, node: Node) -> str | None:
        if NO_CACHE_TAG in node.tags or not node.outputs:
            return None
        parts = [self._input(name) for name in node.inputs]
        func = fingerprint.of_function(node.func)
        if func is None or any(part is None for part in parts):
            return None
        return fingerprint.digest(
            "node",
            node.name,
            repr(node.inputs),
            repr(node.outputs),
            func,
            *parts,  # type: ignore[arg-type]
        )

    def _input(self, name: str) -> str | None:
        if name not in self._inputs:
            self._inputs[name] = self._free_input(name)
        return self._inputs[name]

    def _free_input(self, name: str) -> str | None:
        if name == "parameters" or name.startswith("params:"):
            return fingerprint.of_value(self._catalog.load(name))
        if name in self._data:
            return _of_injected(self._data[name])
        dataset = self._catalog.get(name)
        if dataset is None:
            return None
        if isinstance(dataset, MemoryDataset | PreloadedDataset):  # its file
            base = self._base.get(name)
            if base is None or isinstance(base, MemoryDataset):
                return None
            dataset = base
        return fingerprint.of_file_dataset(dataset)


def _of_injected(value: Any) -> str | None:
    """The fingerprint of injected data: a value, or a dataset given instead."""
    if isinstance(value, MemoryDataset):  # e.g. the server's decoded data
        return fingerprint.of_value(value.load())
    if isinstance(value, AbstractDataset):
        return fingerprint.of_file_dataset(value)
    return fingerprint.of_value(value)


def rebuild(
    pipe: Pipeline, catalog: DataCatalog, state: _RunState
) -> tuple[Pipeline, list[str]]:
    """The pipeline to run: hits replaced, the nodes that only fed them left out.

    A node is left out when it has outputs, none of them goes to a persistent
    dataset or is a result of the run (read by no node), and every node that
    reads them is a hit (a hit reads nothing) or left out.

    Args:
        pipe: The run's pipeline.
        catalog: The run's catalog.
        state: The run's plan (its hits and their stored outputs).

    Returns:
        The pipeline, and the names of the nodes left out.
    """
    if not state.hits:
        return pipe, []
    readers: dict[str, list[str]] = {}
    for node in pipe.nodes:
        if node.name not in state.hits:  # a hit reads nothing
            for name in node.inputs:
                readers.setdefault(name, []).append(node.name)
    read = {name for node in pipe.nodes for name in node.inputs}
    gone: set[str] = set()
    for node in reversed(pipe.nodes):
        if node.outputs and all(
            out in read
            and all(r in gone for r in readers.get(out, ()))
            and not _persistent(catalog, out)
            for out in node.outputs
        ):
            gone.add(node.name)
    skipped = [node.name for node in pipe.nodes if node.name in gone]
    nodes = [
        _replay_node(node, state.replays[node.name], catalog)
        if node.name in state.hits
        else node
        for node in pipe.nodes
        if node.name not in skipped
    ]
    return Pipeline(nodes), skipped


def _persistent(catalog: DataCatalog, name: str) -> bool:
    dataset = catalog.get(name)
    return dataset is not None and not isinstance(dataset, MemoryDataset)


def _replay_node(node: Node, stored: Outputs, catalog: DataCatalog) -> Node:
    """A node like ``node``, without inputs, that returns ``stored`` (copied where
    the run's dataset would not copy it).

    An output that would go to the run's :class:`RunMemoryDataset` goes to a
    :class:`_ReplayDataset` instead, which keeps the stored value without copying
    it and copies it on every load, as the run's dataset would.
    """
    outputs = list(node.outputs)
    name = node.name
    if node.namespace and name.startswith(node.namespace + "."):
        name = name[len(node.namespace) + 1 :]
    copies = []
    for out in outputs:
        mode = stored[out][1]
        dataset = catalog.get(out, fallback_to_runtime_pattern=True)
        if (
            isinstance(dataset, RunMemoryDataset)
            and mode != "assign"
            and (dataset._given_mode or mode) == mode
        ):
            private.catalog_datasets(catalog)[out] = _ReplayDataset(mode)
        copies.append(_must_copy(catalog, out, mode))
    return Node(
        _Replay(outputs, stored, copies),
        None,
        outputs if len(outputs) > 1 else outputs[0],
        name=name,
        tags=node.tags,
        confirms=node.confirms or None,
        namespace=node.namespace,
    )


def _must_copy(catalog: DataCatalog, name: str, mode: str) -> bool:
    """Whether a stored output must be copied before the run saves it.

    Not when it goes to a ``MemoryDataset`` (Kedro's, or the run's
    :class:`~kedro_runtime.memory.RunMemoryDataset`, which copies as Kedro's
    does) that copies it as the cache would (its copy mode inferred,
    ``deepcopy``, or the stored value's own): saving it copies it already.
    """
    dataset = catalog.get(name, fallback_to_runtime_pattern=True)
    if dataset is None:
        dataset_mode: str | None = "assign"
    elif isinstance(dataset, RunMemoryDataset):
        dataset_mode = dataset._given_mode
    else:
        dataset_mode = private.memory_copy_mode(dataset)
    return dataset_mode not in (None, "deepcopy", mode) or mode == "assign"


class _ReplayDataset(RunMemoryDataset):
    """The run's dataset for a reused output: saving keeps the stored value
    itself, every load copies it (``copy_mode``), so no node gets the store's."""

    def __init__(self, copy_mode: str):
        super().__init__(copy_mode=copy_mode)

    def _save(self, data: Any) -> None:
        self._value = data


class _Replay:
    """The function of a reused node: its stored outputs, copied as Kedro copies."""

    def __init__(self, outputs: list[str], stored: Outputs, copies: list[bool]):
        self._outputs = outputs
        self._stored = stored
        self._copies = copies
        self.__name__ = "node_cache_replay"

    def __call__(self) -> Any:
        values = [
            private.copy_with_mode(*self._stored[name])
            if copy
            else self._stored[name][0]
            for name, copy in zip(self._outputs, self._copies, strict=True)
        ]
        return values if len(values) > 1 else values[0]
