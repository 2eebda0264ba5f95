"""Untrusted runtime params: what a web request may and may not change.

A session created with ``KedroSession.create(..., untrusted_runtime_params=True)``
treats the ``runtime_params`` of every run as coming from an untrusted caller:

- a value may not contain an OmegaConf interpolation (``${...}``), which would be
  resolved with the project's config and resolvers;
- a runtime param that catalog or credentials config reads through
  ``${runtime_params:...}`` may be given only if the project lists it in
  ``ALLOWED_CATALOG_RUNTIME_PARAMS`` in ``settings.py``;
- even an allowed one may not choose a dataset's ``type``.

Parameters (``parameters.yml``) can still be set: that is what runtime params are
for. Runtime params given to ``KedroSession.create()`` come from the
application's own code and are trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import RuntimeParamsError
from .parameters import leaves, touched_variables

ALLOWLIST_SETTING = "ALLOWED_CATALOG_RUNTIME_PARAMS"
"""The ``settings.py`` name of the runtime params untrusted callers may use in
catalog and credentials config."""


def check_untrusted_params(
    run_params: Mapping[str, Any],
    read_by_config: Mapping[str, Iterable[str]],
    allowed: Iterable[str],
) -> None:
    """Reject what an untrusted caller must not do with runtime params.

    Args:
        run_params: The run's nested runtime params.
        read_by_config: Runtime param path to the catalog and credentials
            entries that read it.
        allowed: Runtime param paths the project allows in catalog and
            credentials config.

    Raises:
        RuntimeParamsError: If a value holds an interpolation, or a param feeds
            catalog or credentials config without being allowed.
    """
    allowed = set(allowed)
    for path, value in leaves(run_params):
        if isinstance(value, str) and "${" in value:
            raise RuntimeParamsError(
                f"Runtime param '{path}' holds an interpolation ('${{...}}'), which "
                f"this session does not accept from its callers. Send plain values."
            )
        for variable in touched_variables({path: value}, read_by_config):
            entries = read_by_config[variable]
            if variable not in allowed:
                raise RuntimeParamsError(
                    f"Runtime param '{path}' would change catalog or credentials "
                    f"config ({sorted(entries)} read '${{runtime_params:{variable}}}'), "
                    f"which this session does not allow its callers to do. To allow "
                    f"it, add '{variable}' to {ALLOWLIST_SETTING} in the project's "
                    f"settings.py. Allowed now: {sorted(allowed)}."
                )
