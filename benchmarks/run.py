"""kedro-runtime benchmark: one process, every way to serve a Kedro pipeline.

Run it with ``make bench`` (or ``python benchmarks/run.py [--quick] [--publish]``).

The script writes its own Kedro project to a temporary directory (see
``benchproject.py``: seven pandas nodes, a CSV reference table, 22 parameters),
then measures, in one invocation and interleaved (round-robin, block by block,
with the path order rotated every round so machine noise hits every path alike):

1. ``kedro_session``: a new Kedro ``KedroSession`` + ``run()`` per request. Kedro
   has no data argument, so the request's DataFrame reaches the run the fairest
   way Kedro allows: an ``after_catalog_created`` hook registered in the
   project's ``settings.py`` puts it in the catalog as a ``MemoryDataset``
   (writing a CSV per request would add disk I/O that no other path pays).
2. ``service_session``: one Kedro ``KedroServiceSession`` (serving mode),
   ``run()`` per request; data through the same hook.
3. ``kedro_boot``: kedro-boot's ``session.run(inputs=..., parameters=...)``, in a
   virtualenv the script creates, measured through a subprocess that answers
   block by block (skipped, with the reason, if it cannot be installed).
4. ``bare_runner``: a ``SequentialRunner`` over a catalog prepared once.
5. ``direct``: the node functions called one after the other (the floor).
6. ``kedro_runtime``: warm ``session.run(runtime_data=..., runtime_params=...)``;
   and 4 threads on one session (throughput in runs/s).
7. every path above with Kedro's default logging and with a lean setup.

Paths marked ``(ref in memory)`` keep the ``products`` reference table in memory
instead of reading its CSV per request (kedro-boot does this by itself: it
preloads "artifact" datasets at start-up).

Also: cold start (bootstrap + create + first run, each in a fresh process) per
session type; RSS growth over 10,000 warm kedro-runtime runs; and warm run time
with 10, 100 and 1,000 catalog entries.

Outputs: a table on stdout, ``benchmarks/results/latest.json`` (git-ignored) and
``benchmarks/results/latency.png``; with ``--publish`` also
``docs/benchmarks.json`` and ``docs/img/latency.png``.

This file only drives the run; each job lives beside it:

- ``benchproject.py``: writes the project, the request batches, the node chain;
- ``benchpaths.py``: the paths measured in this process;
- ``benchboot.py``: the kedro-boot path (its virtualenv and worker process);
- ``benchworker.py``: the subprocess side (cold starts, the kedro-boot worker);
- ``benchmeasure.py``: how each thing is measured, and the statistics;
- ``benchreport.py``: the table, the targets, the JSON and the chart;
- ``benchlogging.py``: the two logging setups compared, and progress lines.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Importing kedro.framework.project applies Kedro's default logging and logs one
# INFO line to stdout: send it to stderr so that stdout carries only the table.
with contextlib.redirect_stdout(sys.stderr):
    import kedro.framework.project  # noqa: F401

import benchlogging  # noqa: E402
import benchmeasure  # noqa: E402
import benchproject  # noqa: E402
import benchreport  # noqa: E402
from benchboot import BootPath, start_boot  # noqa: E402
from benchlogging import say, silenced  # noqa: E402
from benchmeasure import Config, Series  # noqa: E402
from benchpaths import Bench, InProcessPath  # noqa: E402

RESULTS = benchreport.RESULTS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="kedro-runtime benchmark")
    parser.add_argument(
        "--quick", action="store_true", help="few iterations: check that it all works"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also write docs/benchmarks.json and docs/img/latency.png",
    )
    parser.add_argument("--no-boot", action="store_true", help="skip kedro-boot")
    parser.add_argument(
        "--fresh-boot-venv",
        action="store_true",
        help="recreate the kedro-boot virtualenv",
    )
    parser.add_argument("--boot-venv", type=Path, default=RESULTS / ".venv-kedro-boot")
    parser.add_argument(
        "--keep-project",
        action="store_true",
        help="do not delete the temporary project",
    )
    return parser.parse_args(argv)


def check_agreement(paths: list[Any], boot: BootPath | None) -> dict[str, str]:
    """The digest of request 0 through every path; warn when they differ."""
    fingerprints = {
        path.key: benchproject.fingerprint(*path.request(0))
        for path in paths
        if isinstance(path, InProcessPath)
    }
    if boot is not None:
        fingerprints["kedro_boot"] = boot.info["fingerprint"]
    if len(set(fingerprints.values())) != 1:
        say(f"WARNING: paths disagree on the result of request 0: {fingerprints}")
    return fingerprints


def measure_in_process(
    project: Path, config: Config, boot: BootPath | None, results: dict[str, Any]
) -> dict[str, dict[str, Series]]:
    """Latency (kedro-boot included), threads, catalog size and RSS, into ``results``.

    Closes the kedro-boot worker once latency is measured; returns the latency
    samples, for the chart.
    """
    with silenced():
        bench = Bench(project)
        paths: list[Any] = list(bench.paths())
        if boot is not None:
            paths.append(boot)
        results["fingerprints"] = check_agreement(paths, boot)
        say("latency: interleaved blocks over " + ", ".join(p.key for p in paths))
        series = benchmeasure.interleaved(paths, config, benchlogging.MODES)
        results["latency"] = benchmeasure.latency(series)
        if boot is not None:
            boot.close()
        say("throughput: 1 vs 4 threads on one kedro-runtime session")
        results["threads"] = benchmeasure.threads(bench, config)
        say("catalog size: 10 / 100 / 1,000 entries")
        results["catalog"] = benchmeasure.catalog_growth(bench, config)
        say(f"memory: RSS over {config.rss_runs:,} warm kedro-runtime runs")
        results["rss"] = benchmeasure.rss_growth(bench, config)
    return series


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = Config.make(args.quick)
    started = time.perf_counter()
    load_before = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="kedro-runtime-bench-"))
    project = benchproject.write_project(workdir)
    say(
        f"benchmark project written to {project} ({'quick' if config.quick else 'full'} run)"
    )
    results: dict[str, Any] = {"quick": config.quick, "config": config.__dict__}
    boot: BootPath | None = None
    boot_python: Path | None = None
    try:
        if args.no_boot:
            results["kedro_boot"] = {"skipped": "--no-boot"}
        else:
            boot, boot_python, results["kedro_boot"] = start_boot(
                args.boot_venv,
                args.fresh_boot_venv,
                project,
                RESULTS / "kedro-boot-worker.log",
            )
        series = measure_in_process(project, config, boot, results)
        say("cold starts: fresh processes")
        results["cold_start"] = benchmeasure.cold_starts(project, config, boot_python)
    finally:
        if boot is not None:
            boot.close()
        if args.keep_project:
            say(f"project kept at {project}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["environment"] = benchmeasure.environment(started, load_before)
    benchreport.summarise(results)
    benchreport.write(results, series, args.publish)
    return 0


if __name__ == "__main__":
    sys.exit(main())
