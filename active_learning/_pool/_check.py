"""Reading a whole pool before a campaign spends anything: every SMILES parsed, bad rows named.

:func:`check_pool` reads the pool a ``[pool]`` section describes (ids, duplicates and file
format are checked by the pool itself) and, for molecules, parses every SMILES with RDKit
(no 3D building: that happens once, cached, when a model first needs it). Each SMILES RDKit
cannot read, or that holds an element the simulators cannot treat, is reported with where it
is in the file (``line 13`` of a ``.smi`` file, ``data row 12`` of a CSV table), its id and
the reason; :meth:`PoolCheck.how_to_exclude` tells the user how to leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from physics._molecules import MAX_ATOMIC_NUMBER

from ._io import read_smi_rows, read_table_columns

__all__ = ["BadCandidate", "PoolCheck", "check_pool", "smiles_problem"]


@dataclass(frozen=True)
class BadCandidate:
    """One candidate that cannot be used: ``where`` in its file (``"line 13"``), its id, the
    offending item (a SMILES) and the reason."""

    where: str
    id: str
    item: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where} id {self.id!r} {self.item!r} ({self.reason})"


@dataclass
class PoolCheck:
    """What reading the whole pool found: its size, kind, file and the bad candidates."""

    size: int
    kind: str
    path: Path | None
    format: str | None
    bad: list[BadCandidate] = field(default_factory=list)
    pool: Any = None

    def how_to_exclude(self) -> str:
        """How to leave the bad candidates out, in the terms of the pool's file format."""
        name = str(self.path) if self.path is not None else "the pool file"
        wheres = [b.where.split(" ", 1)[-1] for b in self.bad]
        listed = ", ".join(wheres[:20]) + (" …" if len(wheres) > 20 else "")
        if self.format == "smi":
            return f"put '#' at the start of line(s) {listed} of {name} (or fix the SMILES)"
        if self.format == "csv":
            return f"delete data row(s) {listed} of {name} (0-based, below the header) or fix them"
        return f"remove or fix structure(s) {listed} of {name}"

    def message(self, shown: int = 10) -> str:
        """One line: how many candidates are bad, the first ``shown`` of them, and the fix."""
        head = "; ".join(str(b) for b in self.bad[:shown])
        more = f"; and {len(self.bad) - shown} more" if len(self.bad) > shown else ""
        return (f"pool: {len(self.bad)} of {self.size} candidates cannot be simulated: "
                f"{head}{more}; to exclude them, {self.how_to_exclude()}")


def smiles_problem(smiles: str) -> str | None:
    """Why RDKit cannot use ``smiles`` for a simulation, or ``None`` when it can."""
    from rdkit import Chem, rdBase

    if not isinstance(smiles, str) or not smiles.strip():
        return "empty SMILES"
    with rdBase.BlockLogs():
        raw = Chem.MolFromSmiles(smiles, sanitize=False)
        if raw is None:
            return "not valid SMILES syntax"
        problems = Chem.DetectChemistryProblems(raw)
        if problems:
            return problems[0].Message()
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return "RDKit cannot sanitize it"
    for atom in mol.GetAtoms():
        z = atom.GetAtomicNum()
        if z == 0 or z > MAX_ATOMIC_NUMBER:
            return f"unsupported element {atom.GetSymbol()!r} (supported are H..Rn)"
    return None


def _rows(cfg: Any, pool: Any) -> list[tuple[str, str, str | None]]:
    """``(where, id, smiles)`` for each molecule, where naming its place in the file."""
    path = cfg.path
    if cfg.format == "smi":
        return [(f"line {line}", ident, smi) for line, smi, ident in read_smi_rows(path)]
    if cfg.format == "csv":
        cols = [cfg.smiles_column] + ([cfg.id_column] if cfg.id_column else [])
        table = read_table_columns(path, cols)
        ids = table[cfg.id_column] if cfg.id_column else table[cfg.smiles_column]
        return [(f"data row {i}", ident, smi)
                for i, (ident, smi) in enumerate(zip(ids, table[cfg.smiles_column]))]
    smiles = [a.info.get("smiles") for a in pool.get(range(len(pool)), "atoms")]
    kind = "frame" if cfg.format == "extxyz" else "structure"
    return [(f"{kind} {i}", ident, smi) for i, (ident, smi) in enumerate(zip(pool.ids, smiles))]


def check_pool(pool_cfg: Any) -> PoolCheck:
    """Read the whole pool of a ``PoolConfig`` and list its unusable candidates.

    Raises:
        ValueError, FileNotFoundError: the pool cannot be read at all (a duplicate id, an
            empty file, a missing column), naming the file and the problem.
    """
    pool = pool_cfg.build(None)
    out = PoolCheck(size=len(pool), kind=pool_cfg.kind, path=pool_cfg.path,
                    format=pool_cfg.format, pool=pool)
    if pool_cfg.kind != "molecules":
        return out
    for where, ident, smi in _rows(pool_cfg, pool):
        if smi is None:  # a structure file without SMILES: the structure is used as it is
            continue
        reason = smiles_problem(smi)
        if reason is not None:
            out.bad.append(BadCandidate(where, str(ident), smi, reason))
    return out
