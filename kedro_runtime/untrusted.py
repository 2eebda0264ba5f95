"""Untrusted runtime params: what a web request may and may not change.

A session created with ``KedroSession.create(..., untrusted_runtime_params=True)``
treats the ``runtime_params`` of every run as coming from an untrusted caller:

- no value, at any depth, may hold an OmegaConf interpolation (``${...}``), which
  would be resolved with the project's config and resolvers: strings inside
  mappings, lists, tuples, sets and dataclass or attrs objects, and the keys of
  mappings, are all checked;
- a runtime param that catalog or credentials config reads through
  ``${runtime_params:...}`` may be given only if the project lists it in
  ``ALLOWED_CATALOG_RUNTIME_PARAMS`` in ``settings.py``, and only as one value
  that passes its rule: by default one path segment, or the pattern the project
  gives for it;
- even an allowed one may not choose a dataset's ``type``;
- ``load_versions`` is refused (a saved version is not private to the caller
  whose run saved it), unless the project sets
  ``ALLOW_UNTRUSTED_LOAD_VERSIONS = True`` in ``settings.py``.

Parameters (``parameters.yml``) can still be set: that is what runtime params are
for. Runtime params given to ``KedroSession.create()`` come from the
application's own code and are trusted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from .errors import (
    SettingsError,
    SettingsTypeError,
    UntrustedParamsError,
    UntrustedParamsTypeError,
)
from .parameters import ANY_RUNTIME_PARAM, leaves, touched_variables
from .request import short_repr

LOAD_VERSIONS_SETTING = "ALLOW_UNTRUSTED_LOAD_VERSIONS"
"""The ``settings.py`` name that lets untrusted callers give ``load_versions``."""
ALLOWLIST_SETTING = "ALLOWED_CATALOG_RUNTIME_PARAMS"
"""The ``settings.py`` name of the runtime params untrusted callers may use in
catalog and credentials config: a list of names, or a mapping of names to the
pattern (a regular expression, matched in full) their values must match."""

_PLAIN = (
    "Send plain values: strings without '${', numbers, booleans, null, and "
    "mappings, lists, tuples or sets of them. Nothing a caller sends is "
    "resolved as config."
)
_SEGMENT_RULE = (
    "one path segment: not empty, not '.' or '..', and without '/', '\\', ':' "
    "or control characters (so no absolute path, drive or URL scheme)"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_untrusted_params(
    run_params: Mapping[str, Any],
    read_by_config: Mapping[str, Iterable[str]],
    allowed: Iterable[str] | Mapping[str, str | None],
) -> None:
    """Reject what an untrusted caller must not do with runtime params.

    Args:
        run_params: The run's nested runtime params.
        read_by_config: Runtime param path to the catalog and credentials
            entries that read it.
        allowed: The project's ``ALLOWED_CATALOG_RUNTIME_PARAMS``: runtime
            param paths allowed in catalog and credentials config, as a list
            (each value must be one path segment) or as a mapping of path to
            pattern (``None`` for the one-segment rule).

    Raises:
        UntrustedParamsError: If a value or key holds an interpolation, a param
            feeds catalog or credentials config without being allowed, or an
            allowed one has a value its rule refuses.
        UntrustedParamsTypeError: If an allowed catalog runtime param is given
            something other than a string, number or boolean.
        SettingsTypeError: If the project's ``ALLOWED_CATALOG_RUNTIME_PARAMS``
            is not a list of names or a mapping of names to patterns.
        SettingsError: If a pattern in it is not a valid regular expression.
    """
    refuse_interpolations(run_params)
    rules = catalog_param_rules(allowed)
    for path, value in leaves(run_params):
        for variable in sorted(touched_variables({path: value}, read_by_config)):
            if variable == ANY_RUNTIME_PARAM and variable not in rules:
                raise UntrustedParamsError(
                    f"Runtime param '{path}' is refused: catalog or credentials "
                    f"config ({sorted(read_by_config[variable])}) reads a runtime "
                    f"param whose name it computes, which could be this one. Write "
                    f"the name out in the config (${{runtime_params:region}}) and "
                    f"add it to {ALLOWLIST_SETTING} in the project's settings.py."
                )
            if variable not in rules:
                entries = sorted(read_by_config[variable])
                raise UntrustedParamsError(
                    f"Runtime param '{path}' would change catalog or credentials "
                    f"config ({entries} read '${{runtime_params:{variable}}}'), "
                    f"which this session does not allow its callers to do. To "
                    f"allow it, add '{variable}' to {ALLOWLIST_SETTING} in the "
                    f"project's settings.py. Allowed now: {sorted(rules)}."
                )
            given = _value_at(run_params, variable)
            if given is None:
                continue
            where, given_value = given
            if where != variable:
                raise UntrustedParamsTypeError(
                    f"Runtime param '{variable}' is read by catalog or credentials "
                    f"config, but '{where}' is {type(given_value).__name__} "
                    f"{short_repr(given_value)}, not a mapping that holds it."
                )
            check_catalog_value(variable, given_value, rules)


# --- interpolations --------------------------------------------------------------


def refuse_interpolations(run_params: Mapping[str, Any]) -> None:
    """Refuse a ``${`` anywhere in the values or keys of ``run_params``.

    OmegaConf treats a string that holds ``${`` as an interpolation (escaped
    ``\\${`` included, which it turns into a literal ``${``), in values at any
    depth of mappings, lists and tuples, and in the fields of dataclass and
    attrs objects it is given. Keys are not resolved, but are refused too.

    Args:
        run_params: The run's nested runtime params.

    Raises:
        UntrustedParamsError: Naming the path of the first such value or key,
            e.g. ``currency[0].x``.
    """
    for found, in_key in _interpolations(run_params):
        path = found if len(found) <= 200 else f"{found[:100]}...{found[-100:]}"
        where = "A key in runtime param" if in_key else "Runtime param"
        raise UntrustedParamsError(
            f"{where} '{path}' holds an interpolation ('${{...}}'), which this "
            f"session does not accept from its callers. {_PLAIN}"
        )


def _interpolations(root: Mapping[str, Any]) -> Iterator[tuple[str, bool]]:
    """``(path, is a key)`` of every string holding ``${``, depth first, in order.

    Iterative, so that a deeply nested request cannot exhaust the stack, and
    each container is visited once, so that a cycle cannot loop.
    """
    stack: list[tuple[Any, str, bool]] = [(root, "", False)]
    # Keyed by id, holding the object: an id is not reused while it is alive.
    seen: dict[int, Any] = {}
    while stack:
        node, path, in_key = stack.pop()
        if isinstance(node, str):
            if "${" in node:
                yield path, in_key
            continue
        if id(node) in seen:
            continue
        seen[id(node)] = node
        if isinstance(node, DictConfig | ListConfig):
            node = OmegaConf.to_container(node, resolve=False)
        children = _children(node, path) or ()
        # Anything inside a key (a tuple used as a key) is part of the key.
        stack.extend((child, at, key or in_key) for child, at, key in children[::-1])


def _children(node: Any, path: str) -> list[tuple[Any, str, bool]] | None:
    """What a value holds, each with its path; ``None`` for a scalar."""
    if isinstance(node, Mapping):
        children = []
        for key, value in node.items():
            child = _child(path, key)
            children += [(key, child, True), (value, child, False)]
        return children
    if isinstance(node, AbstractSet):
        return [(item, f"{path}[*]", False) for item in node]
    if isinstance(node, Sequence) and not isinstance(node, bytes | bytearray):
        return [(item, f"{path}[{i}]", False) for i, item in enumerate(node)]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = [field.name for field in dataclasses.fields(node)]
    elif hasattr(type(node), "__attrs_attrs__"):
        fields = [field.name for field in type(node).__attrs_attrs__]
    else:
        return None
    return [(getattr(node, name, None), _child(path, name), False) for name in fields]


def _child(path: str, key: object) -> str:
    name = key if isinstance(key, str) else repr(key)
    return f"{path}.{name}" if path else name


# --- catalog runtime params --------------------------------------------------------


def catalog_param_rules(
    allowed: Iterable[str] | Mapping[str, str | None],
) -> dict[str, re.Pattern[str] | None]:
    """The rule of each allowed catalog runtime param: a pattern, or ``None``.

    Args:
        allowed: ``ALLOWED_CATALOG_RUNTIME_PARAMS``: a list of runtime param
            paths, or a mapping of path to pattern (``None``: the default rule).

    Returns:
        Path to compiled pattern, or to ``None`` for the one-segment rule.

    Raises:
        SettingsTypeError: If ``allowed`` is a string, or not a list of names
            or a mapping of names to patterns.
        SettingsError: If a pattern is not a valid regular expression.
    """
    example = f"{ALLOWLIST_SETTING} = ['region'] or {{'region': r'[a-z]{{2,10}}'}}"
    if isinstance(allowed, str) or not isinstance(allowed, Iterable):
        raise SettingsTypeError(
            f"settings.{ALLOWLIST_SETTING} must be a list of runtime param names "
            f"or a mapping of names to patterns, e.g. {example}; got "
            f"{type(allowed).__name__} {allowed!r}."
        )
    pairs = (
        allowed.items()
        if isinstance(allowed, Mapping)
        else ((name, None) for name in allowed)
    )
    rules: dict[str, re.Pattern[str] | None] = {}
    for name, pattern in pairs:
        if not isinstance(name, str) or not (
            pattern is None or isinstance(pattern, str)
        ):
            raise SettingsTypeError(
                f"settings.{ALLOWLIST_SETTING} must name runtime params (str) and "
                f"give each a pattern (str) or None, e.g. {example}; got "
                f"{name!r}: {pattern!r}."
            )
        try:
            rules[name] = None if pattern is None else re.compile(pattern)
        except re.error as exc:
            raise SettingsError(
                f"settings.{ALLOWLIST_SETTING} gives '{name}' the pattern "
                f"{pattern!r}, which is not a valid regular expression ({exc})."
            ) from exc
    return rules


def check_catalog_value(
    variable: str, value: Any, rules: Mapping[str, re.Pattern[str] | None]
) -> None:
    """Check the value an untrusted caller gives an allowed catalog runtime param.

    A string, or a number or boolean (used as its text, as OmegaConf puts it in
    a string), must pass the param's rule: its pattern, matched in full, or by
    default be one path segment. Anything else is refused.

    Args:
        variable: The runtime param path config reads, e.g. ``region``.
        value: What the caller gave it.
        rules: The allowed params' rules (see :func:`catalog_param_rules`).

    Raises:
        UntrustedParamsTypeError: If ``value`` is not a string, number or
            boolean.
        UntrustedParamsError: If it does not pass the rule.
    """
    pattern = rules[variable]
    if pattern is None:
        rule = f"be {_SEGMENT_RULE}"
    else:
        rule = (
            f"match the pattern {pattern.pattern!r} that "
            f"settings.{ALLOWLIST_SETTING} gives it"
        )
    if not isinstance(value, str | int | float):
        raise UntrustedParamsTypeError(
            f"Runtime param '{variable}' is read by catalog or credentials config, "
            f"so it must be one string, number or boolean that must {rule}; got "
            f"{type(value).__name__} {short_repr(value)}. Leave it out to use the "
            f"config's default."
        )
    text = str(value)
    if pattern is None:
        problem = _segment_problem(text)
        advice = (
            f" To accept other values, give '{variable}' a pattern in "
            f"settings.{ALLOWLIST_SETTING}, e.g. {{'{variable}': r'[a-z]{{2,10}}'}}."
        )
    else:
        problem = None if pattern.fullmatch(text) else "it does not match"
        advice = ""
    if problem is not None:
        raise UntrustedParamsError(
            f"Runtime param '{variable}' = {short_repr(value)} is refused ({problem}): "
            f"a value catalog or credentials config reads must {rule}.{advice}"
        )


def _segment_problem(text: str) -> str | None:
    """Why ``text`` is not one safe path segment, or ``None`` if it is."""
    if not text:
        return "it is empty"
    if set(text) == {"."}:
        return "it is only dots"
    for char in ("/", "\\", ":"):
        if char in text:
            return f"it holds {char!r}"
    if _CONTROL.search(text):
        return "it holds a control character"
    return None


def _value_at(params: Mapping[str, Any], variable: str) -> tuple[str, Any] | None:
    """The value at dotted ``variable`` in nested ``params``.

    Returns:
        ``(variable, value)``; or, when a caller put something that is not a
        mapping on the way to it, ``(path of that thing, the thing)``; or None
        when the caller did not set it.
    """
    node: Any = params
    parts = variable.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, Mapping):
            return ".".join(parts[:depth]), node
        if part not in node:
            return None
        node = node[part]
    return variable, node
