"""Errors raised by kedro-runtime. Each message says what was wrong and what to do.

A wrong value raises one of the classes below, which are ``ValueError`` s; a
value of the wrong type raises its ``...TypeError`` subclass, which is also a
``TypeError``.
"""

from __future__ import annotations

from kedro.framework.session.abstract_session import KedroSessionError
from kedro.io.core import DatasetError


class RuntimeDataError(KedroSessionError, ValueError):
    """``runtime_data`` names a dataset that cannot be injected into this run."""


class RuntimeDataTypeError(RuntimeDataError, TypeError):
    """``runtime_data`` is not a mapping of dataset names (str)."""


class RuntimeParamsError(KedroSessionError, ValueError):
    """``runtime_params`` (or the deprecated ``extra_params``) is not usable."""


class RuntimeParamsTypeError(RuntimeParamsError, TypeError):
    """``runtime_params`` is not a mapping, or a key is not a string."""


class UnreadRuntimeParamsError(RuntimeParamsError):
    """A runtime param that no parameter, catalog entry or credential reads.

    Raised instead of a warning by a session created with
    ``strict_runtime_params=True`` (the server's sessions); see
    :mod:`kedro_runtime.typos`.
    """


class RunIdError(KedroSessionError, ValueError):
    """A ``run_id`` is not a valid dataset version or was already used."""


class RunIdTypeError(RunIdError, TypeError):
    """A ``run_id`` is not a string."""


class CatalogOverrideError(DatasetError):
    """An override given to :func:`kedro_runtime.override_catalog` is not usable."""


class UntrustedParamsError(RuntimeParamsError, ValueError):
    """An untrusted caller's ``runtime_params`` do what the session does not allow.

    Raised by a session created with ``untrusted_runtime_params=True`` when a
    value holds an interpolation, or sets a catalog runtime param the project
    does not allow, or to a value its rule refuses.
    """


class UntrustedParamsTypeError(UntrustedParamsError, TypeError):
    """An untrusted caller gave a catalog runtime param a value of the wrong type."""


class PreloadError(KedroSessionError, ValueError):
    """A dataset asked to be preloaded cannot be: not a read-only catalog input."""


class PreloadTypeError(PreloadError, TypeError):
    """``preload`` is not a bool or a list of dataset names."""
