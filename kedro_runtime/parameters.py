"""Runtime parameters: nesting dotted keys, merging, and the ``params:`` datasets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import click
from kedro.validation.utils import get_typed_fields
from omegaconf import AnyNode, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import GrammarParseError
from omegaconf.grammar_parser import parse
from omegaconf.grammar_visitor import GrammarVisitor

from . import _kedro_private as private
from .errors import RuntimeParamsError, RuntimeParamsTypeError

ANY_RUNTIME_PARAM = "*"
"""Stands for a runtime param whose name config computes (``${runtime_params:${x}}``,
``${${name}:key}``): it may be any of them."""

_COMPUTED = "\x00computed\x00"


def nest_params(params: Mapping[str, Any] | None, *, argument: str) -> dict[str, Any]:
    """Turn dotted keys into nested mappings, as ``kedro run --params`` does.

    ``{"model.alpha": 2, "seed": 1}`` becomes ``{"model": {"alpha": 2}, "seed": 1}``.

    Args:
        params: The parameters a caller gave, or ``None``.
        argument: The argument's name, for error messages.

    Returns:
        A new nested dictionary.

    Raises:
        RuntimeParamsTypeError: If ``params`` is not a mapping or a key is not
            a string.
        RuntimeParamsError: If a key is empty or has an empty part, or two keys
            clash once nested (``"a": 1`` and ``"a.b": 2``).
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise RuntimeParamsTypeError(
            f"`{argument}` must be a mapping of parameter names to values, got "
            f"{type(params).__name__}. Example: {argument}={{'model.alpha': 0.1}}."
        )
    nested: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
            error = (
                RuntimeParamsError if isinstance(key, str) else RuntimeParamsTypeError
            )
            raise error(
                f"`{argument}` keys must be non-empty strings such as 'alpha' or "
                f"'model.alpha', got {key!r}."
            )
        *parents, leaf = key.split(".")
        target = nested
        for depth, part in enumerate(parents):
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                clash = ".".join(parents[: depth + 1])
                raise RuntimeParamsError(
                    f"`{argument}` sets '{clash}' to a value and also '{key}' "
                    f"inside it. Give one of them."
                )
            target = child
        if isinstance(value, Mapping):
            nested_value = nest_params(value, argument=argument)
            if isinstance(target.get(leaf), dict):
                _check_disjoint(target[leaf], nested_value, key, argument)
                nested_value = deep_merge(target[leaf], nested_value)
            elif leaf in target:
                raise RuntimeParamsError(
                    f"`{argument}` sets '{key}' twice (once through a dotted key). "
                    f"Give it once."
                )
            target[leaf] = nested_value
            continue
        if leaf in target:
            raise RuntimeParamsError(
                f"`{argument}` sets '{key}' twice (once through a dotted key). "
                f"Give it once."
            )
        target[leaf] = value
    return nested


def _check_disjoint(
    first: Mapping[str, Any], second: Mapping[str, Any], path: str, argument: str
) -> None:
    for key, value in second.items():
        if key not in first:
            continue
        if isinstance(first[key], Mapping) and isinstance(value, Mapping):
            _check_disjoint(first[key], value, f"{path}.{key}", argument)
        else:
            raise RuntimeParamsError(
                f"`{argument}` sets '{path}.{key}' twice (once through a dotted "
                f"key). Give it once."
            )


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``update`` into a copy of ``base``; nested mappings merge key by key.

    Args:
        base: The values to start from. Not modified.
        update: The values that win.

    Returns:
        A new dictionary.
    """
    merged = dict(base)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def param_datasets(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``parameters`` and ``params:...`` entries a Kedro catalog holds.

    Nested mappings and typed parameter objects (dataclasses, pydantic models)
    give one entry per field, e.g. ``params:model.alpha``.

    Args:
        params: The resolved, validated parameters.

    Returns:
        Dataset name to value.
    """
    table: dict[str, Any] = {"parameters": params}

    def add(name: str, value: Any) -> None:
        table[f"params:{name}"] = value
        fields = value if isinstance(value, dict) else get_typed_fields(value)
        for field, field_value in (fields or {}).items():
            add(f"{name}.{field}", field_value)

    for name, value in params.items():
        add(name, value)
    return table


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _strings(value)


def _containers(raw_files: Mapping[Any, Any]) -> Iterator[tuple[Any, Any]]:
    for config in raw_files.values():
        if isinstance(config, DictConfig | ListConfig):
            container = OmegaConf.to_container(config, resolve=False)
        else:
            container = config
        if isinstance(container, Mapping):
            yield from container.items()


def has_interpolation(raw_files: Mapping[Any, Any]) -> bool:
    """Whether parsed, unresolved config files use any ``${...}`` interpolation.

    Args:
        raw_files: Path to parsed file, as the config loader reads them.

    Returns:
        True if some value would change when resolved.
    """
    return any(
        "${" in text for _, value in _containers(raw_files) for text in _strings(value)
    )


def keys_using_runtime_params(
    raw_files: Mapping[Any, Any], credential_names: set[str] | None = None
) -> set[str]:
    """Top-level keys whose config reads ``${runtime_params:...}``.

    Args:
        raw_files: Path to parsed file, as the config loader reads them.
        credential_names: Credentials entries that read runtime params; a key
            whose ``credentials`` names one of them counts too.

    Returns:
        The affected top-level keys (dataset names or factory patterns).
    """
    credential_names = credential_names or set()
    keys = set()
    for key, value in _containers(raw_files):
        if any(runtime_param_keys(text) for text in _strings(value)):
            keys.add(key)
        elif (
            isinstance(value, Mapping) and value.get("credentials") in credential_names
        ):
            keys.add(key)
    return keys


