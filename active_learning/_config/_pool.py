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
a ``lookup`` simulator, the SMILES for SMILES files, the structure for extxyz/db pools, the
sequence or the vector otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ._values import check_keys, read_choice, read_path, read_str, thaw

__all__ = ["AMINO_ACIDS", "POOL_FORMATS", "PoolConfig", "infer_format"]

#: the 20 standard amino acids, one-letter codes (``"*"`` in a ``sites`` table)
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"

#: file formats each pool kind reads
POOL_FORMATS: dict[str, tuple[str, ...]] = {
    "molecules": ("smi", "csv", "extxyz", "db"),
    "sequences": ("txt", "csv", "fasta"),
    "designs": ("csv", "npy"),
}
_SUFFIXES = {".smi": "smi", ".smiles": "smi", ".csv": "csv", ".xyz": "extxyz",
             ".extxyz": "extxyz", ".db": "db", ".txt": "txt", ".seq": "txt", ".fasta": "fasta",
             ".fa": "fasta", ".faa": "fasta", ".npy": "npy"}
_KIND_KEYS = {
    "molecules": ("smiles_column",),
    "sequences": ("sequence_column", "sites", "wild_type"),
    "designs": ("feature_columns",),
}
_COMMON_KEYS = ("kind", "path", "format", "id_column", "simulator_input")
SIMULATOR_INPUTS = ("auto", "smiles", "atoms", "sequence", "vector", "id")


def infer_format(path: Path) -> str | None:
    """Format from the file name (``.gz`` is looked through), or ``None`` if unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return _SUFFIXES.get(suffixes[-1]) if suffixes else None


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
                  simulator_kind: str | None = None) -> PoolConfig:
        w = "pool"
        kind = read_choice(w, data, "kind", POOL_FORMATS)
        check_keys(w, data, _COMMON_KEYS + _KIND_KEYS[kind])
        path = read_path("pool.path", data["path"], base_dir) if "path" in data else None
        sites = _read_sites(data.get("sites")) if "sites" in data else None
        wild_type = read_str(w, data, "wild_type", None)
        if kind == "sequences" and (path is None) == (sites is None):
            raise ValueError("pool: a sequence pool needs exactly one of path (a file) or "
                             "sites (a combinatorial library)")
        if kind != "sequences" and path is None:
            raise ValueError(f"missing required key pool.path (a {kind} file)")
        if wild_type is not None and sites is None:
            raise ValueError("pool.wild_type needs pool.sites (the positions to mutate)")
        if wild_type is not None:
            _check_wild_type(wild_type, sites)
        elif sites is not None:
            missing = sorted(set(range(1, sites[-1][0] + 1)) - {pos for pos, _ in sites})
            if missing:
                raise ValueError(f"pool.sites: position {missing[0]} is missing; without "
                                 "pool.wild_type the sites are the whole sequence 1..L")
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
            sim_input = _auto_input(kind, fmt, simulator_kind)
        return cls(
            kind=kind, path=path, format=fmt,
            id_column=read_str(w, data, "id_column", None),
            smiles_column=read_str(w, data, "smiles_column", "smiles"),
            sequence_column=read_str(w, data, "sequence_column", "sequence"),
            feature_columns=features, sites=sites, wild_type=wild_type,
            simulator_input=sim_input,
        )

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


def _auto_input(kind: str, fmt: str | None, simulator_kind: str | None) -> str:
    if simulator_kind == "lookup":
        return "id"
    if kind == "molecules":
        return "smiles" if fmt in ("smi", "csv") else "atoms"
    return "sequence" if kind == "sequences" else "vector"


def _read_sites(value: Any) -> tuple[tuple[int, str], ...]:
    """``{"18": "AFY", "20": "*"}`` -> ``((18, "AFY"), (20, AMINO_ACIDS))``, checked."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError("pool.sites must be a non-empty table: position = \"alphabet\"")
    sites = []
    for key, alphabet in value.items():
        try:
            pos = int(str(key))
        except ValueError:
            raise ValueError(f"pool.sites.{key}: a site is a 1-based position number") from None
        if pos < 1:
            raise ValueError(f"pool.sites.{key}: positions start at 1")
        if alphabet == "*":
            alphabet = AMINO_ACIDS
        if not isinstance(alphabet, str) or not alphabet or not alphabet.isalpha():
            raise ValueError(f"pool.sites.{key} must be a string of one-letter residues, "
                             f"got {alphabet!r}")
        dup = sorted({c for c in alphabet if alphabet.count(c) > 1})
        if dup:
            raise ValueError(f"pool.sites.{key}: residue {dup[0]!r} appears twice in {alphabet!r}")
        sites.append((pos, alphabet))
    sites.sort()
    positions = [pos for pos, _ in sites]
    for pos in positions:
        if positions.count(pos) > 1:
            raise ValueError(f"pool.sites: position {pos} is given twice")
    return tuple(sites)


def _check_wild_type(wild_type: str, sites: tuple[tuple[int, str], ...] | None) -> None:
    if not wild_type.isalpha():
        raise ValueError("pool.wild_type must be a sequence of one-letter residues")
    for pos, _ in sites or ():
        if pos > len(wild_type):
            raise ValueError(f"pool.sites.{pos} lies beyond the wild type's "
                             f"{len(wild_type)} residues")
