"""How ``kedro run`` parses the options kedro-runtime adds or reads differently.

``--runtime-params``, ``--runtime-data`` and ``--config`` (which may set them
too), and the check that ``--params`` and ``--runtime-params`` set no parameter
twice. Used by :mod:`kedro_runtime.cli`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

import click
import yaml
from kedro.framework.cli.utils import split_string
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from . import _kedro_private as private
from .errors import RunOptionError
from .session_class import opted_in

NEW_CONFIG_KEYS = ("runtime_params", "runtime_data")
"""The ``--config`` file keys that only kedro-runtime's ``kedro run`` reads."""


def split_runtime_params(
    ctx: click.Context, param: click.Parameter, value: Any
) -> dict[str, Any]:
    """Parse ``--runtime-params`` exactly as Kedro parses ``--params``.

    Args:
        ctx: The click context.
        param: The option being parsed.
        value: ``"k=v,a.b=2"`` from the command line, or a mapping or string
            from a ``--config`` file.

    Returns:
        The parameters as a nested dictionary with typed values.

    Raises:
        click.BadParameter: If a ``--config`` file gives something that is
            neither a string nor a mapping.
    """
    if value is None:
        return {}
    if not isinstance(value, str | Mapping):
        raise click.BadParameter(
            f"expected 'key=value,...' or a mapping, got {type(value).__name__}.",
            ctx=ctx,
            param=param,
        )
    parsed = private.split_params(
        ctx, param, dict(value) if isinstance(value, Mapping) else value
    )
    return dict(parsed or {})


def split_runtime_data(
    ctx: click.Context, param: click.Parameter, value: Any
) -> dict[str, str]:
    """Parse ``--runtime-data "name=path,..."`` into dataset names and paths.

    Args:
        ctx: The click context.
        param: The option being parsed.
        value: The string from the command line, or a string or a mapping of
            names to paths from a ``--config`` file.

    Returns:
        Dataset name to path, in the order given.

    Raises:
        click.BadParameter: If an item has no ``=``, an empty name or path, or a
            name is given twice.
    """
    if not value:
        return {}
    if isinstance(value, Mapping):
        items = [(str(name), value[name]) for name in value]
    elif isinstance(value, str):
        items = []
        for item in split_string(ctx, param, value):
            name, equals, path = item.partition("=")
            if not equals:
                raise click.BadParameter(
                    f"item '{item}' must be a dataset name and a path separated by "
                    f"'=', e.g. orders=data/01_raw/orders_march.csv.",
                    ctx=ctx,
                    param=param,
                )
            items.append((name.strip(), path.strip()))
    else:
        raise click.BadParameter(
            f"expected 'name=path,...' or a mapping, got {type(value).__name__}.",
            ctx=ctx,
            param=param,
        )
    paths: dict[str, str] = {}
    for name, path in items:
        if not name:
            raise click.BadParameter(
                "a dataset name is empty; write items as name=path.",
                ctx=ctx,
                param=param,
            )
        if not isinstance(path, str) or not path.strip():
            raise click.BadParameter(
                f"the path for '{name}' is empty; write items as name=path.",
                ctx=ctx,
                param=param,
            )
        if name in paths:
            raise click.BadParameter(
                f"'{name}' is given more than once.", ctx=ctx, param=param
            )
        paths[name] = path.strip()
    return paths


