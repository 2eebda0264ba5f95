"""A run's ``runtime_data``: checked against the pipeline, then made datasets.

A value is the data itself, a dataset, or a :class:`pathlib.Path`: the catalog
entry read from that file with its own dataset type and options, as
``kedro run --runtime-data name=path`` reads it. A ``str`` is data: for a
file-backed entry, a string that names an existing file gets a warning that
suggests ``Path``.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DataCatalog, MemoryDataset, SharedMemoryDataset
from kedro.pipeline import Node, Pipeline

from . import _kedro_private as private
from .data_files import datasets_at_paths, path_key
from .errors import RuntimeDataError
from .parameters import is_param

logger = logging.getLogger(__name__)


def prepare(
    pipe: Pipeline,
    runtime_data: Mapping[str, Any] | None,
    *,
    parallel: bool,
    catalog: DataCatalog,
    load_versions: Mapping[str, str] | None = None,
) -> tuple[dict[str, AbstractDataset], Pipeline]:
    """A run's injected datasets, checked, and its pipeline without skipped nodes.

    Args:
        pipe: The run's filtered pipeline.
        runtime_data: The run's ``runtime_data`` (a mapping of names).
        parallel: Whether the run uses ``ParallelRunner`` (data must pickle).
        catalog: The base catalog, whose entries a ``Path`` value reads from
            another file.
        load_versions: The run's ``load_versions`` (a ``Path`` to the folder
            of a versioned entry's versions loads that version).

    Returns:
        Dataset name to injected dataset, and the pipeline to run.

    Raises:
        RuntimeDataError: See :func:`check_runtime_data`,
            :func:`~kedro_runtime.data_files.datasets_at_paths`,
            :func:`injected_datasets` and :func:`check_picklable`.
    """
    data, pipe = check_runtime_data(pipe, runtime_data or {})
    paths = {name: value for name, value in data.items() if isinstance(value, Path)}
    if paths:
        data.update(datasets_at_paths(catalog, paths, load_versions, None))
    warn_file_names(catalog, data)
    datasets = injected_datasets(data)
    if parallel:
        check_picklable(datasets)
    return datasets, pipe


def check_runtime_data(
    pipe: Pipeline, data: Mapping[str, Any]
) -> tuple[dict[str, Any], Pipeline]:
    """Check the injected names; drop the nodes whose outputs are all injected.

    Also drops the nodes that only fed them (see :func:`unneeded_nodes`).

    Args:
        pipe: The run's filtered pipeline.
        data: The run's ``runtime_data`` (a mapping of names, see
            :class:`~kedro_runtime.request.RunRequest`).

    Returns:
        The data, and the pipeline without the skipped nodes.

    Raises:
        RuntimeDataError: If a name is a parameter, not a dataset of ``pipe``,
            or some but not all outputs of a node.
    """
    data = dict(data)
    if not data:
        return data, pipe
    known = pipe.datasets()
    free_inputs = sorted(n for n in pipe.inputs() if not is_param(n))
    for name in data:
        if is_param(name):
            raise RuntimeDataError(
                f"'{name}' is a parameter, not a dataset: pass parameters with "
                f"`runtime_params`, e.g. runtime_params={{'{_param_key(name)}': ...}}."
            )
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=3)
            raise RuntimeDataError(
                f"Cannot inject '{name}': it is not a dataset of the pipeline "
                f"being run.\nClosest matches: {close or 'none'}.\nThe "
                f"pipeline's free inputs are: {free_inputs}."
            )
    skipped = []
    for node in pipe.nodes:
        injected = [out for out in node.outputs if out in data]
        if not injected:
            continue
        if len(injected) < len(node.outputs):
            missing = sorted(set(node.outputs) - set(injected))
            raise RuntimeDataError(
                f"Node '{node.name}' produces {sorted(node.outputs)}, but only "
                f"{sorted(injected)} were injected. A node runs whole or not at "
                f"all: inject {missing} too to skip it, or inject none of its "
                f"outputs to run it."
            )
        skipped.append(node)
    if skipped:
        logger.info(
            "Skipping %s: all their outputs are injected",
            [node.name for node in skipped],
        )
        waste = unneeded_nodes(pipe, skipped)
        if waste:
            logger.info(
                "Skipping %s: only skipped nodes read their outputs",
                [node.name for node in waste],
            )
        gone = {*skipped, *waste}
        pipe = Pipeline([node for node in pipe.nodes if node not in gone])
    return data, pipe


def warn_file_names(catalog: DataCatalog, data: Mapping[str, Any]) -> None:
    """Warn about a ``str`` for a file-backed entry that names an existing file.

    The string is injected as data, as given; the warning says how to read the
    file instead.

    Args:
        catalog: The base catalog.
        data: Dataset name to injected value.
    """
    for name, value in data.items():
        if not (isinstance(value, str) and name in catalog and _names_a_file(value)):
            continue
        config = catalog.config_resolver.resolve_pattern(name)
        if path_key(config):
            logger.warning(
                "runtime_data '%s' is the string %r, which names an existing file: "
                "the run reads the string itself as the data. To read the file "
                "with the entry's dataset type (%s), pass pathlib.Path(%r).",
                name,
                value,
                config.get("type", "its type"),
                value,
            )


def unneeded_nodes(pipe: Pipeline, skipped: list[Node]) -> list[Node]:
    """The nodes that fed only skipped nodes: their results would go unused.

    A node is unneeded when it has outputs, and each of them is read by at
    least one node of ``pipe`` and by skipped or unneeded nodes only. An output
    that no node of ``pipe`` reads is a result of the run (returned, or saved
    to the catalog), so its node runs; so does a node without outputs. An
    intermediate dataset that only unneeded nodes read is not saved either.

    Args:
        pipe: The run's filtered pipeline.
        skipped: Its nodes whose outputs are all injected.

    Returns:
        The unneeded nodes, in the pipeline's order.
    """
    readers: dict[str, list[Node]] = {}
    for node in pipe.nodes:
        for name in node.inputs:
            readers.setdefault(name, []).append(node)
    gone = set(skipped)
    unneeded = []
    # Readers come after their producers: one pass from the end suffices.
    for node in reversed(pipe.nodes):
        if node in gone or not node.outputs:
            continue
        if all(
            readers.get(out) and all(r in gone for r in readers[out])
            for out in node.outputs
        ):
            gone.add(node)
            unneeded.append(node)
    return unneeded[::-1]


def injected_datasets(data: Mapping[str, Any]) -> dict[str, Any]:
    """Each injected value as the dataset the run reads it from, checked now.

    A raw value goes into a ``MemoryDataset`` with Kedro's default copy mode,
    which copies it at once: a value that cannot be copied fails here, before
    the run starts, with the dataset's name.

    Args:
        data: Dataset name to data or dataset.

    Returns:
        Dataset name to dataset.

    Raises:
        RuntimeDataError: If a value is ``None``, a dataset class, or cannot
            be copied.
    """
    datasets = {}
    for name, value in data.items():
        if value is None:
            raise RuntimeDataError(
                f"'{name}' is None: a Kedro dataset cannot hold None (Kedro "
                f"refuses to save it). Leave '{name}' out of `runtime_data` to "
                f"read it from the catalog."
            )
        if isinstance(value, type) and issubclass(value, AbstractDataset):
            raise RuntimeDataError(
                f"'{name}' is the dataset class {value.__name__}, not a dataset: "
                f"pass an instance, e.g. {value.__name__}(...), or the data itself."
            )
        try:
            # Injected names are free inputs of the run: nothing saves into them,
            # so the copy mode can be inferred once.
            datasets[name] = (
                value
                if isinstance(value, AbstractDataset)
                else private.memory_dataset_for(value)
            )
        except Exception as exc:
            raise RuntimeDataError(
                f"Cannot inject '{name}': Kedro's MemoryDataset copies injected "
                f"data (a deep copy for anything but DataFrames and arrays), and "
                f"copying this {type(value).__name__} failed "
                f"({type(exc).__name__}: {exc}). Inject "
                f"MemoryDataset(data, copy_mode='assign') to pass it as it is."
            ) from exc
    return datasets


def check_picklable(datasets: Mapping[str, AbstractDataset]) -> None:
    """Refuse injected datasets that ``ParallelRunner`` could not send.

    Args:
        datasets: Dataset name to injected dataset.

    Raises:
        RuntimeDataError: Naming the first dataset that does not pickle.
    """
    for name, dataset in datasets.items():
        try:
            ForkingPickler.dumps(dataset)
        except Exception as exc:
            raise RuntimeDataError(
                f"ParallelRunner runs nodes in other processes, so injected data "
                f"must pickle, but '{name}' does not ({type(exc).__name__}: {exc}). "
                f"Use SequentialRunner or ThreadRunner for this data, or inject "
                f"something picklable."
            ) from exc


def copy_out_shared(result: dict[str, Any]) -> dict[str, Any]:
    """Outputs in shared memory die with the runner's manager: copy them out.

    Args:
        result: A run's outputs.

    Returns:
        The outputs, each ``SharedMemoryDataset`` replaced by a
        ``MemoryDataset`` of its data.
    """
    copied = {}
    for name, dataset in result.items():
        if isinstance(dataset, SharedMemoryDataset) and dataset.exists():
            copied[name] = MemoryDataset(data=dataset.load(), copy_mode="assign")
        else:
            copied[name] = dataset
    return copied


def _names_a_file(value: str) -> bool:
    try:
        return "\n" not in value and Path(value).is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL
        return False


def _param_key(name: str) -> str:
    return name.partition(":")[2] or "<name>"
