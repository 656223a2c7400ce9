"""``scout export``: every evaluated candidate, out of the study, in a file a chemist opens.

One row per candidate whose latest trial is COMPLETE or FAIL: its id, its SMILES (or sequence),
its state, round, error, cost (s), retries, and every value the judge returned, with units from
the simulator's target table (``Simulator.target_info`` → :class:`physics.TargetInfo`). The
structure is the one the judge computed on: a molecular simulator returns ``numbers`` and
``positions`` (Å) with its values, so ``ase.Atoms(numbers=…, positions=…)`` carries a
``SinglePointCalculator`` with the judged energy and forces. Without them (a failure, a
simulator that returns none) the pool's 3D structure is used, else the SMILES.

Formats:

- ``csv``: scalar values as numbers under ``name (unit)`` headers; vectors, per-atom values
  and curves (``forces (eV/Å)``, ``positions (Å)``, ``numbers``) as JSON lists;
- ``sdf`` (molecules): RDKit molecules at the judged geometry (bonds from the SMILES when its
  atoms match the structure's order, else perceived from the 3D geometry), every value as an
  SD property named ``name (unit)``; a candidate without a structure gets 2D coordinates;
- ``extxyz`` (molecules): frames with the judged energy/forces/dipole as calculator results
  and the rest in ``atoms.info`` (``units`` holds ``name=unit`` pairs); a candidate without a
  structure is a frame of 0 atoms that keeps its id, state and error;
- ``db`` (molecules): an ASE database (``candidate_id``, ``smiles``, ``state``, ``round``,
  scalar values as keys; units and arrays in ``data``).
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .._ledger._session import Session

__all__ = ["FORMATS", "ExportRow", "export_campaign", "export_rows"]

FORMATS = ("csv", "sdf", "extxyz", "db")
#: values that are the structure itself (written as the structure, not as properties)
STRUCTURE_KEYS = ("numbers", "positions")
#: values ASE's SinglePointCalculator holds as results
CALC_KEYS = ("energy", "forces", "dipole", "stress", "charges")


@dataclass
class ExportRow:
    """One evaluated candidate (see the module docstring)."""

    id: str
    index: int
    text: str | None  # the SMILES or sequence
    state: str
    round: int
    error: str | None
    seconds: float
    retries: int
    values: dict[str, Any] = field(default_factory=dict)
    atoms: Any = None  # ase.Atoms of the judged structure (or the pool's), else None
    judged: bool = False  # atoms are the judge's own geometry


def _judged_atoms(values: dict[str, Any]) -> Any:
    if not all(k in values for k in STRUCTURE_KEYS):
        return None
    import ase
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = ase.Atoms(numbers=np.asarray(values["numbers"], dtype=int),
                      positions=np.asarray(values["positions"], dtype=float))
    results = {k: np.asarray(values[k], dtype=float) if np.ndim(values[k]) else
               float(values[k]) for k in CALC_KEYS if k in values}
    if results:
        atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def _pool_atoms(session: Session, index: int) -> Any:
    """The pool's own structure (built from the SMILES once, cached), or ``None``."""
    pool = session.pool
    if pool.kind != "molecules":
        return None
    try:
        return pool.get([index], "atoms")[0]
    except Exception:  # a structure that cannot be built: the SMILES is all there is
        return None


def export_rows(session: Session) -> list[ExportRow]:
    """Every candidate whose latest trial is COMPLETE or FAIL, in pool order."""
    pool = session.pool
    text_form = {"molecules": "smiles", "sequences": "sequence"}.get(pool.kind)
    rows = []
    for index, rec in sorted(session.ledger.records().items()):
        if rec.state not in ("COMPLETE", "FAIL"):
            continue
        text = None
        if text_form is not None:
            try:
                text = pool.get([index], text_form)[0]
            except ValueError:  # a structure file without SMILES
                text = None
        values = dict(rec.values)
        atoms = _judged_atoms(values)
        judged = atoms is not None
        if atoms is None:
            atoms = _pool_atoms(session, index)
        rows.append(ExportRow(rec.candidate_id, index, text, rec.state, rec.round, rec.error,
                              rec.seconds, rec.retries, values, atoms, judged))
    return rows


