"""Errors raised by kedro-runtime. Each message says what was wrong and what to do.

Every error the package raises on its own account is a :class:`KedroRuntimeError`,
and also an instance of the class it derived from before that base existed, so an
``except`` clause written for those keeps catching it. A wrong value raises one of
the classes below, which are ``ValueError`` s (``CatalogOverrideError`` is Kedro's
``DatasetError``, ``RunOptionError`` Kedro's ``KedroCliError``); a value of the
wrong type raises its ``...TypeError`` subclass, which is also a ``TypeError``.
The server's and Dask's errors live in :mod:`kedro_runtime.server` and
:mod:`kedro_runtime.dask`, and derive from :class:`KedroRuntimeError` too.
"""

from __future__ import annotations

from typing import Any

import click
from kedro.framework.cli.utils import KedroCliError
from kedro.framework.session.abstract_session import KedroSessionError
from kedro.io.core import DatasetError


class KedroRuntimeError(Exception):
    """The base of every error kedro-runtime raises on its own account.

    ``except KedroRuntimeError`` catches what the package refuses (a bad
    argument, option or request), and not the errors Kedro raises, nor those of
    a failing node.
    """


class RuntimeDataError(KedroRuntimeError, KedroSessionError, ValueError):
    """``runtime_data`` names a dataset that cannot be injected into this run."""


class RuntimeDataTypeError(RuntimeDataError, TypeError):
    """``runtime_data`` is not a mapping of dataset names (str)."""


class RuntimeParamsError(KedroRuntimeError, KedroSessionError, ValueError):
    """``runtime_params`` (or the deprecated ``extra_params``) is not usable."""


class RuntimeParamsTypeError(RuntimeParamsError, TypeError):
    """``runtime_params`` is not a mapping, or a key is not a string."""


class UnreadRuntimeParamsError(RuntimeParamsError):
    """A runtime param that no parameter, catalog entry or credential reads.

    Raised instead of a warning by a session created with
    ``strict_runtime_params=True`` (the server's sessions); see
    :mod:`kedro_runtime.typos`.
    """


class RunIdError(KedroRuntimeError, KedroSessionError, ValueError):
    """A ``run_id`` is not a valid dataset version or was already used."""


class RunIdTypeError(RunIdError, TypeError):
    """A ``run_id`` is not a string."""


class CatalogOverrideError(KedroRuntimeError, DatasetError):
    """An override given to :func:`kedro_runtime.override_catalog` is not usable."""


class UntrustedParamsError(RuntimeParamsError, ValueError):
    """An untrusted caller's ``runtime_params`` do what the session does not allow.

    Raised by a session created with ``untrusted_runtime_params=True`` when a
    value holds an interpolation, or sets a catalog runtime param the project
    does not allow, or to a value its rule refuses.
    """


class UntrustedParamsTypeError(UntrustedParamsError, TypeError):
    """An untrusted caller gave a catalog runtime param a value of the wrong type."""


class UntrustedLoadVersionsError(KedroRuntimeError, KedroSessionError, ValueError):
    """An untrusted caller gave ``load_versions``, which the project does not allow.

    A version is not private to the caller who saved it: with ``load_versions``
    a caller reads what another caller's run saved. Projects that want it set
    ``ALLOW_UNTRUSTED_LOAD_VERSIONS = True`` in ``settings.py``.
    """


class RunTimeoutError(KedroRuntimeError, TimeoutError):
    """A run took longer than its ``timeout``: stopped before its next node."""


class PreloadError(KedroRuntimeError, KedroSessionError, ValueError):
    """A dataset asked to be preloaded cannot be: not a read-only catalog input."""


class PreloadTypeError(PreloadError, TypeError):
    """``preload`` is not a bool or a list of dataset names."""


class SharedFileError(KedroRuntimeError, KedroSessionError, ValueError):
    """A run would save (or read) a file that a run in flight saves.

    Raised before the run starts by a session created with
    ``shared_files="error"``.
    """


class SettingsError(KedroRuntimeError, ValueError):
    """A kedro-runtime setting in the project's ``settings.py`` is not usable."""


class SettingsTypeError(SettingsError, TypeError):
    """A kedro-runtime setting in the project's ``settings.py`` has the wrong type."""


class RunOptionError(KedroRuntimeError, KedroCliError):
    """Options of ``kedro run`` that cannot be used together, or a bad key.

    A ``KedroCliError`` (exit code 1, as Kedro's own command) that prints its
    message as ``Error: ...``, without a traceback.
    """

    def show(self, file: Any = None) -> None:
        """Print the message to stderr (or ``file``).

        Args:
            file: Where to print; stderr by default.
        """
        click.secho(f"Error: {self.format_message()}", file=file, err=True, fg="red")


class NestedRunError(KedroRuntimeError, KedroSessionError, RuntimeError):
    """A run started from inside a run of the same session would wait for it.

    Raised before the run starts, instead of waiting forever: by the session's
    turns (a node in a ``ThreadRunner`` worker runs its own session while its
    run holds the session's turn) and by its shared files (a nested run shares
    a non-versioned file with the run it was started from).
    """
