"""``DesignPool``: candidates that are real vectors (process settings, compositions, …)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._base import Pool, check_unique_ids
from ._io import read_csv

__all__ = ["DesignPool"]


class DesignPool(Pool):
    """Design vectors, shape (n, d). Forms: ``"vector"`` ((k, d) float array) and ``"id"``.

    ``X`` may be a read-only memory map (``.npy`` pools are opened with ``mmap_mode="r"``), so
    chunks are read from disk as they are asked for.
    """

    kind = "designs"
    forms = ("vector",)

    def __init__(self, X: np.ndarray, ids: Sequence[str] | None = None,
                 feature_names: Sequence[str] | None = None, simulator_input: str = "vector",
                 source: str = "design pool") -> None:
        X = X if isinstance(X, np.memmap) else np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] == 0:
            raise ValueError(f"{source}: designs must be a 2-D table (n, d), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{source}: the pool is empty (no candidates found)")
        self.X = X
        self._ids = [str(i) for i in range(X.shape[0])] if ids is None else list(ids)
        if len(self._ids) != X.shape[0]:
            raise ValueError(f"{source}: {len(self._ids)} ids for {X.shape[0]} designs")
        if ids is not None:
            self._id_index = check_unique_ids(self._ids, source)
        self.feature_names = None if feature_names is None else list(feature_names)
        self.simulator_input = simulator_input

    @classmethod
    def from_file(cls, path: str | os.PathLike, fmt: str | None = None,
                  id_column: str | None = None, feature_columns: Sequence[str] | None = None,
                  simulator_input: str = "vector") -> DesignPool:
        """Read a CSV (features: ``feature_columns`` or every column but the id) or an NPY
        array (ids ``"0" … "n-1"``, memory-mapped)."""
        path = Path(path)
        fmt = fmt or ("npy" if path.suffix == ".npy" else "csv")
        if fmt == "npy":
            try:
                X = np.load(path, mmap_mode="r", allow_pickle=False)
            except ValueError as exc:
                raise ValueError(f"{path}: not a numeric .npy array ({exc})") from None
            if not np.issubdtype(X.dtype, np.number):
                raise ValueError(f"{path}: the array holds {X.dtype}, not numbers")
            return cls(X, None, simulator_input=simulator_input, source=str(path))
        frame = read_csv(path, None)
        for col in [id_column, *(feature_columns or ())]:
            if col is not None and col not in frame.columns:
                raise ValueError(f"{path}: no column {col!r}; columns are "
                                 f"{', '.join(map(str, frame.columns))}")
        names = list(feature_columns or [c for c in frame.columns if c != id_column])
        X = np.empty((len(frame), len(names)), dtype=float)
        for j, col in enumerate(names):
            for i, cell in enumerate(frame[col].tolist()):
                try:
                    X[i, j] = float(cell)
                except (TypeError, ValueError):
                    raise ValueError(f"{path}: data row {i} (0-based), column {col!r}: "
                                     f"{cell!r} is not a number") from None
        bad = np.argwhere(~np.isfinite(X))
        if bad.size:
            i, j = bad[0]
            raise ValueError(f"{path}: data row {i} (0-based), column {names[j]!r} is not finite")
        ids = frame[id_column].astype(str).tolist() if id_column else None
        return cls(X, ids, names, simulator_input=simulator_input, source=str(path))

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def ids(self) -> Sequence[str]:
        return self._ids

    def index_of(self, ident: str) -> int:
        if "_id_index" not in self.__dict__ and isinstance(ident, str) and ident.isdigit() \
                and int(ident) < len(self) and str(int(ident)) == ident:
            return int(ident)  # default ids are the positions: no table needed
        return super().index_of(ident)

    def _get(self, indices: np.ndarray, form: str) -> Any:
        return np.asarray(self.X[indices], dtype=float)
