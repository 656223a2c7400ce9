"""Helpers shared by the electronic-structure simulators (xTB, DFT): charge and spin of a
molecule, and the HOMO-LUMO gap from orbital energies and occupations."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import ase
import numpy as np

from ._base import CandidateError, SimulationError

__all__ = ["check_spin_option", "check_threads", "frontier_orbitals", "homo_lumo_gap",
           "molecule_input",
           "resolve_charge_spin", "thread_limit"]


def molecule_input(candidate: ase.Atoms | str, seed: int, charge: int | None,
                   multiplicity: int | None, who: str) -> tuple[ase.Atoms, int, int]:
    """A candidate of a molecular simulator as ``(atoms, charge, n_unpaired)``.

    ``candidate`` is an ``ase.Atoms`` (copied) or a SMILES string (built in 3D with ``seed``);
    charge and spin come from :func:`resolve_charge_spin`. ``who`` names the simulator in
    the error a periodic structure gets.

    Raises:
        CandidateError: a bad SMILES, a periodic structure, or an impossible charge/spin.
    """
    from ._molecules import to_atoms

    atoms = to_atoms(candidate, seed=seed)
    if atoms.pbc.any():
        raise CandidateError(f"periodic structures are not supported by the {who} simulator")
    charge, n_unpaired = resolve_charge_spin(atoms, charge, multiplicity)
    return atoms, charge, n_unpaired


def thread_limit(n_threads: int | None) -> AbstractContextManager[Any]:
    """Limit OpenMP and BLAS threads (tblite, PySCF) to ``n_threads`` inside a ``with`` block.

    ``None`` leaves the libraries' defaults (all cores). One thread per worker is the right
    choice when several workers share a machine: OpenMP threads that spin-wait on an
    oversubscribed CPU can make a small calculation a hundred times slower.
    """
    if n_threads is None:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n_threads))


def check_threads(n_threads: int | None) -> None:
    """Reject a mis-configured thread count (``None`` or an integer >= 1)."""
    check_spin_option("n_threads", n_threads, minimum=1)


def check_spin_option(name: str, value: int | None, minimum: int) -> None:
    """Reject a mis-configured integer option (an integer >= ``minimum`` or ``None``)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SimulationError(f"{name} must be an integer >= {minimum} or None, got {value!r}")


def resolve_charge_spin(
    atoms: ase.Atoms, charge: int | None, multiplicity: int | None
) -> tuple[int, int]:
    """Total charge and number of unpaired electrons (2S) for ``atoms``.

    ``charge=None`` takes ``atoms.info["charge"]`` (set by ``smiles_to_atoms``), else the
    rounded sum of the initial charges. ``multiplicity=None`` takes
    ``atoms.info["multiplicity"]``, else 1 for an even and 2 for an odd electron count.

    Raises:
        CandidateError: no electrons left, or a multiplicity impossible for the electron count.
    """
    if charge is None:
        charge = atoms.info.get("charge")
        if charge is None:
            charge = round(float(atoms.get_initial_charges().sum()))
    charge = int(charge)
    n_electrons = int(atoms.numbers.sum()) - charge
    if n_electrons <= 0:
        raise CandidateError(f"{atoms.get_chemical_formula()} with charge {charge} has no electrons")
    if multiplicity is None:
        multiplicity = atoms.info.get("multiplicity") or (1 if n_electrons % 2 == 0 else 2)
    n_unpaired = int(multiplicity) - 1
    if n_unpaired < 0 or n_unpaired > n_electrons or (n_electrons - n_unpaired) % 2:
        raise CandidateError(
            f"{atoms.get_chemical_formula()} with charge {charge} has {n_electrons} electrons, "
            f"which cannot have spin multiplicity {multiplicity}"
        )
    return charge, n_unpaired


def frontier_orbitals(energies: np.ndarray, occupations: np.ndarray) -> tuple[float, float]:
    """``(HOMO, LUMO)`` energies in the units of ``energies`` (see :func:`homo_lumo_gap` for
    the shapes and the occupation rule); ``LUMO − HOMO`` is the gap.

    Raises:
        CandidateError: no occupied or no virtual orbital.
    """
    e = np.asarray(energies, dtype=float).reshape(-1)
    occ = np.asarray(occupations, dtype=float).reshape(-1)
    occupied, virtual = e[occ > 0.5], e[occ <= 0.5]
    if occupied.size == 0 or virtual.size == 0:
        raise CandidateError("HOMO-LUMO gap undefined: no occupied or no virtual orbital")
    return float(occupied.max()), float(virtual.min())


def homo_lumo_gap(energies: np.ndarray, occupations: np.ndarray) -> float:
    """HOMO-LUMO gap in the units of ``energies``.

    Args:
        energies: orbital energies, ``[n_orb]`` (restricted) or ``[2, n_orb]`` (per spin).
        occupations: matching occupations (0..2 restricted, 0..1 per spin channel).

    An orbital counts as occupied above half an electron; for two spin channels the gap is
    ``min(LUMO_a, LUMO_b) - max(HOMO_a, HOMO_b)``.

    Raises:
        CandidateError: no occupied or no virtual orbital (a gap is undefined).
    """
    homo, lumo = frontier_orbitals(energies, occupations)
    return lumo - homo
