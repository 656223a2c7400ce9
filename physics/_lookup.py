"""Replay a table of known results (a published screen) as a simulator."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import ase
import numpy as np

from ._base import CandidateError, SimulationError, Simulator, register_simulator

__all__ = ["LookupSimulator"]

_DUPLICATES = ("error", "first", "min", "max", "mean")


@register_simulator("lookup")
class LookupSimulator(Simulator):
    """Values looked up by candidate id in a CSV (``.csv``, ``.csv.gz``) or Parquet table.

    The answers stay inside the simulator: the table is held in a private attribute, ``repr``
    shows only its size, and the only way to read all of it is :meth:`truth`, which exists for
    benchmarks that score a campaign against the full table and must not be used by a campaign.

    Args:
        path: the table file.
        key_column: column holding candidate ids; ids are compared as strings, stripped of
            surrounding white space (so ``007`` stays ``007``).
        value_column: one column name or several; each becomes a target of that name.
        dtype: NumPy dtype of the values (default ``float64``).
        duplicates: what a repeated id means: ``"error"`` (default: refuse the table),
            ``"first"`` (keep the first row), or ``"min"``/``"max"``/``"mean"`` (aggregate each
            value column). Published tables do repeat ids (Enamine10k has 3 SMILES twice, with
            different scores), so a benchmark must choose explicitly.

    A candidate is an id (``str`` or ``int``), or an ``ase.Atoms`` whose ``info`` holds the id
    under ``key_column`` (or ``"id"``). An id absent from the table, or with a missing (NaN)
    value, is a failure ``no value for id X in table``.

    Raises:
        SimulationError: missing file, unknown column, unreadable format, or duplicate ids
            (the first few are named).
    """

    input_kind: ClassVar[str] = "id"
    has_truth: ClassVar[bool] = True

    @classmethod
    def targets_for(cls, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The table's value column(s), named by the ``value_column`` option."""
        column = options.get("value_column", "score")
        return (column,) if isinstance(column, str) else tuple(column)

    def __init__(
        self,
        path: str | Path,
        key_column: str = "id",
        value_column: str | Sequence[str] = "score",
        dtype: str | np.dtype = "float64",
        duplicates: str = "error",
    ) -> None:
        if duplicates not in _DUPLICATES:
            raise SimulationError(f"duplicates must be one of {_DUPLICATES}, got {duplicates!r}")
        self.duplicates = duplicates
        self.path = Path(path)
        self.key_column = str(key_column)
        columns = (value_column,) if isinstance(value_column, str) else tuple(value_column)
        if not columns:
            raise SimulationError("value_column must name at least one column")
        self.value_column = columns
        self.targets = self.targets_for({"value_column": columns})
        self.dtype = np.dtype(dtype)
        self.__table = self._load()

    def __repr__(self) -> str:
        return (f"LookupSimulator(path={str(self.path)!r}, key_column={self.key_column!r}, "
                f"value_column={list(self.value_column)}, n_rows={len(self.__table)})")

    def _load(self) -> dict[str, tuple[float, ...]]:
        import pandas as pd

        if not self.path.is_file():
            raise SimulationError(f"lookup table {str(self.path)!r} does not exist")
        name = self.path.name.lower()
        try:
            if name.endswith((".parquet", ".pq")):
                frame = pd.read_parquet(self.path)
            elif name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")):
                frame = pd.read_csv(self.path, dtype={self.key_column: str}, comment=None)
            else:
                raise SimulationError(
                    f"lookup table {str(self.path)!r}: unknown format; use .csv, .csv.gz "
                    "or .parquet"
                )
        except ImportError as exc:  # Parquet needs pyarrow (in the dev extra) or fastparquet
            raise SimulationError(
                f"cannot read {str(self.path)!r}: {exc} (pip install pyarrow)") from None
        missing = [c for c in (self.key_column, *self.value_column) if c not in frame.columns]
        if missing:
            raise SimulationError(
                f"lookup table {str(self.path)!r} has no column(s) {missing}; "
                f"it has {list(frame.columns)}"
            )
        keys = frame[self.key_column].astype(str).str.strip()
        dup = keys[keys.duplicated()].unique()
        if len(dup) and self.duplicates == "error":
            shown = ", ".join(repr(k) for k in dup[:5])
            raise SimulationError(
                f"lookup table {str(self.path)!r}: {len(dup)} duplicate id(s) in column "
                f"{self.key_column!r}, e.g. {shown}"
            )
        try:
            values = frame[list(self.value_column)].to_numpy(dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise SimulationError(
                f"lookup table {str(self.path)!r}: values are not {self.dtype}: {exc}"
            ) from None
        if len(dup) and self.duplicates != "error":
            grouped = pd.DataFrame(values, columns=list(self.value_column)).groupby(
                keys.to_numpy(), sort=False)
            agg = grouped.first() if self.duplicates == "first" else grouped.agg(self.duplicates)
            return {str(k): tuple(row) for k, row in zip(agg.index, agg.to_numpy().tolist())}
        return {k: tuple(row) for k, row in zip(keys.tolist(), values.tolist())}

    def _key(self, candidate: Any) -> str:
        if isinstance(candidate, ase.Atoms):
            key = candidate.info.get(self.key_column, candidate.info.get("id"))
            if key is None:
                raise CandidateError(
                    f"structure {candidate.get_chemical_formula()} has no "
                    f"info[{self.key_column!r}] or info['id'] to look up"
                )
            return str(key).strip()
        if isinstance(candidate, (str, int, np.integer)) and not isinstance(candidate, bool):
            return str(candidate).strip()
        raise CandidateError(
            f"candidate of type {type(candidate).__name__} is not an id (str/int) or ase.Atoms"
        )

    def evaluate_one(self, candidate: Any) -> Mapping[str, Any]:
        key = self._key(candidate)
        row = self.__table.get(key)
        if row is None or any(math.isnan(v) for v in row):
            raise CandidateError(f"no value for id {key} in table")
        return dict(zip(self.value_column, row))

    def truth(self) -> dict[str, dict[str, float]]:
        """All answers, ``{target: {id: value}}`` (NaN where missing).

        For benchmarks only (scoring a finished campaign against the whole table); a campaign
        or an acquisition function that calls this is cheating.
        """
        return {
            col: {k: row[j] for k, row in self.__table.items()}
            for j, col in enumerate(self.value_column)
        }