def runtime_params_read_by(raw_files: Mapping[Any, Any]) -> dict[str, set[str]]:
    """Which runtime params each top-level key reads through ``${runtime_params:...}``.

    Args:
        raw_files: Path to parsed file, as the config loader reads them.

    Returns:
        Runtime param path (``"region"``, ``"model.alpha"``) to the top-level
        keys (dataset names, patterns, credentials names) whose config reads it.
    """
    read: dict[str, set[str]] = {}
    for key, value in _containers(raw_files):
        for text in _strings(value):
            for variable in runtime_param_keys(text):
                read.setdefault(variable, set()).add(str(key))
    return read


def runtime_param_keys(text: str) -> set[str]:
    """The runtime params a config string reads, found by OmegaConf's own grammar.

    Every spelling OmegaConf resolves counts: quoted keys
    (``${runtime_params:'tenant', all}``), whitespace, interpolations inside
    strings, in other resolvers' arguments and in defaults. A key or resolver
    name that config computes (``${runtime_params:${x}}``) is
    :data:`ANY_RUNTIME_PARAM`.

    Args:
        text: A config value.

    Returns:
        The keys the ``runtime_params`` resolver would be given; empty if the
        text holds no interpolation, or one OmegaConf cannot parse (and would
        refuse to resolve).
    """
    if "${" not in text:
        return set()
    keys: set[str] = set()

    def resolver(name: str, args: tuple[Any, ...], args_str: tuple[str, ...]) -> str:
        if _COMPUTED in name:
            keys.add(ANY_RUNTIME_PARAM)
        elif name == "runtime_params":
            key = str(args[0]) if args else ANY_RUNTIME_PARAM
            keys.add(ANY_RUNTIME_PARAM if _COMPUTED in key else key)
        return _COMPUTED

    def node(_key: object, _memo: object) -> AnyNode:
        return AnyNode(_COMPUTED)  # what a key of the config holds: unknown here

    try:
        GrammarVisitor(node, resolver, None).visit(parse(text))
    except GrammarParseError:
        return set()
    return keys


def leaves(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``(dotted path, value)`` of a nested mapping; mappings are not leaves.

    Args:
        params: Nested parameters.
        prefix: Path of ``params`` itself.

    Yields:
        The dotted path and value of each non-mapping value.
    """
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path, value


_INNERMOST_INTERPOLATION = re.compile(r"\$\{([^${}]*)\}")
_PLAIN_REFERENCE = re.compile(
    r"^\s*(?:(?:runtime_params|globals):)?\s*[A-Za-z_][\w.]*\s*(?:,[^,]*)?$"
)


def interpolations_are_pure(raw_files: Mapping[Any, Any]) -> bool:
    """Whether every ``${...}`` is a key, ``runtime_params:`` or ``globals:`` lookup.

    Then the resolved parameters depend on the runtime params alone, and a
    resolution can be reused for the same runtime params. A custom resolver
    (``${now:}``) may give another value each time: not pure.

    Args:
        raw_files: Path to parsed file, as the config loader reads them.

    Returns:
        True if resolving twice with the same runtime params gives equal results.
    """
    for _, value in _containers(raw_files):
        for text in _strings(value):
            found = _INNERMOST_INTERPOLATION.findall(text)
            if text.count("${") != len(found):
                return False  # nested interpolations
            if not all(_PLAIN_REFERENCE.match(inner) for inner in found):
                return False
    return True


def touched_variables(params: Mapping[str, Any], variables: Iterable[str]) -> set[str]:
    """The variables (dotted paths read by config) that ``params`` sets or changes.

    A variable is touched when a leaf of ``params`` is the variable, lies inside
    it, or contains it (``{"model": {"alpha": 1}}`` touches ``model.alpha`` and
    ``model``). Any param touches :data:`ANY_RUNTIME_PARAM`.

    Args:
        params: Nested runtime params.
        variables: Dotted paths that config reads.

    Returns:
        The touched variables.
    """
    touched = set()
    paths = [path for path, _ in leaves(params)]
    for variable in variables:
        if variable == ANY_RUNTIME_PARAM and paths:
            touched.add(variable)
            continue
        for path in paths:
            if (
                path == variable
                or path.startswith(f"{variable}.")
                or variable.startswith(f"{path}.")
            ):
                touched.add(variable)
                break
    return touched


def is_param(name: str) -> bool:
    """Whether ``name`` is a parameter dataset (``parameters``, ``params:...``).

    Args:
        name: A dataset name.

    Returns:
        True for ``parameters`` and every ``params:`` name.
    """
    return name == "parameters" or name.startswith("params:")


def parse_params(value: str) -> dict[str, Any]:
    """Parse ``key=value,a.b=2`` as ``kedro run --params`` does.

    For a service that takes parameters as text (the server's
    ``GET /snapshot?params=...``).

    Args:
        value: The items.

    Returns:
        The parameters, nested at dots, with typed values.

    Raises:
        ValueError: If an item is not ``key=value`` or a value cannot be parsed.

    Example:
    ``` python
    assert parse_params("a=1,b.c=x") == {"a": 1, "b": {"c": "x"}}
    ```
    """
    option = click.Option(["--params"])
    context = click.Context(click.Command("params", params=[option]))
    try:
        parsed = private.split_params(context, option, value)
    except click.ClickException as exc:
        raise _invalid_params(value, exc.format_message()) from exc
    except Exception as exc:  # a value YAML or OmegaConf cannot parse
        reason = " ".join(str(exc).split())
        raise _invalid_params(value, f"a value cannot be parsed ({reason}).") from exc
    return dict(parsed or {})


def _invalid_params(value: str, reason: str) -> ValueError:
    return ValueError(
        f"Invalid 'params' value '{value}': {reason} Send key=value items separated "
        f"by commas, e.g. 'version=02,model.lr=0.01'."
    )
