"""``kedro run`` with ``--runtime-params`` and ``--runtime-data``.

Installing kedro-runtime registers the :data:`cli` group under the
``kedro.project_commands`` entry point. Kedro lets a plugin's command take the
place of a built-in one with the same name, so ``kedro run`` (and
``python -m <package>``, through ``find_run_command``) then run :func:`run`.

The command reuses the option objects of Kedro's own ``kedro run`` (same names,
defaults, help and parsing) and adds two options:

- ``--runtime-params "k=v,a.b=2"``: parameters for this run, parsed and typed as
  ``--params`` is.
- ``--runtime-data "name=path,..."``: read a catalog entry from another file,
  with the entry's dataset type and options.

Which session runs the project:

- ``settings.SESSION_CLASS`` is ``kedro_runtime.KedroSession`` or a subclass of
  it (the project opted in): that class, for every ``kedro run``.
- It is Kedro's default ``KedroSession``: a run without the new options is
  Kedro's own ``kedro run``, unchanged (same session, run id, version folders,
  messages and exit codes); a run with ``--runtime-params`` or
  ``--runtime-data`` runs on ``kedro_runtime.KedroSession``.
- Anything else: Kedro's built-in ``kedro run`` runs unchanged, and the new
  options are refused with a message saying they need a kedro-runtime session.

On a kedro-runtime session the run's id is the session's id, as in Kedro (a
generated id, unique across processes: see :mod:`kedro_runtime.run_id`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import click
from kedro import KedroDeprecationWarning
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import KedroCliError
from kedro.framework.project import settings
from kedro.io import AbstractDataset, DataCatalog
from kedro.utils import load_obj

from . import _kedro_private as private
from .cli_options import (
    check_no_shared_keys,
    load_config_file,
    split_runtime_data,
    split_runtime_params,
)
from .data_files import datasets_at_paths
from .errors import RunOptionError, RuntimeDataError, RuntimeParamsError
from .request import FILTERS
from .session import KedroSession
from .session_class import opted_in, runtime_session_class

__all__ = [
    "check_no_shared_keys",
    "cli",
    "load_config_file",
    "run",
    "runtime_datasets",
    "runtime_session_class",
    "split_runtime_data",
    "split_runtime_params",
]

RUNTIME_PARAMS_HELP = """Parameters for this run only, with the syntax and
typing of --params: items separated by commas, key and value by an equals sign,
nested keys by dots, example: factor=2,model.alpha=0.5. May be combined with
--params, but a key must not be given in both. Needs SESSION_CLASS to be
Kedro's default (this run then uses kedro_runtime.KedroSession) or a
kedro-runtime session."""

RUNTIME_DATA_HELP = """Read catalog entries from other files for this run only.
Items separated by commas, dataset name and path by an equals sign, example:
orders=data/01_raw/orders_march.csv. The entry's dataset type and options are
kept; only its file path changes (a versioned entry stays versioned: give the
folder of its versions). Relative paths are relative to the current directory.
A dataset that a node produces is read from the file and its node is skipped.
Needs SESSION_CLASS to be Kedro's default (this run then uses
kedro_runtime.KedroSession) or a kedro-runtime session."""

NEW_OPTIONS = ("runtime_params", "runtime_data")
"""Names of the options this command adds to Kedro's ``kedro run``."""

_NEW_OPTION_FLAGS = {
    "runtime_params": "--runtime-params",
    "runtime_data": "--runtime-data",
}


# --- the command -----------------------------------------------------------------


def _command_params() -> list[click.Parameter]:
    """Kedro's ``kedro run`` options, with ``--config`` reading the new options too,
    and the new options right after ``--params``."""
    params: list[click.Parameter] = []
    for option in kedro_run.params:
        if option.name == "config" and isinstance(option, click.Option):
            params.append(
                click.Option(
                    [*option.opts, *option.secondary_opts],
                    type=option.type,
                    help=option.help,
                    callback=functools.partial(
                        load_config_file, kedro_callback=option.callback
                    ),
                )
            )
            continue
        params.append(option)
        if option.name == "params":
            params.extend(_new_options())
    if not any(p.name == NEW_OPTIONS[0] for p in params):
        params.extend(_new_options())
    return params


def _new_options() -> list[click.Parameter]:
    return [
        click.Option(
            ["--runtime-params"],
            type=click.UNPROCESSED,
            default="",
            help=RUNTIME_PARAMS_HELP,
            callback=split_runtime_params,
        ),
        click.Option(
            ["--runtime-data"],
            type=click.UNPROCESSED,
            default="",
            help=RUNTIME_DATA_HELP,
            callback=split_runtime_data,
        ),
    ]


@click.group(name="kedro")
def cli() -> None:
    """Commands from kedro-runtime."""


