"""The subprocess side of the benchmark (started by ``benchmarks/run.py``).

``python benchworker.py cold --kind KIND --project PATH``
    One cold start in this fresh process: ``bootstrap_project`` + session create
    + first run of a request, for KIND in ``kedro_session``, ``service_session``,
    ``kedro_runtime`` or ``kedro_boot``. Prints one JSON line.

``python benchworker.py serve-boot --project PATH``
    Boots a kedro-boot session and then answers JSON commands read from stdin, one
    per line (``{"cmd": "run", "start": 0, "n": 20, "logging": "lean"}``,
    ``{"cmd": "quit"}``) with one JSON line each. kedro-boot lives in its own
    virtualenv, so the driver measures it through this server, block by block,
    between its own in-process blocks.

Only kedro, pandas, kedro-boot (for ``kedro_boot``) and kedro-runtime (for
``kedro_runtime``) are imported, so the same file runs in either virtualenv. The
protocol goes to a duplicate of the original stdout; the process's own stdout is
sent to ``/dev/null`` so that Kedro's default (rich) logging cannot corrupt it.
"""

# Imports sit inside the functions on purpose: the same file runs in two
# virtualenvs (kedro-runtime's, kedro-boot's), and cold starts time the imports.
# ruff: noqa: PLC0415
from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import IO, Any  # noqa: E402

os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"

KINDS = ("kedro_session", "service_session", "kedro_runtime", "kedro_boot")
BOOT_PARAMETERS = ["factor", "scale"]


def _protocol_channel() -> IO[str]:
    """A text stream on the original stdout; stdout itself goes to /dev/null."""
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")
    return proto


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _boot_session(project: Path) -> Any:
    from kedro_boot.app.booter import boot_project
    from kedro_boot.framework.compiler.specs import CompilationSpec

    return boot_project(
        project_path=project,
        compilation_specs=[
            CompilationSpec(inputs=["orders"], parameters=BOOT_PARAMETERS)
        ],
        kedro_args={"pipeline": "__default__"},
    )


def _boot_request(session: Any, request: Any, factor: float) -> tuple[Any, Any]:
    # kedro-boot replaces parameter datasets; it does not re-resolve `scale:
    # ${factor}`, so the request sends both to compute the same result.
    out = session.run(
        inputs={"orders": request},
        parameters={"factor": factor, "scale": factor},
    )
    return out["summary"], out["kpis"]


def cold(kind: str, project: Path, proto: IO[str]) -> None:
    """Import, then time bootstrap + create + first run of one session type."""
    import benchlogging
    import benchproject
    from kedro.framework.startup import bootstrap_project

    if kind == "kedro_runtime":
        from kedro_runtime import KedroSession as RuntimeSession
    elif kind == "kedro_boot":
        import kedro_boot.app.booter  # noqa: F401
    elif kind == "service_session":
        from kedro.framework.session.service_session import KedroServiceSession
    else:
        from kedro.framework.session import KedroSession
    request = benchproject.make_orders(seed=100)
    factor = benchproject.factor_for(1)
    benchlogging.apply("lean")
    imported = time.perf_counter()

    if kind == "kedro_boot":
        session = _boot_session(project)  # bootstrap_project + create
        created = time.perf_counter()
        summary, kpis = _boot_request(session, request, factor)
    else:
        bootstrap_project(project)
        hooks = __import__(f"{benchproject.PACKAGE}.hooks", fromlist=["PENDING"])
        if kind == "kedro_runtime":
            session = RuntimeSession.create(project)
            created = time.perf_counter()
            out = session.run(
                runtime_data={"orders": request}, runtime_params={"factor": factor}
            )
        elif kind == "service_session":
            session = KedroServiceSession.create(
                project_path=project, serving_mode=True
            )
            created = time.perf_counter()
            hooks.PENDING["orders"] = request
            out = session.run(runtime_params={"factor": factor})
        else:
            session = KedroSession.create(project, runtime_params={"factor": factor})
            created = time.perf_counter()
            hooks.PENDING["orders"] = request
            out = session.run()
            session.close()
        summary, kpis = out["summary"].load(), out["kpis"].load()
    done = time.perf_counter()
    proto.write(
        json.dumps(
            {
                "kind": kind,
                "import_s": imported - _T0,
                "create_s": created - imported,
                "first_run_s": done - created,
                "cold_s": done - imported,
                "rss_mib": _rss_bytes() / 2**20,
                "fingerprint": benchproject.fingerprint(summary, kpis),
            }
        )
        + "\n"
    )


def serve_boot(project: Path, proto: IO[str]) -> None:
    """kedro-boot request server for the driver's interleaved blocks."""
    import benchlogging
    import benchproject
    import kedro_boot

    benchlogging.remember_default()
    benchlogging.apply("lean")
    requests = benchproject.load_requests(project)
    started = time.perf_counter()
    session = _boot_session(project)
    hooks = __import__(f"{benchproject.PACKAGE}.hooks", fromlist=["COUNTS"])
    summary, kpis = _boot_request(session, requests[0], benchproject.factor_for(0))
    from importlib.metadata import version

    proto.write(
        json.dumps(
            {
                "ready": True,
                "boot_s": time.perf_counter() - started,
                "kedro_boot": getattr(kedro_boot, "__version__", None)
                or version("kedro-boot"),
                "kedro": version("kedro"),
                "fingerprint": benchproject.fingerprint(summary, kpis),
            }
        )
        + "\n"
    )
    mode = "lean"
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "rss":
            proto.write(json.dumps({"rss_bytes": _rss_bytes()}) + "\n")
            continue
        wanted = command.get("logging", "lean")
        if wanted != mode:
            benchlogging.apply(wanted)
            mode = wanted
        before = dict(hooks.COUNTS)
        times = []
        for number in range(command["start"], command["start"] + command["n"]):
            request = requests[number % len(requests)]
            factor = benchproject.factor_for(number)
            tick = time.perf_counter()
            summary, kpis = _boot_request(session, request, factor)
            times.append(time.perf_counter() - tick)
        fired = {key: hooks.COUNTS[key] - before[key] for key in hooks.COUNTS}
        proto.write(json.dumps({"times": times, "hooks": fired}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["cold", "serve-boot"])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--kind", choices=KINDS)
    args = parser.parse_args()
    proto = _protocol_channel()
    if args.command == "cold":
        cold(args.kind, args.project, proto)
    else:
        serve_boot(args.project, proto)


if __name__ == "__main__":
    main()
