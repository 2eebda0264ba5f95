"""The context a kedro-runtime session gives out: its ``catalog`` is the session's.

Kedro's ``KedroContext.catalog`` builds a new catalog from config on every read
and fires ``after_catalog_created`` each time. Kedro's IPython extension reads
``context.catalog`` right after ``session.load_context()``, so a notebook would
get a catalog that is not the one the session runs over, and the catalog hooks
would fire once for it and once more for the session's own. A kedro-runtime
session therefore builds its context from a subclass of
``settings.CONTEXT_CLASS`` (Kedro's documented way to customise the context)
whose ``catalog`` is the session's base catalog, built once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from kedro.framework.context import KedroContext
from kedro.io import CatalogProtocol

CATALOG_PROVIDER = "_kedro_runtime_catalog"
"""Attribute of a context that holds the function giving the session's catalog."""


@functools.cache
def session_context_class(base: type[KedroContext]) -> type[KedroContext]:
    """A subclass of ``base`` whose ``catalog`` is given by its session.

    The subclass keeps the name of ``base``; everything but ``catalog`` is
    inherited. A context of it that was not given a catalog provider (see
    :func:`new_session_context`) behaves as ``base``.

    Args:
        base: The project's ``settings.CONTEXT_CLASS``.

    Returns:
        The subclass, the same object for the same ``base`` (cached by
        ``functools.cache``; two first calls at once may each make one, and
        either works).
    """
    return _make_subclass(base)


def _make_subclass(base: type[KedroContext]) -> type[KedroContext]:
    def catalog(self: KedroContext) -> CatalogProtocol:
        provider = self.__dict__.get(CATALOG_PROVIDER)
        if provider is None:
            parent: Any = super(subclass, self)
            return cast("CatalogProtocol", parent.catalog)
        return cast("CatalogProtocol", provider())

    subclass = cast(
        "type[KedroContext]",
        type(
            base.__name__,
            (base,),
            {
                "__module__": base.__module__,
                "__qualname__": base.__qualname__,
                "__doc__": base.__doc__,
                "catalog": property(
                    catalog,
                    doc="The session's base catalog: built once, shared by every "
                    "run (each run layers its own data over it).",
                ),
            },
        ),
    )
    return subclass


def new_session_context(
    base: type[KedroContext],
    catalog_provider: Callable[[], CatalogProtocol],
    **kwargs: Any,
) -> KedroContext:
    """Create a context of ``session_context_class(base)``.

    Args:
        base: The project's ``settings.CONTEXT_CLASS``.
        catalog_provider: Gives the catalog that ``context.catalog`` returns.
        **kwargs: The arguments of ``base`` (``package_name``,
            ``project_path``, ``config_loader``, ``env``, ``runtime_params``,
            ``hook_manager``).

    Returns:
        The new context. No hook has fired for it yet.
    """
    # A class is hashable; mypy reads the hash of KedroContext's instances.
    context = session_context_class(base)(**kwargs)  # type: ignore[arg-type]
    setattr(context, CATALOG_PROVIDER, catalog_provider)
    return context
