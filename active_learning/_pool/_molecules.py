"""``MoleculePool``: molecules from SMILES/CSV files or 3D structure files, built in 3D once.

3D structures (``"atoms"`` form) come from ``physics.smiles_to_atoms`` (RDKit ETKDG + MMFF,
seed 0) the first time they are asked for, and are stored in an ASE database at
``cache_path`` (``pool_id`` and ``smiles`` as keys), so a resumed campaign, or the next round,
reads them back instead of rebuilding. A SMILES that cannot be built is stored too, as a
failure with its reason: :meth:`failures` reports it and ``get(..., "atoms")`` gives ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._base import Pool, check_unique_ids
from ._io import infer_format, read_smi_rows, read_table_columns

__all__ = ["MoleculePool"]

#: Morgan count fingerprint of the ``"vector"`` form: radius 2, this many bins
FP_SIZE = 2048


class MoleculePool(Pool):
    """Molecules; forms ``"smiles"`` (str), ``"atoms"`` (``ase.Atoms`` or ``None``),
    ``"vector"`` ((k, 2048) Morgan radius-2 counts) and ``"id"``.

    Args:
        smiles: one SMILES per candidate (``None`` entries allowed only with ``structures``).
        ids: stable ids; default the SMILES themselves.
        structures: ready 3D structures (an extxyz/ASE-db pool); then nothing is built.
        cache_path: ASE database for built structures; ``None`` keeps them in memory.
        builder: ``smiles -> ase.Atoms`` raising on failure; default ``physics.smiles_to_atoms``.
    """

    kind = "molecules"
    forms = ("smiles", "atoms", "vector")

    def __init__(self, smiles: Sequence[str | None], ids: Sequence[str] | None = None, *,
                 structures: Sequence[Any] | None = None, cache_path: str | os.PathLike | None = None,
                 builder: Callable[[str], Any] | None = None, simulator_input: str = "smiles",
                 source: str = "molecule pool") -> None:
        self._smiles = list(smiles)
        self._ids = list(self._smiles if ids is None else ids)
        if len(self._ids) != len(self._smiles):
            raise ValueError(f"{source}: {len(self._ids)} ids for {len(self._smiles)} molecules")
        self._id_index = check_unique_ids(self._ids, source)
        self._structures = None if structures is None else list(structures)
        self.cache_path = None if cache_path is None else Path(cache_path)
        self._builder = builder
        self.simulator_input = simulator_input
        self._built: dict[str, Any] = {}  # pool id -> Atoms | failure reason (str)
        self._cache_loaded = False
        self._elements: list[int] | None = None

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike, fmt: str | None = None,
                  id_column: str | None = None, smiles_column: str = "smiles",
                  cache_path: str | os.PathLike | None = None,
                  simulator_input: str = "smiles") -> MoleculePool:
        """Read ``smi`` (``SMILES [id]`` per line), ``csv``/``csv.gz``, ``extxyz`` or ``db``."""
        path = Path(path)
        fmt = fmt or infer_format(path)
        kw: dict[str, Any] = {"cache_path": cache_path, "simulator_input": simulator_input,
                              "source": str(path)}
        if fmt == "smi":
            ids, smiles = _read_smi(path)
            return cls(smiles, ids, **kw)
        if fmt == "csv":
            cols = read_table_columns(path, [smiles_column] + ([id_column] if id_column else []))
            return cls(cols[smiles_column], cols[id_column] if id_column else None, **kw)
        if fmt in ("extxyz", "db"):
            structures, ids = _read_structures(path, fmt, id_column)
            smiles = [a.info.get("smiles") for a in structures]
            return cls(smiles, ids, structures=structures, **kw)
        raise ValueError(f"{path}: unknown molecule file format {fmt!r}")

    # --- Pool interface -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> Sequence[str]:
        return self._ids

    def failures(self) -> dict[str, str]:
        """Molecules whose 3D structure could not be built so far, with the reason."""
        self._load_cache()
        return {k: v for k, v in self._built.items() if isinstance(v, str)}

    def prepare(self, forms: Iterable[str], progress: bool = True) -> dict[str, str]:
        """For ``"atoms"``: build (or read from the cache) every molecule's 3D structure now,
        so the unembeddable ones are known before the first design."""
        if "atoms" in set(forms) and self._structures is None:
            self._load_cache()
            todo = [i for i, ident in enumerate(self._ids) if ident not in self._built]
            if todo:
                self._build(todo, progress=progress)
        return self.failures()

    def options_for(self, names: Iterable[str]) -> dict[str, Any]:
        """``"elements"``: the atomic numbers found anywhere in the pool (hydrogens included),
        from the SMILES (RDKit) or the structures, computed once."""
        if "elements" not in set(names):
            return {}
        if self._elements is None:
            self._elements = _pool_elements(self._smiles, self._structures)
        return {"elements": list(self._elements)}

    def _get(self, indices: np.ndarray, form: str) -> Any:
        if form == "smiles":
            if self._structures is not None and any(self._smiles[i] is None for i in indices):
                missing = next(self._ids[i] for i in indices if self._smiles[i] is None)
                raise ValueError(f"molecule {missing!r} has no SMILES (its structure file has "
                                 "no 'smiles' info); use the 'atoms' form")
            return [self._smiles[i] for i in indices]
        if form == "atoms":
            return self._atoms(indices)
        return self._fingerprints(indices)

    # --- 3D structures --------------------------------------------------------------------------
    def _atoms(self, indices: np.ndarray) -> list[Any]:
        if self._structures is not None:
            return [self._structures[i].copy() for i in indices]
        self._load_cache()
        todo = [int(i) for i in indices if self._ids[i] not in self._built]
        if todo:
            self._build(todo)
        out = []
        for i in indices:
            item = self._built[self._ids[i]]
            out.append(None if isinstance(item, str) else item.copy())
        return out

    def _build(self, todo: list[int], progress: bool = True) -> None:
        from tqdm.auto import tqdm

        builder = self._builder
        if builder is None:
            from physics import smiles_to_atoms as builder
        new: list[tuple[str, str, Any]] = []
        for i in tqdm(todo, desc="building 3D structures", unit="mol",
                      disable=not progress or len(todo) < 50, leave=False):
            ident, smi = self._ids[i], self._smiles[i]
            try:
                atoms = builder(smi)
            except Exception as exc:  # recorded with its reason; the campaign goes on
                atoms = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) \
                    else str(exc)
            else:
                atoms.info["pool_id"] = ident
            self._built[ident] = atoms
            new.append((ident, smi, atoms))
        self._write_cache(new)

    def _load_cache(self) -> None:
        if self._cache_loaded or self.cache_path is None or self._structures is not None:
            self._cache_loaded = True
            return
        self._cache_loaded = True
        if not self.cache_path.exists():
            return
        import ase.db

        with ase.db.connect(self.cache_path) as db:
            for row in db.select():
                ident = row.get("pool_id")
                # a cached entry counts only if it was built from the same SMILES
                if ident not in self._id_index or row.get("smiles") != \
                        self._smiles[self._id_index[ident]]:
                    continue
                if row.get("failed"):
                    self._built[ident] = str(row.get("reason", "failed"))
                else:
                    atoms = row.toatoms()
                    atoms.info.update({"smiles": row.get("canonical", row.get("smiles")),
                                       "pool_id": ident, **row.get("data", {}).get("info", {})})
                    self._built[ident] = atoms

    def _write_cache(self, new: list[tuple[str, str, Any]]) -> None:
        if self.cache_path is None or not new:
            return
        import ase
        import ase.db

        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with ase.db.connect(self.cache_path) as db:
            for ident, smi, atoms in new:
                if isinstance(atoms, str):
                    db.write(ase.Atoms(), pool_id=ident, smiles=smi, failed=True,
                             reason=atoms[:500])
                else:
                    info = {k: v for k, v in atoms.info.items()
                            if k not in ("pool_id",) and isinstance(v, (int, float, str))}
                    db.write(atoms, pool_id=ident, smiles=smi, failed=False,
                             canonical=str(atoms.info.get("smiles", smi)),
                             data={"info": info})

    # --- fingerprints ---------------------------------------------------------------------------
    def _fingerprints(self, indices: np.ndarray) -> np.ndarray:
        """(k, 2048) Morgan radius-2 count fingerprints; an unparsable SMILES gives zeros."""
        from rdkit import Chem, rdBase
        from rdkit.Chem import rdFingerprintGenerator

        gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=FP_SIZE)
        out = np.zeros((len(indices), FP_SIZE), dtype=float)
        smiles = self._smiles_or_structures(indices)
        with rdBase.BlockLogs():
            for row, smi in enumerate(smiles):
                mol = Chem.MolFromSmiles(smi) if smi else None
                if mol is not None:
                    out[row] = gen.GetCountFingerprintAsNumPy(mol)
        return out

    def _smiles_or_structures(self, indices: np.ndarray) -> list[str | None]:
        return [self._smiles[i] for i in indices]


def _pool_elements(smiles: Sequence[str | None], structures: Sequence[Any] | None) -> list[int]:
    """Sorted atomic numbers of every element in the pool (implicit hydrogens counted)."""
    if structures is not None:
        return sorted({int(z) for a in structures for z in a.numbers})
    from rdkit import Chem, rdBase

    found: set[int] = set()
    with rdBase.BlockLogs():
        for smi in smiles:
            mol = Chem.MolFromSmiles(smi) if smi else None
            if mol is None:
                continue
            found.update(a.GetAtomicNum() for a in mol.GetAtoms())
            if any(a.GetTotalNumHs() for a in mol.GetAtoms()):
                found.add(1)
    found.discard(0)
    return sorted(found)


def _read_smi(path: Path) -> tuple[list[str], list[str]]:
    """``SMILES [id]`` per line (:func:`._io.read_smi_rows`); id defaults to the SMILES."""
    rows = read_smi_rows(path)
    return [r[2] for r in rows], [r[1] for r in rows]


def _read_structures(path: Path, fmt: str, id_column: str | None) -> tuple[list[Any], list[str]]:
    """Structures of an extxyz file (ids: ``info[id_column]`` or the frame number) or an ASE
    database (ids: the key ``id_column`` or the row id)."""
    import ase.db
    import ase.io

    structures, ids = [], []
    if fmt == "extxyz":
        try:
            frames = ase.io.read(path, index=":", format="extxyz")
        except Exception as exc:
            raise ValueError(f"{path}: not a readable extxyz file ({exc})") from None
        for i, atoms in enumerate(frames):
            if id_column and id_column not in atoms.info:
                raise ValueError(f"{path}: frame {i} has no info key {id_column!r}")
            ids.append(str(atoms.info[id_column]) if id_column else str(i))
            structures.append(atoms)
    else:
        with ase.db.connect(path) as db:
            for row in db.select():
                if id_column and row.get(id_column) is None:
                    raise ValueError(f"{path}: row {row.id} has no key {id_column!r}")
                atoms = row.toatoms()
                if row.get("smiles") is not None:
                    atoms.info["smiles"] = str(row.get("smiles"))
                ids.append(str(row.get(id_column)) if id_column else str(row.id))
                structures.append(atoms)
    return structures, ids
