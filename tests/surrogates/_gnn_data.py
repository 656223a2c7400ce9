"""Small labelled structures for the GNN tests, made on the fly (no files, no downloads).

Labels come from ASE's EMT potential (H, C, N, O, Cu…): not chemistry, but a smooth,
conservative potential whose forces are exactly −∇E, which is what the tests need.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

#: fixed point charges (e) for a physical dipole label μ = Σ q_i (x_i − x̄)
CHARGES = {1: 0.2, 6: -0.3, 7: -0.4, 8: -0.5}


def labelled(atoms: Atoms) -> Atoms:
    """A copy carrying EMT energy (eV), forces (eV/Å) and a point-charge dipole (e·Å)."""
    out = atoms.copy()
    calc = EMT()
    out.calc = calc
    energy, forces = out.get_potential_energy(), out.get_forces()
    q = np.array([CHARGES.get(int(z), 0.0) for z in out.numbers])
    q = q - q.mean()
    dipole = (q[:, None] * (out.positions - out.positions.mean(0))).sum(0)
    out.calc = SinglePointCalculator(out, energy=energy, forces=forces)
    out.info["dipole"] = dipole
    out.info["energy_per_atom"] = energy / len(out)
    return out


def rattled(names: tuple[str, ...], n_each: int, seed: int = 0, scale: float = 0.08) -> list[Atoms]:
    """``n_each`` randomly displaced copies of each named molecule, labelled."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_each):
        for name in names:
            atoms = molecule(name)
            atoms.positions += rng.normal(scale=scale, size=atoms.positions.shape)
            out.append(labelled(atoms))
    return out


def rattled_copper(n: int, seed: int = 0) -> list[Atoms]:
    """Periodic fcc Cu cells (2 atoms, orthorhombic) with displaced atoms, labelled."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        atoms = bulk("Cu", "fcc", a=3.6, orthorhombic=True)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        out.append(labelled(atoms))
    return out
