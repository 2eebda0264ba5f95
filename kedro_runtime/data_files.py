"""Catalog entries read from other files: ``--runtime-data`` and ``Path`` values.

``kedro run --runtime-data name=path`` and a :class:`pathlib.Path` in a run's
``runtime_data`` both mean "read this entry from that file": a new dataset of
the entry's own type and options, with only its file path changed.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DataCatalog, DatasetError

from . import _kedro_private as private
from .errors import RuntimeDataError
from .parameters import is_param

__all__ = ["PATH_KEYS", "datasets_at_paths", "path_key"]

PATH_KEYS = ("filepath", "path")
"""Dataset config keys that hold a file path, in the order they are looked up."""


def datasets_at_paths(
    catalog: DataCatalog,
    paths: Mapping[str, str | os.PathLike[str]],
    load_versions: Mapping[str, str] | None,
    save_version: str | None,
) -> dict[str, AbstractDataset]:
    """Datasets like the catalog's entries, at other file paths.

    Args:
        catalog: The project's catalog.
        paths: Dataset name to the path to read it from. A relative path is
            relative to the current directory; a URL (``s3://...``) is kept.
        load_versions: The version to load of a versioned entry.
        save_version: The save version of a versioned entry (the run's id).

    Returns:
        Dataset name to a new dataset of the entry's type and options, at the
        given path.

    Raises:
        RuntimeDataError: If a name is a parameter, is not in the catalog, or
            its entry has no file path; if the dataset cannot be created; or if
            nothing exists at the path (for a dataset class that implements
            ``_exists``; any other is read as given, and fails at load if
            nothing is there).
    """
    resolver = catalog.config_resolver
    with_paths = sorted(
        name for name, config in resolver.config.items() if path_key(config)
    )
    datasets: dict[str, AbstractDataset] = {}
    for name, path in paths.items():
        if is_param(name):
            raise RuntimeDataError(
                f"'{name}' is a parameter, not a dataset: set parameters with "
                f"`runtime_params` (--runtime-params on the command line)."
            )
        if name not in catalog:
            close = difflib.get_close_matches(name, with_paths, n=3)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise RuntimeDataError(
                f"'{name}' is not in the catalog.{hint} Entries with a file path: "
                f"{', '.join(with_paths) or 'none'}."
            )
        config = copy.deepcopy(resolver.resolve_pattern(name))
        key = path_key(config)
        if key is None:
            raise RuntimeDataError(
                f"the catalog entry '{name}' ({config.get('type', 'no type')}) has no "
                f"file path to replace. Entries with a file path: "
                f"{', '.join(with_paths) or 'none'}."
            )
        config[key] = _absolute(os.fspath(path))
        version = (load_versions or {}).get(name)
        try:
            dataset = AbstractDataset.from_config(name, config, version, save_version)
            # A class that cannot tell (no `_exists`) is trusted: its load
            # fails with its own error if nothing is there, as in Kedro.
            exists = not private.implements_exists(dataset) or dataset.exists()
        except DatasetError as exc:
            raise RuntimeDataError(
                f"cannot read '{name}' from '{path}': {exc}"
            ) from exc
        if not exists:
            raise RuntimeDataError(
                f"nothing to read for '{name}' at '{config[key]}'. Give the path of "
                f"an existing file."
            )
        datasets[name] = dataset
    return datasets


def path_key(config: Mapping[str, Any]) -> str | None:
    """The key of a dataset config that holds its file path, if any.

    Args:
        config: A catalog entry's config.

    Returns:
        The first of :data:`PATH_KEYS` whose value is a string, or ``None``.
    """
    for key in PATH_KEYS:
        if isinstance(config.get(key), str):
            return key
    return None


def _absolute(path: str) -> str:
    if "://" in path:
        return path
    return Path(path).expanduser().resolve().as_posix()
