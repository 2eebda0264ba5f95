"""Which runtime params config reads, so that only those go through OmegaConf.

OmegaConf merges a runtime param into the config node by node (about 100 µs a
list item) and resolves it under :data:`~kedro_runtime._kedro_private.CONFIG_LOCK`.
A value no interpolation reads gives the same result merged in plain Python
afterwards, outside the lock: :func:`split_read` sets such values apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from omegaconf import AnyNode
from omegaconf.errors import GrammarParseError
from omegaconf.grammar_parser import parse
from omegaconf.grammar_visitor import GrammarVisitor

from .parameters import ANY_RUNTIME_PARAM, _containers, _strings, leaves

_COMPUTED = "\x00computed\x00"
_READS_NOTHING = frozenset({"globals", "oc.env", "oc.decode", "oc.create"})
"""Resolvers that read no config key and no runtime param (their arguments'
own interpolations are seen by the visitor)."""
_READS_FIRST_ARGUMENT = frozenset(
    {"runtime_params", "oc.select", "oc.deprecated", "oc.dict.keys", "oc.dict.values"}
)
"""Resolvers whose first argument is the key they read."""


def paths_read(raw_files: Mapping[Any, Any]) -> frozenset[str]:
    """Every dotted path an interpolation of parsed config may read.

    Found by OmegaConf's own grammar: node interpolations (``${model.alpha}``),
    ``runtime_params:`` and the ``oc.select``-like resolvers' keys. A relative
    or computed key, or a resolver that may read any node (a custom one), is
    :data:`~kedro_runtime.parameters.ANY_RUNTIME_PARAM`: it may read anything.

    Args:
        raw_files: Path to parsed file, as the config loader reads them.

    Returns:
        The paths read (runtime params are merged at the top of the config,
        so a path names a runtime param too).
    """
    read: set[str] = set()
    for _, value in _containers(raw_files):
        for text in _strings(value):
            if "${" in text:
                read |= _text_reads(text)
    return frozenset(read)


def _text_reads(text: str) -> set[str]:
    read: set[str] = set()

    def key_read(key: object) -> None:
        name = str(key)
        if _COMPUTED in name or name.startswith("."):
            read.add(ANY_RUNTIME_PARAM)
        else:
            read.add(name.split("[", 1)[0])

    def resolver(name: str, args: tuple[Any, ...], args_str: tuple[str, ...]) -> str:
        if name in _READS_FIRST_ARGUMENT:
            key_read(args[0] if args else _COMPUTED)
        elif name not in _READS_NOTHING:
            read.add(ANY_RUNTIME_PARAM)
        return _COMPUTED

    def node(key: Any, _memo: object) -> AnyNode:
        # A ``NodeInterpolationKey`` in recent OmegaConf, a string before.
        if getattr(key, "relative_dots", 0):
            read.add(ANY_RUNTIME_PARAM)
        else:
            key_read(getattr(key, "raw", key))
        return AnyNode(_COMPUTED)

    try:
        GrammarVisitor(node, resolver, None).visit(parse(text))
    except GrammarParseError:
        return set()  # OmegaConf refuses to resolve it
    return read


def split_read(
    params: Mapping[str, Any],
    reads: Iterable[str],
    base: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split nested runtime params into what config may read and the rest.

    A leaf goes with what is read when a path in ``reads`` is it, lies inside
    it or contains it, when its value holds an interpolation (``${...}``,
    which OmegaConf would resolve), or when ``base`` holds a list where the
    leaf has a mapping, or the other way round (OmegaConf refuses that merge;
    plain Python would not).

    Args:
        params: Nested runtime params.
        reads: The paths config reads (see :func:`paths_read`).
        base: The config the params are merged into, if they are.

    Returns:
        The params config reads and the others, both nested.
    """
    reads = frozenset(reads)
    if ANY_RUNTIME_PARAM in reads:
        return dict(params), {}
    read: dict[str, Any] = {}
    unread: dict[str, Any] = {}
    for path, value in leaves(params):
        parts = path.split(".")
        is_read = (
            any(
                r == path or r.startswith(f"{path}.") or path.startswith(f"{r}.")
                for r in reads
            )
            or any("${" in text for text in _strings(value))
            or _clashes(base or {}, parts, value)
        )
        _put(read if is_read else unread, parts, value)
    return read, unread


def _clashes(base: Mapping[str, Any], parts: list[str], value: Any) -> bool:
    node: Any = base
    for part in parts:
        if isinstance(node, list | tuple):
            return True  # a key into a list
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    as_list = (list, tuple)
    return (isinstance(node, Mapping) and isinstance(value, as_list)) or (
        isinstance(node, as_list) and isinstance(value, Mapping)
    )


def _put(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
