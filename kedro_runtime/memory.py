"""The ``MemoryDataset`` a run makes for its intermediate data.

A run gets a dataset from the catalog's runtime pattern for every dataset that no
catalog entry declares. Kedro's ``MemoryDataset`` without a ``copy_mode`` works
the mode out from the data on every save and every load, and each time tries to
import its optional libraries: when ``ibis`` is not installed, that is a failed
import, a search of ``sys.path`` (about 90 µs on the benchmark machine), 16 times
in a run of the benchmark project. :class:`RunMemoryDataset` copies exactly as
Kedro's would, with the mode worked out once per type of data (Kedro's rule
looks at the type only).
"""

from __future__ import annotations

import weakref
from typing import Any

from kedro.io import DatasetError, MemoryDataset

from . import _kedro_private as private

_MODES: weakref.WeakKeyDictionary[type, str] = weakref.WeakKeyDictionary()
_NOTHING = object()


def copy_mode_of(data: Any) -> str:
    """The copy mode Kedro's ``MemoryDataset`` would infer for ``data``.

    Args:
        data: The data.

    Returns:
        ``"copy"``, ``"assign"`` or ``"deepcopy"``.
    """
    kind = type(data)
    mode = _MODES.get(kind)
    if mode is None:
        mode = _MODES[kind] = private.infer_copy_mode(data)
    return mode


class RunMemoryDataset(MemoryDataset):
    """Kedro's ``MemoryDataset``, inferring its copy mode once per type of data.

    The runtime pattern of a run's catalog makes these; each is a
    ``MemoryDataset`` for Kedro's runner and for hooks (``isinstance``).
    """

    def __init__(
        self, copy_mode: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        """Make an empty dataset.

        Args:
            copy_mode: ``"copy"``, ``"assign"`` or ``"deepcopy"``; ``None``
                infers it from the data, as Kedro's ``MemoryDataset`` does.
            metadata: Free-form metadata, as Kedro's.
        """
        super().__init__(copy_mode=copy_mode, metadata=metadata)  # type: ignore[arg-type]
        self._given_mode = copy_mode
        self._value: Any = _NOTHING

    def _load(self) -> Any:
        if self._value is _NOTHING:
            raise DatasetError("Data for MemoryDataset has not been saved yet.")
        return private.copy_with_mode(
            self._value, self._given_mode or copy_mode_of(self._value)
        )

    def _save(self, data: Any) -> None:
        self._value = private.copy_with_mode(
            data, self._given_mode or copy_mode_of(data)
        )

    def _exists(self) -> bool:
        return self._value is not _NOTHING

    def _release(self) -> None:
        self._value = _NOTHING

    def _describe(self) -> dict[str, Any]:
        if self._value is _NOTHING:
            return {"data": None}
        return {"data": f"<{type(self._value).__name__}>"}
