"""The options of a session: what ``KedroSession.create`` adds to Kedro's arguments.

One value, :class:`SessionOptions`, passed explicitly: to the session's
``__init__`` (``options=``), or to ``KedroSession.create(options=...)``, which
applies it to the session Kedro's ``create`` made with Kedro's own arguments.
Each option is checked once, here, when the value is made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import preload as preloading
from . import run_logging as logmode
from . import shared_files as files


@dataclass(frozen=True)
class SessionOptions:
    """How a session treats its runs: the options ``KedroSession.create`` adds.

    Attributes:
        untrusted_runtime_params: Treat the ``runtime_params`` of every run
            as coming from an untrusted caller (a web request): they may set
            parameters, but not hold interpolations, nor change catalog or
            credentials config except where the project allows it in
            ``settings.ALLOWED_CATALOG_RUNTIME_PARAMS``, nor choose a
            dataset's ``type``.
        run_logging: ``"kedro"`` (default): runs log as Kedro's do.
            ``"summary"``: one ``INFO`` line per run, the per-node and
            per-dataset lines at ``DEBUG`` (see ``run_logging.py``).
        strict_runtime_params: Refuse runtime params (of ``create`` or of
            a run) that no parameter, catalog entry or credential reads,
            with an ``UnreadRuntimeParamsError``; by default they are
            logged as a warning (see :mod:`kedro_runtime.typos`).
        shared_files: ``"warn"``, ``"wait"`` or ``"error"``: what a run does
            when it shares a non-versioned file with a run in flight: warn
            and wait for it, wait, or refuse (see
            :mod:`kedro_runtime.shared_files`).
        preload: ``True`` loads every read-only input of the pipelines the
            runs ask for once, on ``warm_up()`` or the first run that reads
            it, and shares it with every run; a list preloads those names.
            See ``docs/web-servers.md`` (Preloading).
        node_cache: Keep the results of nodes and reuse them in later runs
            whose node code and inputs did not change (see
            ``docs/node-cache.md``).
        node_cache_max_bytes: The bound on the measured size of the results
            the node cache keeps (default 1 GiB); the least recently used go.
        shared_files_across_processes: Hold a run's non-versioned files
            against runs of other processes of the machine too (lock files;
            see :mod:`kedro_runtime.file_claims`), not only against runs of
            this session.
    """

    untrusted_runtime_params: bool = False
    run_logging: str = "kedro"
    strict_runtime_params: bool = False
    shared_files: str = "warn"
    preload: bool | Iterable[str] = False
    node_cache: bool = False
    node_cache_max_bytes: int = 1 << 30
    shared_files_across_processes: bool = False

    def __post_init__(self) -> None:
        """Check every option.

        Raises:
            TypeError: If ``untrusted_runtime_params``,
                ``strict_runtime_params``, ``node_cache`` or
                ``shared_files_across_processes`` is not a bool,
                ``node_cache_max_bytes`` not an int > 0, or ``run_logging`` or
                ``shared_files`` is not a string.
            PreloadTypeError: If ``preload`` is not a bool or a list of names.
            ValueError: If ``run_logging`` or ``shared_files`` is not one of
                its values.
        """
        set_ = object.__setattr__
        for name in (
            "untrusted_runtime_params",
            "strict_runtime_params",
            "node_cache",
            "shared_files_across_processes",
        ):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise TypeError(
                    f"`{name}` must be True or False, got {type(value).__name__} "
                    f"{value!r}."
                )
        size = self.node_cache_max_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise TypeError(f"`node_cache_max_bytes` must be an int > 0, got {size!r}.")
        set_(self, "run_logging", logmode.check_mode(self.run_logging))
        set_(self, "shared_files", files.check_mode(self.shared_files))
        set_(self, "preload", preloading.check_choice(self.preload))

    @classmethod
    def for_service(cls, **changes: Any) -> SessionOptions:
        """The options of a session that serves callers: the server and Dask workers.

        Untrusted runtime params, summary run logging, strict runtime params
        (a typo is an error, not a log line), ``shared_files="error"`` (a
        run that would share a non-versioned file with a run in flight is
        refused rather than overwrite or read another's data) and
        ``shared_files_across_processes`` (a service runs in several
        processes: the server's workers, Dask's).

        Args:
            **changes: Fields to set otherwise, e.g. ``preload=True``.

        Returns:
            The options.

        Raises:
            TypeError: If a change names no field, or has the wrong type.
            ValueError: If a change has a wrong value.
        """
        service = cls(
            untrusted_runtime_params=True,
            run_logging="summary",
            strict_runtime_params=True,
            shared_files="error",
            shared_files_across_processes=True,
        )
        return dataclasses.replace(service, **changes)

    @property
    def preload_choice(self) -> preloading.Choice:
        """``preload`` as checked: ``True``, ``False`` or a tuple of names."""
        return preloading.check_choice(self.preload)


def with_shortcuts(options: object, **shortcuts: Any) -> SessionOptions | None:
    """``create``'s ``options`` with its keyword shortcuts applied, checked.

    Args:
        options: ``create``'s ``options``: a ``SessionOptions`` or ``None``.
        **shortcuts: Field name to value; ``None`` leaves the field as it is.

    Returns:
        ``options`` (``SessionOptions()`` if ``None``) with the shortcuts
        given; ``None`` if neither ``options`` nor any shortcut was given.

    Raises:
        TypeError: If ``options`` is not a ``SessionOptions``, a shortcut
            names no field of it, or a value has the wrong type.
        ValueError: If a value is wrong.
    """
    if options is not None and not isinstance(options, SessionOptions):
        raise TypeError(
            f"`options` must be a kedro_runtime.SessionOptions, got "
            f"{type(options).__name__}."
        )
    fields = [field.name for field in dataclasses.fields(SessionOptions)]
    unknown = sorted(set(shortcuts) - set(fields))
    if unknown:
        raise TypeError(
            f"KedroSession.create() got {unknown}, which are no options; the "
            f"options (fields of SessionOptions) are {fields}."
        )
    changes = {name: value for name, value in shortcuts.items() if value is not None}
    if options is None and not changes:
        return None
    return dataclasses.replace(options or SessionOptions(), **changes)
