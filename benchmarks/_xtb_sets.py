"""Data sets labelled by our own physics package (GFN2-xTB), built once and cached.

- :func:`enamine_property_set`: ``n`` drug-like molecules drawn (seeded) from the Enamine10k
  SMILES of ``../shared/data/molpal/``, 3D from RDKit (ETKDG + MMFF), labelled by GFN2-xTB
  single points: ``energy`` (eV), ``forces`` (eV/Å), ``gap`` (eV), ``dipole`` (e·Å, vector).
- :func:`aspirin_md_set`: an xTB Langevin MD trajectory of aspirin at 500 K (ASE), sampled
  every ``stride`` steps after equilibration, split into train / test frames.

Each set is written as extxyz under ``benchmarks/data/`` (git-ignored) with the labels as
``SinglePointCalculator`` results plus ``info["gap"]``, ``info["dipole"]`` and
``info["smiles"]``, so a second call (or another benchmark) reads it back in seconds.
Run ``python benchmarks/_xtb_sets.py [--n 2000]`` to build the caches ahead of time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from physics import XTB, CandidateError, SimulationError, smiles_to_atoms

CACHE = Path(__file__).resolve().parent / "data"
MOLPAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "molpal"

__all__ = ["CACHE", "aspirin_md_set", "enamine_property_set"]


def _read(path: Path) -> list[Atoms]:
    """Read a cached set; extxyz files the dipole under the calculator: move it to ``info``
    (kept in one place only, so the frames can be written back to extxyz)."""
    frames = read(path, ":")
    for a in frames:
        if a.calc is not None and "dipole" in a.calc.results:
            a.info["dipole"] = np.asarray(a.calc.results.pop("dipole"), dtype=float)
    return frames


def _label(atoms: Atoms, values: dict) -> Atoms:
    atoms = atoms.copy()
    atoms.calc = SinglePointCalculator(atoms, energy=float(values["energy"]),
                                       forces=np.asarray(values["forces"]))
    atoms.info["gap"] = float(values["gap"])
    atoms.info["dipole"] = np.asarray(values["dipole"], dtype=float)
    return atoms


def _cached_prefix(n: int, seed: int, smiles: list[str],
                   order: np.ndarray) -> tuple[list[Atoms], int]:
    """The largest smaller cached set of the same draw (its molecules come first in a bigger
    one) and the position in ``order`` to continue from; ``([], 0)`` when there is none."""
    smaller = []
    for p in CACHE.glob(f"enamine_xtb_n*_s{seed}.extxyz"):
        m = int(p.name.split("_n")[1].split("_")[0])
        if m < n:
            smaller.append((m, p))
    if not smaller:
        return [], 0
    atoms = _read(max(smaller)[1])
    last = atoms[-1].info["smiles"]  # its first place in the draw (Enamine10k repeats 3 SMILES)
    return atoms, next(k for k, i in enumerate(order) if smiles[int(i)] == last) + 1


def enamine_property_set(n: int = 2000, seed: int = 0, max_heavy: int = 30,
                         progress: bool = True) -> list[Atoms]:
    """``n`` Enamine10k molecules with GFN2-xTB labels (cached); order is the seeded draw.

    Molecules RDKit cannot embed or xTB cannot converge are skipped (and replaced by the
    next of the draw), so the set has exactly ``n`` entries. ``max_heavy`` caps the size
    (heavy atoms) to keep the cost per molecule near 0.1-0.5 s on one core.
    """
    path = CACHE / f"enamine_xtb_n{n}_s{seed}.extxyz"
    if path.exists():
        return _read(path)
    import pandas as pd
    from rdkit import Chem

    smiles = pd.read_csv(MOLPAL / "Enamine10k_scores.csv.gz")["smiles"].tolist()
    order = np.random.default_rng(seed).permutation(len(smiles))
    xtb = XTB(n_threads=1)
    out, start = _cached_prefix(n, seed, smiles, order)
    bar = tqdm(total=n, initial=len(out), desc="xTB Enamine set", unit="mol",
               disable=not progress)
    for i in order[start:]:
        smi = smiles[int(i)]
        mol = Chem.MolFromSmiles(smi)
        if mol is None or mol.GetNumHeavyAtoms() > max_heavy:
            continue
        try:
            atoms = smiles_to_atoms(smi, seed=seed)
            res = xtb.evaluate_one(atoms)
        except (CandidateError, SimulationError, ValueError):
            continue
        atoms = _label(atoms, res)
        atoms.info["smiles"] = smi
        out.append(atoms)
        bar.update()
        if len(out) == n:
            break
    bar.close()
    CACHE.mkdir(parents=True, exist_ok=True)
    write(path, out, format="extxyz")
    return _read(path)


def aspirin_md_set(n_train: int = 1000, n_test: int = 1000, temperature: float = 500.0,
                   stride: int = 10, equilibrate: int = 500, timestep_fs: float = 0.5,
                   seed: int = 0, progress: bool = True) -> tuple[list[Atoms], list[Atoms]]:
    """xTB Langevin MD of aspirin at ``temperature`` K: ``(train, test)`` frames (cached).

    One trajectory: ``equilibrate`` steps discarded, then ``(n_train + n_test) * stride``
    steps sampled every ``stride``; frames are shuffled (seeded) before the split so both
    halves cover the whole trajectory. Each frame carries xTB energy, forces, gap, dipole.
    """
    path = CACHE / f"aspirin_xtb_{int(temperature)}K_n{n_train + n_test}_s{seed}.extxyz"
    if not path.exists():
        from ase import units
        from ase.md.langevin import Langevin
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
        from tblite.ase import TBLite

        atoms = smiles_to_atoms("CC(=O)Oc1ccccc1C(=O)O", seed=seed)
        atoms.calc = TBLite(method="GFN2-xTB", verbosity=0)
        rng = np.random.default_rng(seed)
        MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
        dyn = Langevin(atoms, timestep_fs * units.fs, temperature_K=temperature,
                       friction=0.02, rng=rng)
        xtb = XTB(n_threads=1)
        n = n_train + n_test
        frames: list[Atoms] = []
        bar = tqdm(total=equilibrate + n * stride, desc="xTB aspirin MD", unit="step",
                   disable=not progress)
        dyn.attach(bar.update, interval=1)
        dyn.run(equilibrate)
        for _ in range(n):
            dyn.run(stride)
            frame = Atoms(atoms.numbers, atoms.positions.copy())
            frames.append(_label(frame, xtb.evaluate_one(frame)))
        bar.close()
        CACHE.mkdir(parents=True, exist_ok=True)
        write(path, frames, format="extxyz")
    frames = _read(path)
    perm = np.random.default_rng(seed).permutation(len(frames))
    train = [frames[i] for i in perm[:n_train]]
    test = [frames[i] for i in perm[n_train:n_train + n_test]]
    return train, test


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="molecules in the Enamine set")
    ap.add_argument("--aspirin", action="store_true", help="also build the aspirin MD set")
    args = ap.parse_args()
    t0 = time.perf_counter()
    mols = enamine_property_set(args.n)
    print(f"Enamine xTB set: {len(mols)} molecules in {time.perf_counter() - t0:.0f} s")
    if args.aspirin:
        t0 = time.perf_counter()
        tr, te = aspirin_md_set()
        print(f"aspirin MD set: {len(tr)} train / {len(te)} test in "
              f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
