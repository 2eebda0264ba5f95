"""``kedro sweep``: run a grid of runtime parameters over Dask.

Installing kedro-runtime with the ``dask`` extra makes ``kedro sweep`` available
in every project (entry point ``kedro.project_commands``). The grid file is YAML,
a mapping with exactly one of:

- ``product``: parameter name to a list of values; the grid is every combination.
- ``points``: a list of points, each a mapping with ``params`` (parameter name
  to value) and optionally ``runtime_data`` (dataset name to a file path read
  with the catalog entry's type and options, as ``kedro run --runtime-data``).

and optionally ``runtime_data`` at the top level, for every point (a point's
own entry for the same dataset wins). Parameter names may be dotted
(``discount.rate``), as in ``--runtime-params``.
"""

from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import yaml
from kedro.framework.cli.utils import CONTEXT_SETTINGS
from kedro.framework.startup import ProjectMetadata

from . import KedroSession, RunRequest, generate_run_id

GRID_EXAMPLE = """\
product:
  factor: [1.0, 1.5]
  discount.rate: [0.0, 0.1]"""

SCALARS = (str, int, float, bool, type(None))


@click.group(name="kedro")
def commands() -> None:
    """Commands from kedro-runtime's Dask scale-out."""


@commands.command(name="sweep", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--grid",
    "grid_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML grid: `product` (name to list of values) or `points` (a list).",
)
@click.option("--scheduler", default=None, help="Address of a Dask scheduler.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of a local cluster (default: one per CPU).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file (or .parquet) to write, one row per point, as runs complete.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Keep the --output file's ok rows; run its failed and missing points.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Runs per Dask task (default: sized from measured run times).",
)
@click.option(
    "--verbose-workers",
    is_flag=True,
    help="Show the workers' INFO line per run (default: warnings only).",
)
@click.option("--env", "-e", default=None, help="Kedro configuration environment.")
@click.option("--pipeline", "-p", default=None, help="Pipeline to run.")
@click.option("--conf-source", default=None, help="Path of the configuration.")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option(
    "--node-cache",
    is_flag=True,
    help="Give each worker's session a node cache: points that share early "
    "work reuse it on the same worker (docs/node-cache.md).",
)
@click.pass_obj
def sweep(
    metadata: ProjectMetadata,
    /,
    grid_file: Path,
    scheduler: str | None,
    workers: int | None,
    output: Path | None,
    resume: bool,
    batch_size: int | None,
    verbose_workers: bool,
    env: str | None,
    pipeline: str | None,
    conf_source: str | None,
    no_progress: bool,
    node_cache: bool,
) -> None:
    """Run the project once per point of a parameter grid, over Dask.

    Each Dask worker keeps one warm kedro-runtime session. Rows are appended to
    --output as runs complete, and put in grid order at the end; --resume runs
    only the points without an ok row. Exits with status 1, naming the failed
    points, if any run failed.

    \b
    Example grid.yml:
      product:
        factor: [1.0, 1.5]
        discount.rate: [0.0, 0.1]
    """
    try:
        from .dask import iter_run_many  # noqa: PLC0415
        from .dask._sweep_file import (  # noqa: PLC0415
            FIXED,
            ResumePlan,
            RowWriter,
            point_keys,
        )
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise click.ClickException(
            "`kedro sweep` needs Dask (the `dask` extra). From the root of a "
            'kedro-runtime clone, install it with: pip install -e ".[dask]"'
        ) from exc
    _check_options(scheduler, workers, output, resume)
    points = read_grid(grid_file)
    keys = point_keys(points)
    plan = _plan(output, keys) if resume and output else ResumePlan()
    project_path = metadata.project_path
    requests = _requests(project_path, points, env, conf_source, pipeline)
    columns = _columns(points, FIXED)
    writer = RowWriter(output, columns, plan.kept, _values(points)) if output else None
    run = functools.partial(
        iter_run_many,
        project_path,
        requests,
        env=env,
        conf_source=conf_source,
        progress=not no_progress,
        batch_size=batch_size,
        skip=plan.skip,
        worker_logs="info" if verbose_workers else "warning",
        node_cache=node_cache,
    )
    with _client(scheduler, workers) as client:
        done, failed = _write_results(run(client=client), points, keys, writer)
    click.echo(f"{done} runs, {len(failed)} failed.")
    if failed:
        click.echo("Failed points:", err=True)
        for index, error in sorted(failed):
            click.echo(f"  {index}: {_describe(points[index])}: {error}", err=True)
        sys.exit(1)


def _write_results(
    results: Iterable[Any],
    points: list[dict[str, Any]],
    keys: list[str],
    writer: Any,
) -> tuple[int, list[tuple[int, str]]]:
    """Write each result's row as it arrives; the runs done and the failed ones.

    The writer is closed however the loop ends; the rows are put in grid order
    only when every result has arrived.
    """
    failed: list[tuple[int, str]] = []
    done = 0
    finished = False
    try:
        for result in results:
            done += 1
            if writer:
                writer.write(_row(points[result.index], keys[result.index], result))
            if result.error:
                failed.append((result.index, str(result.error)))
        finished = True
    finally:
        if writer:
            writer.close(keys if finished else None)
    return done, failed


def _plan(output: Path, keys: list[str]) -> Any:
    """Read the output file to resume, and say what the sweep keeps and runs."""
    from .dask._sweep_file import plan_resume  # noqa: PLC0415

    try:
        plan = plan_resume(output, keys)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(plan.report())
    return plan


