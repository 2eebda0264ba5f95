"""Differences from Kedro that docs/guarantees.md lists and no other test pins."""

from __future__ import annotations

from kedro.framework.project import settings

from kedro_runtime import KedroSession


def test_load_context_returns_a_generated_subclass_of_context_class(
    session: KedroSession,
) -> None:
    context = session.load_context()
    assert type(context) is not settings.CONTEXT_CLASS
    assert isinstance(context, settings.CONTEXT_CLASS)
    assert type(context).__name__ == settings.CONTEXT_CLASS.__name__
    # Kedro's context builds a new catalog on every read; this one is the session's.
    assert context.catalog is context.catalog