def load_config_file(
    ctx: click.Context,
    param: click.Parameter,
    value: Any,
    kedro_callback: Callable[..., Any] | None = None,
) -> Any:
    """Read ``kedro run --config FILE`` into the defaults of this command.

    The file holds a ``run:`` mapping of option names (as in
    ``kedro run --help``, with dashes as underscores) to values, for instance
    ``runtime_params: {factor: 2}``. Options given on the command line win over
    the file. In a project that has not opted in (see
    :func:`kedro_runtime.session_class.opted_in`), a file without
    ``runtime_params`` or ``runtime_data`` (or one that cannot be read) is
    handed to ``kedro_callback``, Kedro's own ``--config`` callback, so that
    it behaves exactly as in Kedro.

    Args:
        ctx: The click context.
        param: The ``--config`` option.
        value: The path of the file, or ``None``.
        kedro_callback: Kedro's callback of the option, if any.

    Returns:
        ``value`` unchanged.

    Raises:
        click.BadParameter: If the file is not YAML or has no ``run`` mapping
            (when there is no ``kedro_callback``).
        RunOptionError: If it names an option this command does not have
            (exit code 1, as in Kedro).
    """
    if not value:
        return kedro_callback(ctx, param, value) if kedro_callback else value
    section = ctx.command.name or "run"
    options = _config_section(value, section)
    new_keys = isinstance(options, dict) and any(k in options for k in NEW_CONFIG_KEYS)
    if kedro_callback is not None and not new_keys and not opted_in():
        return kedro_callback(ctx, param, value)
    if isinstance(options, str):
        raise click.BadParameter(options, ctx=ctx, param=param)
    valid = sorted(
        p.name for p in ctx.command.params if p.name and p.name != param.name
    )
    for key in options:
        if key not in valid:
            hint = _config_key_hint(ctx.command, str(key), valid)
            raise RunOptionError(
                f"key `{key}` in --config file '{value}' is not an option of "
                f"`kedro {section}`.{hint} Valid keys: {', '.join(valid)}."
            )
    ctx.default_map = {**(ctx.default_map or {}), **options}
    return value


def _config_key_hint(command: click.Command, key: str, valid: list[str]) -> str:
    """Name the key of an option given by its flag, or close matches."""
    for option in command.params:
        flags = [flag.lstrip("-").replace("-", "_") for flag in option.opts]
        if key in flags and option.name in valid:
            return f" The key of `{option.opts[0]}` is `{option.name}`."
    close = difflib.get_close_matches(key, valid, n=3)
    return f" Did you mean {' or '.join(close)}?" if close else ""


def _config_section(path: str, section: str) -> dict[Any, Any] | str:
    """The ``section`` mapping of a config file, or why it cannot be read."""
    try:
        content = OmegaConf.to_container(OmegaConf.load(path))
    except (OmegaConfBaseException, yaml.YAMLError, ValueError, OSError) as exc:
        return f"cannot read '{path}' as YAML: {exc}"
    options = content.get(section) if isinstance(content, dict) else None
    if not isinstance(options, dict):
        return f"'{path}' must hold a '{section}:' mapping of option names to values."
    return options


def check_no_shared_keys(
    params: Mapping[str, Any], runtime_params: Mapping[str, Any]
) -> None:
    """Refuse a parameter that ``--params`` and ``--runtime-params`` both set.

    Keys are compared as dotted paths: ``a.b`` in one and ``a`` or ``a.b.c`` in
    the other set the same value, so they clash too.

    Args:
        params: The parsed ``--params``.
        runtime_params: The parsed ``--runtime-params``.

    Raises:
        click.BadParameter: Naming every clashing key.
    """
    ours = _leaf_paths(params)
    theirs = _leaf_paths(runtime_params)
    shared = sorted(
        {
            ".".join(a if len(a) <= len(b) else b)
            for a in ours
            for b in theirs
            if a[: len(b)] == b or b[: len(a)] == a
        }
    )
    if shared:
        raise click.BadParameter(
            f"{', '.join(shared)} given in both. Give each parameter in one of "
            f"the two options.",
            param_hint="'--params' and '--runtime-params'",
        )


def _leaf_paths(
    params: Mapping[str, Any], prefix: tuple[str, ...] = ()
) -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for key, value in params.items():
        path = (*prefix, *str(key).split("."))
        if isinstance(value, Mapping) and value:
            paths |= _leaf_paths(value, path)
        else:
            paths.add(path)
    return paths