def _check_options(
    scheduler: str | None, workers: int | None, output: Path | None, resume: bool
) -> None:
    if scheduler and workers:
        raise click.UsageError("give --scheduler or --workers, not both.")
    if resume and not output:
        raise click.UsageError("--resume needs --output, the file to resume.")
    if output and output.suffix.lower() in {".parquet", ".pq"}:
        try:
            import pyarrow  # noqa: F401, PLC0415
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise click.ClickException(
                "A Parquet --output needs pyarrow: pip install pyarrow, or write "
                "a .csv file."
            ) from exc


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A scheduler address, a client of a local cluster of N workers, or None."""
    if not workers:
        yield scheduler
        return
    from .dask import local_cluster  # noqa: PLC0415

    with local_cluster(workers) as client:
        yield client


def _grid_error(file: Path, problem: str) -> click.BadParameter:
    return click.BadParameter(
        f"{file}: {problem}. A grid is a mapping with `product` or `points`, "
        f"e.g.\n{GRID_EXAMPLE}",
        param_hint="'--grid'",
    )


def read_grid(file: Path) -> list[dict[str, Any]]:
    """The points of a grid file.

    Args:
        file: The YAML grid file.

    Returns:
        One ``{"params": ..., "runtime_data": ...}`` per point, in file order
        (for ``product``, the last parameter varies fastest).

    Raises:
        click.BadParameter: If the file is not YAML or not a grid as described
            in this module's docstring.
    """
    try:
        grid = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _grid_error(file, f"not valid YAML ({exc})") from exc
    if not isinstance(grid, Mapping):
        raise _grid_error(file, f"the file holds a {type(grid).__name__}")
    unknown = sorted(set(map(str, grid)) - {"product", "points", "runtime_data"})
    if unknown or ("product" in grid) == ("points" in grid):
        raise _grid_error(
            file,
            f"unknown keys {unknown}"
            if unknown
            else "give exactly one of `product` and `points`",
        )
    shared = _names_to(file, grid.get("runtime_data") or {}, "runtime_data", str)
    if "product" in grid:
        axes = _names_to(file, grid["product"], "product", list)
        if not axes or any(not values for values in axes.values()):
            raise _grid_error(file, "`product` needs a non-empty list per parameter")
        combos = itertools.product(*axes.values())
        return [
            {
                "params": dict(zip(axes, combo, strict=True)),
                "runtime_data": dict(shared),
            }
            for combo in combos
        ]
    if not isinstance(grid["points"], list) or not grid["points"]:
        raise _grid_error(file, "`points` must be a non-empty list")
    points = []
    for number, point in enumerate(grid["points"]):
        where = f"point {number}"
        if not isinstance(point, Mapping) or set(point) - {"params", "runtime_data"}:
            raise _grid_error(
                file, f"{where} must be a mapping with `params` and `runtime_data`"
            )
        params = _names_to(file, point.get("params") or {}, f"{where} params", object)
        data = _names_to(file, point.get("runtime_data") or {}, where, str)
        points.append({"params": params, "runtime_data": {**shared, **data}})
    return points


def _names_to(file: Path, value: object, where: str, kind: type) -> dict[str, Any]:
    """A mapping of names to values of ``kind``, or a grid error saying why not."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _grid_error(file, f"{where} must map names to values")
    wrong = [k for k, v in value.items() if not isinstance(v, kind)]
    if wrong:
        raise _grid_error(file, f"{where}: {wrong} must be of type {kind.__name__}")
    return dict(value)


def _requests(
    project_path: Path,
    points: list[dict[str, Any]],
    env: str | None,
    conf_source: str | None,
    pipeline: str | None,
) -> list[RunRequest]:
    """One run request per point; data paths become catalog datasets."""
    catalog: Any = None
    if any(point["runtime_data"] for point in points):
        from .cli import runtime_datasets  # noqa: PLC0415

        session = KedroSession.create(project_path, env=env, conf_source=conf_source)
        try:
            # Only the swept pipeline is loaded, as a run of it would.
            catalog = session.base_catalog([pipeline or "__default__"])
        finally:
            session.close()
    return [
        RunRequest(
            pipeline_names=[pipeline] if pipeline else None,
            runtime_params=point["params"],
            runtime_data=(
                runtime_datasets(catalog, point["runtime_data"], {}, generate_run_id())
                if point["runtime_data"]
                else None
            ),
        )
        for point in points
    ]


def _columns(points: list[dict[str, Any]], fixed: Sequence[str]) -> list[str]:
    """The columns known before any run: parameters, data paths, ``fixed``."""
    params = [k for point in points for k in point["params"]]
    data = [f"data:{k}" for point in points for k in point["runtime_data"]]
    return list(dict.fromkeys([*params, *data, *fixed]))


def _values(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each point's parameter and data columns, as in its row."""
    return [
        {
            **point["params"],
            **{f"data:{k}": v for k, v in point["runtime_data"].items()},
        }
        for point in points
    ]


def _row(point: Mapping[str, Any], key: str, result: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(point["params"])
    row.update({f"data:{k}": v for k, v in point["runtime_data"].items()})
    row.update(
        point=key,
        run_id=result.run_id,
        status="failed" if result.error else "ok",
        duration_s=round(result.duration, 6),
        error=str(result.error) if result.error else "",
    )
    row.update({k: v for k, v in result.outputs.items() if isinstance(v, SCALARS)})
    return row


def _describe(point: Mapping[str, Any]) -> str:
    parts = [f"{k}={v!r}" for k, v in point["params"].items()]
    parts += [f"{k}={v}" for k, v in point["runtime_data"].items()]
    return ", ".join(parts) or "(no parameters)"
