"""Runtime params that nothing reads: a warning with close matches, or an error.

A runtime param is *read* when its path (dotted keys and nested mappings alike:
``{"model.alpha": 1}`` and ``{"model": {"alpha": 1}}`` are the path
``model.alpha``) meets a path of the project's parameters config, or a
``${runtime_params:...}`` that its parameters, catalog or credentials config
reads. Two paths meet when one is the other or lies inside it: ``model`` sets
``model.alpha``, and ``model.alpha.x`` replaces the value ``model.alpha``. A new
key of a mapping (``model.alpah``) meets nothing: it is reported, as it is more
often a typo than a key that a node reading ``params:model`` looks for. Keys of
the parameters files are split at dots too, so a file key ``"model.alpha"`` is
the path ``model.alpha``.

A path that goes on inside a parameter whose value is not a mapping
(``currency.code`` where ``currency`` is the string ``"EUR"``) meets nothing
either: merged into the parameters, it would replace the value with a mapping.
It is reported naming the parameter and its type. A ``null`` parameter is a
placeholder and may be filled this way.

A hook that reads a key of ``run_params["runtime_params"]`` that no config
reads gets it, but the key is reported as unread: only config is looked at.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from .errors import UnreadRuntimeParamsError
from .request import short_repr

logger = logging.getLogger(__name__)

Path = tuple[str, ...]

_LISTED = 30
"""How many valid keys a message lists at most."""

__all__ = [
    "UnreadRuntimeParamsError",
    "check_read",
    "inside_values",
    "readable_paths",
    "unread",
]


def readable_paths(
    params_trees: Iterable[Any], config_reads: Iterable[str]
) -> frozenset[Path]:
    """The paths a runtime param may set to be read by the project.

    Args:
        params_trees: The parameters config: its parsed files, unresolved (or
            the resolved parameters when the files are not available).
        config_reads: The dotted ``${runtime_params:...}`` paths config reads.

    Returns:
        Every leaf path of the parameters and every path config reads.
    """
    paths: set[Path] = set()
    for parsed in params_trees:
        tree = (
            OmegaConf.to_container(parsed, resolve=False)
            if isinstance(parsed, DictConfig | ListConfig)
            else parsed
        )
        if isinstance(tree, Mapping):
            paths.update(_tree_paths(tree))
    paths.update(_split(path) for path in config_reads)
    return frozenset(path for path in paths if path)


def unread(readable: frozenset[Path], runtime_params: Mapping[Any, Any]) -> list[str]:
    """The dotted runtime param paths that meet no readable path.

    Args:
        readable: See :func:`readable_paths`.
        runtime_params: Nested (or dotted) runtime params.

    Returns:
        The unread paths, sorted.
    """
    return sorted(
        ".".join(path)
        for path in _tree_paths(runtime_params)
        if not any(_meet(path, known) for known in readable)
    )


def inside_values(
    params: Mapping[str, Any], runtime_params: Mapping[Any, Any]
) -> dict[str, tuple[str, Any]]:
    """The runtime param paths that go on inside a parameter that is not a mapping.

    Args:
        params: The resolved parameters the runtime params are merged into.
        runtime_params: Nested (or dotted) runtime params.

    Returns:
        Dotted runtime param path to the dotted name of the parameter it goes
        through and that parameter's value (never ``None``, a placeholder).
    """
    found: dict[str, tuple[str, Any]] = {}
    for path in _tree_paths(runtime_params):
        value: Any = params
        for depth, part in enumerate(path):
            if not isinstance(value, Mapping) or part not in value:
                break
            value = value[part]
            if depth + 1 < len(path) and not (
                value is None or isinstance(value, Mapping)
            ):
                found[".".join(path)] = (".".join(path[: depth + 1]), value)
                break
    return found


def check_read(
    readable: frozenset[Path],
    runtime_params: Mapping[Any, Any],
    *,
    strict: bool,
    source: str = "runtime_params",
    params: Mapping[str, Any] | None = None,
) -> None:
    """Warn about (or refuse) runtime params that nothing reads.

    Args:
        readable: See :func:`readable_paths`.
        runtime_params: The runtime params to check.
        strict: Raise instead of logging a warning.
        source: How the caller gave them, for the message.
        params: The resolved parameters they are merged into: a path that goes
            on inside one that is not a mapping is reported too (see
            :func:`inside_values`).

    Raises:
        UnreadRuntimeParamsError: If ``strict`` and a param is unread.
    """
    inside = inside_values(params or {}, runtime_params)
    keys = [key for key in unread(readable, runtime_params) if key not in inside]
    if not keys and not inside:
        return
    message = " ".join(
        [
            *([_message(readable, keys, source)] if keys else []),
            *(_inside_message(key, *found, source) for key, found in inside.items()),
        ]
    )
    if strict:
        raise UnreadRuntimeParamsError(message)
    logger.warning(message)


def _message(readable: frozenset[Path], keys: list[str], source: str) -> str:
    leaves = sorted(".".join(path) for path in readable)
    candidates = sorted(
        {".".join(path[:i]) for path in readable for i in range(1, len(path) + 1)}
    )
    hints = []
    for key in keys:
        close = difflib.get_close_matches(key, candidates, n=3)
        if close:
            hints.append(f"'{key}': did you mean {' or '.join(close)}?")
    more = len(leaves) - _LISTED
    listed = ", ".join(leaves[:_LISTED]) + (f" and {more} more" if more > 0 else "")
    return (
        f"Nothing reads {source} {keys}: no parameter of the project's "
        f"parameters config has that key, and no ${{runtime_params:...}} in its "
        f"parameters, catalog or credentials config reads it. "
        f"{' '.join(hints)}{' ' if hints else ''}Valid keys: {listed or 'none'}."
    )


def _inside_message(key: str, name: str, value: Any, source: str) -> str:
    return (
        f"{source} '{key}' sets a key inside the parameter '{name}', which is a "
        f"{type(value).__name__} ({short_repr(value)}), not a mapping: the run "
        f"would replace '{name}' with a mapping. Set '{name}' itself (for "
        f"example {name}=...), or check the key."
    )


def _tree_paths(tree: Mapping[Any, Any], prefix: Path = ()) -> list[Path]:
    paths: list[Path] = []
    for key, value in tree.items():
        path = (*prefix, *_split(str(key)))
        if isinstance(value, Mapping) and value:
            paths.extend(_tree_paths(value, path))
        else:
            paths.append(path)
    return paths


def _split(key: str) -> Path:
    return tuple(part for part in key.split(".") if part)


def _meet(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]
