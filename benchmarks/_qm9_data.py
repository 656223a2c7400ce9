"""The QM9 campaign benchmark's data: a shuffled pool with its DFT gaps, and GFN2-xTB on it.

- :func:`qm9_pool`: ``n`` molecules of ``../shared/data/qm9/qm9_gap_31k.csv.gz`` (B3LYP HOMO-LUMO
  gaps, eV), drawn by a seeded permutation (the file runs from small to large molecules), with
  ids ``Q<row>``; written as ``pool_<n>.csv`` (id, smiles, gap) for the lookup judge.
- :func:`xtb_sweep`: every pool molecule built in 3D as a user would (RDKit ETKDG + MMFF through
  the pool's own builder, cached as the campaigns' ``pool_atoms.db``) and judged by GFN2-xTB
  through :class:`physics.XTB` (one thread), cached in ``xtb_<n>.db`` (ASE database: the
  structure with energy and forces, the gap, HOMO, LUMO and dipole, and the CPU seconds of the
  3D build and the xTB call); failures are stored with their reasons. A killed build resumes.
- :class:`CachedXTB`: the cheap judge the campaigns use, simulator kind ``qm9-xtb-cache``: it
  answers from that cache by id, so the five arms × seeds × directions pay for xTB once; the
  benchmark charges each campaign the CPU seconds of the xTB calls it asked for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from physics import XTB, CandidateError, Simulator
from physics._base import SIMULATORS

__all__ = ["DATA", "CachedXTB", "qm9_pool", "xtb_sweep"]

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "qm9" / "qm9_gap_31k.csv.gz"
DATA = Path(__file__).resolve().parent / "data" / "qm9_campaign"


def qm9_pool(n: int, seed: int = 0) -> pd.DataFrame:
    """The seeded ``n``-molecule pool (id, smiles, gap in eV), also written as a CSV."""
    path = DATA / f"pool_{n}_s{seed}.csv"
    if path.is_file():
        return pd.read_csv(path)
    DATA.mkdir(parents=True, exist_ok=True)
    src = pd.read_csv(SOURCE)
    order = np.random.default_rng(seed).permutation(len(src))[:n]
    df = pd.DataFrame({"id": [f"Q{i:05d}" for i in order], "smiles": src.smiles.values[order],
                       "gap": src.gap_ev.values[order]})
    df.to_csv(path, index=False)
    return df


def xtb_sweep(df: pd.DataFrame, tag: str, relax: bool = False) -> tuple[Path, Path]:
    """Build and judge every pool molecule once (resumable); returns the paths of the
    pool's 3D cache (``pool_atoms.db``) and of the xTB cache. ``relax``: the cheap judge
    relaxes each structure with GFN2-xTB first (BFGS to 0.05 eV/Å, at most 300 steps) and
    reports the values, and the structure, of the relaxed geometry."""
    import ase.db
    from tqdm.auto import tqdm

    from active_learning._pool._molecules import MoleculePool

    atoms_db = DATA / f"pool_atoms_{tag}.db"
    xtb_db = DATA / f"xtb_{'relax_' if relax else ''}{tag}.db"
    pool = MoleculePool(df.smiles.tolist(), df.id.tolist(), cache_path=atoms_db)
    done: set[str] = set()
    if xtb_db.is_file():
        with ase.db.connect(xtb_db) as db:
            done = {row.pool_id for row in db.select()}
    todo = [i for i, ident in enumerate(df.id) if ident not in done]
    xtb = XTB(n_threads=1, relax=relax, max_steps=300)
    with ase.db.connect(xtb_db) as db:
        for start in tqdm(range(0, len(todo), 200), desc=f"xTB sweep{' relax' * relax} (x200)",
                      unit="chunk"):
            chunk = todo[start:start + 200]
            t0 = time.process_time()
            built = pool.get(chunk, "atoms")  # cached 3D (the campaigns read the same)
            build_s = (time.process_time() - t0) / max(len(chunk), 1)
            for i, atoms in zip(chunk, built):
                ident = str(df.id.iloc[i])
                if atoms is None:
                    db.write(_empty(), pool_id=ident, failed=True, cpu_s=build_s,
                             reason=pool.failures()[ident][:300])
                    continue
                t0 = time.process_time()
                res = xtb.evaluate([atoms])[0]
                cpu = time.process_time() - t0 + build_s
                if not res.ok:
                    db.write(atoms, pool_id=ident, failed=True, cpu_s=cpu, reason=res.error)
                    continue
                v = res.values
                out = atoms.copy()
                out.positions = np.asarray(v["positions"])  # the relaxed one when relax
                db.write(out, pool_id=ident, failed=False, cpu_s=cpu, gap=float(v["gap"]),
                         homo=float(v["homo"]), lumo=float(v["lumo"]),
                         xtb_energy=float(v["energy"]),
                         data={"dipole": np.asarray(v["dipole"]),
                               "forces": np.asarray(v["forces"])})
    return atoms_db, xtb_db


def _empty() -> Any:
    from ase import Atoms

    return Atoms()


class CachedXTB(Simulator):
    """GFN2-xTB answers from the benchmark's cache (:func:`xtb_sweep`), by pool id.

    Returns what :class:`physics.XTB` returns (energy, forces, gap, HOMO, LUMO, dipole and the
    structure); ``cpu_s`` is the cost of the original calculation. A molecule that failed to
    embed or in xTB fails with the recorded reason.
    """

    targets: ClassVar[tuple[str, ...]] = XTB.targets
    input_kind: ClassVar[str] = "id"
    _tables: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, path: str) -> None:
        self.path = str(path)

    def _table(self) -> dict[str, Any]:
        if self.path not in self._tables:
            import ase.db

            table = {}
            with ase.db.connect(self.path) as db:
                for row in db.select():
                    table[row.pool_id] = row
            self._tables[self.path] = table
        return self._tables[self.path]

    def evaluate_one(self, candidate: Any) -> Mapping[str, Any]:
        row = self._table().get(str(candidate))
        if row is None:
            raise CandidateError(f"no cached xTB result for id {candidate}")
        if row.failed:
            raise CandidateError(str(row.reason))
        atoms = row.toatoms()
        energy = float(row.xtb_energy)
        return {"energy": energy, "energy_per_atom": energy / len(atoms),
                "forces": np.asarray(row.data["forces"]), "gap": float(row.gap),
                "homo": float(row.homo), "lumo": float(row.lumo),
                "dipole": np.asarray(row.data["dipole"]), "numbers": atoms.numbers.copy(),
                "positions": atoms.positions.copy()}

    def cpu_seconds(self, ids: list[str]) -> float:
        """CPU seconds the original 3D builds and xTB calls of ``ids`` cost."""
        table = self._table()
        return float(sum(float(table[i].cpu_s) for i in ids if i in table))


if "qm9-xtb-cache" not in SIMULATORS:
    SIMULATORS.add("qm9-xtb-cache", CachedXTB)