@cli.command(
    name="run",
    params=_command_params(),
    short_help="Run the pipeline.",
)
@click.pass_context
def run(ctx: click.Context, /, **options: Any) -> dict[str, Any]:
    """Run the pipeline.

    Kedro's `kedro run`, from kedro-runtime: every option of the built-in
    command works as there, plus --runtime-params and --runtime-data. Without
    them, a project whose SESSION_CLASS is Kedro's default runs Kedro's own
    command, unchanged; with them it runs on kedro_runtime.KedroSession. A
    project whose SESSION_CLASS is a kedro-runtime session always runs on it.
    """
    given = [flag for name, flag in _NEW_OPTION_FLAGS.items() if options.get(name)]
    session_class = runtime_session_class()
    if session_class is None or not (opted_in() or given):
        if given:
            raise click.UsageError(
                f"{' and '.join(given)} need a kedro-runtime session, but this "
                f"project's settings.SESSION_CLASS is "
                f"{_qualified_name(settings.SESSION_CLASS)}. Set SESSION_CLASS to "
                f"kedro_runtime.KedroSession (or a subclass of it) in settings.py, "
                f"or run without {' and '.join(given)}.",
                ctx=ctx,
            )
        builtin = {k: v for k, v in options.items() if k not in NEW_OPTIONS}
        callback: Callable[..., dict[str, Any]] | None = kedro_run.callback
        if callback is None:  # pragma: no cover - Kedro's command always has one
            raise KedroCliError("Kedro's `kedro run` command has no callback.")
        return ctx.invoke(callback, **builtin)
    return _run_with_session(ctx, session_class, options)


def _pipeline_names(options: dict[str, Any]) -> list[str]:
    if options["pipeline"] and options["pipelines"]:
        raise RunOptionError(
            "Options '--pipeline' and '--pipelines' cannot be used together: "
            "give the pipelines to run with '--pipelines' only."
        )
    if options["pipeline"]:
        warnings.warn(
            "'--pipeline' is deprecated in Kedro and will be removed; use "
            "'--pipelines' instead.",
            KedroDeprecationWarning,
            stacklevel=3,
        )
        return [options["pipeline"]]
    return list(dict.fromkeys(options["pipelines"]))


def _runner(options: dict[str, Any]) -> Any:
    runner_class = load_obj(options["runner"] or "SequentialRunner", "kedro.runner")
    try:
        runner_kwargs = private.resolve_runner_kwargs(
            options["is_async"], options["runner_params"]
        )
    except KedroCliError as exc:
        raise RunOptionError(exc.format_message()) from exc
    return runner_class(**runner_kwargs)


def _run_with_session(
    ctx: click.Context, session_class: type[KedroSession], options: dict[str, Any]
) -> dict[str, Any]:
    pipeline_names = _pipeline_names(options)
    params: dict[str, Any] = options["params"] or {}
    runtime_params: dict[str, Any] = options["runtime_params"] or {}
    check_no_shared_keys(params, runtime_params)
    runner = _runner(options)
    load_versions: dict[str, str] = options["load_versions"] or {}
    session = session_class.create(
        env=options["env"],
        conf_source=options["conf_source"],
        runtime_params=params or None,
    )
    # The session's only run has its id as run id, as in Kedro.
    run_id = session.session_id
    with session:
        runtime_data: dict[str, AbstractDataset] | None = None
        if options["runtime_data"]:
            catalog = session.base_catalog(pipeline_names or ["__default__"])
            runtime_data = runtime_datasets(
                catalog, options["runtime_data"], load_versions, run_id
            )
        filters = {name: options[name] for name in FILTERS}
        try:
            # The public front door: a project's session subclass may wrap run.
            return session.run(
                pipeline_names=pipeline_names,
                **{
                    **filters,
                    # As Kedro's command passes them.
                    "tags": tuple(filters["tags"]),
                    "node_names": tuple(filters["node_names"]),
                },
                runner=runner,
                load_versions=load_versions,
                only_missing_outputs=options["only_missing_outputs"],
                runtime_data=runtime_data,
                runtime_params=runtime_params or None,
                run_id=run_id,
            )
        except RuntimeDataError as exc:
            hint = "'--runtime-data'" if runtime_data else None
            raise click.BadParameter(str(exc), ctx=ctx, param_hint=hint) from exc
        except RuntimeParamsError as exc:
            raise click.BadParameter(
                str(exc), ctx=ctx, param_hint="'--runtime-params'"
            ) from exc


# --- --runtime-data --------------------------------------------------------------


def runtime_datasets(
    catalog: DataCatalog,
    paths: Mapping[str, str],
    load_versions: Mapping[str, str],
    run_id: str,
) -> dict[str, AbstractDataset]:
    """Datasets like the catalog's entries, at other file paths.

    Args:
        catalog: The project's catalog.
        paths: Dataset name to the path to read it from. A relative path is
            relative to the current directory; a URL (``s3://...``) is kept.
        load_versions: ``--load-versions``: the version to load of a versioned
            entry.
        run_id: The run's id, the save version of a versioned entry.

    Returns:
        Dataset name to a new dataset of the entry's type and options, at the
        given path.

    Raises:
        click.BadParameter: What :func:`~kedro_runtime.data_files.datasets_at_paths`
            raises as a ``RuntimeDataError``.
    """
    try:
        return datasets_at_paths(catalog, paths, load_versions, run_id)
    except RuntimeDataError as exc:
        raise click.BadParameter(str(exc), param_hint="'--runtime-data'") from exc


def _qualified_name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
