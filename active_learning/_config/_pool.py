"""``[pool]``: where the candidates come from (``PoolConfig``), checked up front.

Keys by kind (all kinds: ``kind``, ``path``, ``format``, ``id_column``, ``simulator_input``):

- ``molecules``: ``smiles_column`` (CSV). Formats ``smi`` (``SMILES [id]`` per line), ``csv``
  (also ``.csv.gz``), ``extxyz``, ``db`` (ASE database).
- ``sequences``: ``sequence_column`` (CSV); formats ``txt`` (one sequence, or ``id sequence``,
  per line), ``csv``, ``fasta``; or no ``path`` and a combinatorial library: ``sites`` (a table
  ``position = "alphabet"``, positions 1-based, ``"*"`` = the 20 amino acids) with an optional
  ``wild_type`` sequence the sites mutate.
- ``designs``: ``feature_columns`` (CSV; default every column but the id); formats ``csv``, ``npy``.

``simulator_input`` says what the simulator receives: ``"auto"`` (the default) means the id for
a simulator that reads ids (``input_kind = "id"``, a lookup table), the SMILES for SMILES files,
the structure for extxyz/db pools, the sequence or the vector otherwise.

The file formats, the site-library checks and the pools themselves live in
:mod:`active_learning._pool`; :meth:`PoolConfig.build` makes the pool.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .._pool._io import POOL_FORMATS, infer_format
from .._pool._sequences import AMINO_ACIDS, check_library, read_sites
from ._values import check_keys, read_choice, read_path, read_str, thaw

__all__ = ["AMINO_ACIDS", "POOL_FORMATS", "PoolConfig", "infer_format"]

_KIND_KEYS = {
    "molecules": ("smiles_column",),
    "sequences": ("sequence_column", "sites", "wild_type"),
    "designs": ("feature_columns",),
}
_COMMON_KEYS = ("kind", "path", "format", "id_column", "simulator_input")
SIMULATOR_INPUTS = ("auto", "smiles", "atoms", "sequence", "vector", "id")


@dataclass(frozen=True)
class PoolConfig:
    """``[pool]``; ``sites`` is a tuple of ``(position, alphabet)`` sorted by 1-based position."""

    kind: str
    path: Path | None = None
    format: str | None = None
    id_column: str | None = None
    smiles_column: str = "smiles"
    sequence_column: str = "sequence"
    feature_columns: tuple[str, ...] | None = None
    sites: tuple[tuple[int, str], ...] | None = None
    wild_type: str | None = None
    simulator_input: str = "auto"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path,
                  simulator_input_kind: str | None = None) -> PoolConfig:
        """Check a ``[pool]`` table; ``simulator_input_kind`` is what the campaign's simulator
        declares it reads (``Simulator.input_kind``), for ``simulator_input = "auto"``."""
        w = "pool"
        kind = read_choice(w, data, "kind", POOL_FORMATS)
        check_keys(w, data, _COMMON_KEYS + _KIND_KEYS[kind])
        path = read_path("pool.path", data["path"], base_dir) if "path" in data else None
        sites = read_sites(data.get("sites")) if "sites" in data else None
        wild_type = read_str(w, data, "wild_type", None)
        if kind == "sequences" and (path is None) == (sites is None):
            raise ValueError("pool: a sequence pool needs exactly one of path (a file) or "
                             "sites (a combinatorial library)")
        if kind != "sequences" and path is None:
            raise ValueError(f"missing required key pool.path (a {kind} file)")
        if wild_type is not None and sites is None:
            raise ValueError("pool.wild_type needs pool.sites (the positions to mutate)")
        if sites is not None:
            check_library(sites, wild_type)
        fmt = None
        if path is not None:
            fmt = read_choice(w, data, "format", POOL_FORMATS[kind], None) or infer_format(path)
            if fmt not in POOL_FORMATS[kind]:
                raise ValueError(f"pool.path {str(path)!r}: cannot tell the format of a {kind} "
                                 f"file; set pool.format to one of {', '.join(POOL_FORMATS[kind])}")
        elif "format" in data:
            raise ValueError("pool.format applies to a pool file; this pool has no path")
        features = data.get("feature_columns")
        if features is not None:
            if not isinstance(features, (list, tuple)) or not features or not all(
                    isinstance(c, str) and c for c in features):
                raise ValueError("pool.feature_columns must be a non-empty list of column names")
            features = tuple(features)
        sim_input = read_choice(w, data, "simulator_input", SIMULATOR_INPUTS, "auto")
        if sim_input == "auto":
            sim_input = _auto_input(kind, fmt, simulator_input_kind)
        return cls(
            kind=kind, path=path, format=fmt,
            id_column=read_str(w, data, "id_column", None),
            smiles_column=read_str(w, data, "smiles_column", "smiles"),
            sequence_column=read_str(w, data, "sequence_column", "sequence"),
            feature_columns=features, sites=sites, wild_type=wild_type,
            simulator_input=sim_input,
        )

    def build(self, cache_dir: str | os.PathLike | None = None) -> Any:
        """The pool this section describes; ``cache_dir`` holds built 3D structures
        (molecule pools; ``None`` keeps them in memory only)."""
        from .._pool._designs import DesignPool
        from .._pool._molecules import MoleculePool
        from .._pool._sequences import SequencePool

        sim_input = self.simulator_input
        if self.kind == "sequences" and self.sites is not None:
            return SequencePool.combinatorial(dict(self.sites), self.wild_type,
                                              simulator_input=sim_input)
        assert self.path is not None and self.format is not None
        if self.kind == "molecules":
            cache = None if cache_dir is None else Path(cache_dir) / "pool_atoms.db"
            return MoleculePool.from_file(self.path, fmt=self.format, id_column=self.id_column,
                                          smiles_column=self.smiles_column, cache_path=cache,
                                          simulator_input=sim_input)
        if self.kind == "sequences":
            return SequencePool.from_file(self.path, fmt=self.format, id_column=self.id_column,
                                          sequence_column=self.sequence_column,
                                          simulator_input=sim_input)
        return DesignPool.from_file(self.path, fmt=self.format, id_column=self.id_column,
                                    feature_columns=self.feature_columns,
                                    simulator_input=sim_input)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or (f.name not in _COMMON_KEYS and f.name not in _KIND_KEYS[self.kind]):
                continue
            if f.name == "sites":
                value = {str(pos): alphabet for pos, alphabet in value}
            out[f.name] = thaw(value)
        return out


def _auto_input(kind: str, fmt: str | None, simulator_input_kind: str | None) -> str:
    if simulator_input_kind == "id":
        return "id"
    if kind == "molecules":
        return "smiles" if fmt in ("smi", "csv") else "atoms"
    return "sequence" if kind == "sequences" else "vector"