def _units(session: Session, rows: list[ExportRow]) -> dict[str, Any]:
    """``name -> TargetInfo`` of every value any row holds (the objective first)."""
    cls = session.config.simulator.simulator_class
    names = {k for r in rows for k in r.values}
    objective = session.config.campaign.objective
    order = sorted(names, key=lambda k: (k != objective, np.ndim(_first(rows, k)) > 0, k))
    return {k: cls.target_info(k) for k in order}


def _first(rows: list[ExportRow], key: str) -> Any:
    return next(r.values[key] for r in rows if key in r.values)


def _scalar(value: Any) -> float | None:
    return float(value) if np.ndim(value) == 0 and isinstance(value, (int, float)) else None


# --- writers ------------------------------------------------------------------------------------
def _write_csv(session: Session, rows: list[ExportRow], path: Path) -> None:
    infos = _units(session, rows)
    head = ["id", "smiles" if session.pool.kind == "molecules" else "candidate", "state",
            "round", "error", "seconds", "retries"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(head + [info.label for info in infos.values()])
        for r in rows:
            cells = [r.id, r.text or "", r.state, r.round, r.error or "",
                     "" if not math.isfinite(r.seconds) else f"{r.seconds:.3f}", r.retries]
            for name in infos:
                v = r.values.get(name)
                cells.append("" if v is None else (repr(_scalar(v)) if _scalar(v) is not None
                                                   else json.dumps(np.asarray(v).tolist())))
            writer.writerow(cells)


def _properties(session: Session, r: ExportRow) -> dict[str, Any]:
    """Scalar and JSON values of a row, named ``name (unit)``, plus its bookkeeping."""
    cls = session.config.simulator.simulator_class
    out: dict[str, Any] = {"id": r.id, "state": r.state, "round": r.round}
    if r.text:
        out["smiles"] = r.text
    if r.error:
        out["error"] = r.error
    if math.isfinite(r.seconds):
        out["seconds"] = round(r.seconds, 3)
    for name, v in sorted(r.values.items()):
        if name in STRUCTURE_KEYS:
            continue
        label = cls.target_info(name).label
        out[label] = _scalar(v) if _scalar(v) is not None else json.dumps(np.asarray(v).tolist())
    return out


def _rdkit_mol(r: ExportRow) -> Any:
    """An RDKit molecule of the row: the structure's geometry with bonds from the SMILES (same
    atom order) or perceived from 3D; 2D coordinates from the SMILES without a structure."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import AllChem, rdDetermineBonds
    from rdkit.Geometry import Point3D

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(r.text) if r.text else None
        atoms = r.atoms if r.atoms is not None and len(r.atoms) else None
        if atoms is not None:
            molh = Chem.AddHs(mol) if mol is not None else None
            if molh is not None and [a.GetAtomicNum() for a in molh.GetAtoms()] == \
                    [int(z) for z in atoms.numbers]:
                conf = Chem.Conformer(molh.GetNumAtoms())
                for i, p in enumerate(atoms.positions):
                    conf.SetAtomPosition(i, Point3D(*map(float, p)))
                conf.Set3D(True)
                molh.RemoveAllConformers()
                molh.AddConformer(conf, assignId=True)
                return molh
            xyz = f"{len(atoms)}\n\n" + "".join(
                f"{s} {x:.6f} {y:.6f} {z:.6f}\n"
                for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions))
            raw = Chem.MolFromXYZBlock(xyz)
            if raw is not None:
                try:
                    rdDetermineBonds.DetermineBonds(raw, charge=int(atoms.info.get("charge", 0)))
                except (ValueError, RuntimeError):
                    rdDetermineBonds.DetermineConnectivity(raw)
                return raw
        if mol is not None:
            AllChem.Compute2DCoords(mol)
            return mol
    return Chem.Mol()


def _write_sdf(session: Session, rows: list[ExportRow], path: Path) -> None:
    from rdkit import Chem

    with Chem.SDWriter(str(path)) as writer:
        for r in rows:
            mol = _rdkit_mol(r)
            mol.SetProp("_Name", r.id)
            for key, v in _properties(session, r).items():
                mol.SetProp(key, str(v))
            mol.SetProp("structure", "judged" if r.judged else
                        ("pool" if r.atoms is not None else "2D from SMILES"))
            writer.write(mol)


def _frame(session: Session, r: ExportRow) -> Any:
    """The row as ``ase.Atoms`` with info (units in ``units``) and the judged results."""
    import ase

    atoms = r.atoms.copy() if r.atoms is not None else ase.Atoms()
    if r.atoms is not None and r.atoms.calc is not None:
        atoms.calc = r.atoms.calc
    cls = session.config.simulator.simulator_class
    info = {"candidate_id": r.id, "state": r.state, "round": r.round,
            "structure": "judged" if r.judged else ("pool" if r.atoms is not None else "none")}
    if r.text:
        info["smiles"] = r.text
    if r.error:
        info["error"] = r.error
    units = []
    for name, v in sorted(r.values.items()):
        if name in STRUCTURE_KEYS or (name in CALC_KEYS and atoms.calc is not None):
            pass
        elif np.ndim(v) == 0 or np.asarray(v).ndim == 1:
            info[name] = _scalar(v) if _scalar(v) is not None else np.asarray(v, dtype=float)
        if name not in STRUCTURE_KEYS and cls.target_info(name).unit:
            units.append(f"{name}={cls.target_info(name).unit}")
    if units:
        info["units"] = " ".join(units)
    atoms.info = {k: v for k, v in atoms.info.items() if k in ("charge", "multiplicity")}
    atoms.info.update(info)
    return atoms


def _write_extxyz(session: Session, rows: list[ExportRow], path: Path) -> None:
    import ase.io

    ase.io.write(path, [_frame(session, r) for r in rows], format="extxyz")


def _write_db(session: Session, rows: list[ExportRow], path: Path) -> None:
    import ase.db
    from ase.db.core import reserved_keys

    cls = session.config.simulator.simulator_class
    with ase.db.connect(path, type="db", append=False) as db:
        for r in rows:
            frame = _frame(session, r)
            keys: dict[str, Any] = {"candidate_id": r.id, "state": r.state, "round": r.round}
            if r.text:
                keys["smiles"] = r.text
            if r.error:
                keys["error"] = r.error[:500]
            arrays = {}
            for name, v in r.values.items():
                if name in STRUCTURE_KEYS:
                    continue
                s = _scalar(v)
                if s is not None and name not in reserved_keys:
                    keys[name] = s
                elif s is None:
                    arrays[name] = np.asarray(v).tolist()
            frame.info = {}
            units = {k: cls.target_info(k).unit for k in r.values if k not in STRUCTURE_KEYS}
            db.write(frame, key_value_pairs=keys,
                     data={"units": units, "values": arrays,
                           "structure": "judged" if r.judged else "pool"})


_WRITERS = {"csv": _write_csv, "sdf": _write_sdf, "extxyz": _write_extxyz, "db": _write_db}


def export_campaign(session: Session, out: str | os.PathLike, fmt: str) -> int:
    """Write every evaluated candidate of an open session (pool loaded) to ``out`` in format
    ``fmt`` (one of :data:`FORMATS`); returns how many candidates were written.

    Raises:
        ValueError: an unknown format, a structure format for a pool that holds no
            molecules, or a campaign with nothing evaluated yet.
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}")
    if fmt != "csv" and session.pool.kind != "molecules":
        raise ValueError(f"--format {fmt} writes molecules; the pool of campaign "
                         f"{session.config.name!r} holds {session.pool.kind} (use --format csv)")
    rows = export_rows(session)
    if not rows:
        raise ValueError(f"campaign {session.config.name!r} has no evaluated candidates yet")
    path = Path(out)
    if path.is_dir():
        raise ValueError(f"--out {str(path)!r} is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()  # an ASE database would be appended to
    _WRITERS[fmt](session, rows, path)
    return len(rows)
