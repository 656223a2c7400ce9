"""GFN-xTB single points (and optional relaxation) through tblite."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import ase
import numpy as np
from ase.units import Bohr, Hartree, kB

from ._base import CandidateError, SimulationError, Simulator, register_simulator
from ._electronic import (
    check_spin_option,
    check_threads,
    frontier_orbitals,
    molecule_input,
    thread_limit,
)
from ._molecules import structure_values

__all__ = ["XTB"]

#: scale of tblite's spin-polarization interaction for open shells (1: as parametrised)
SPIN_POLARIZATION = 1.0
#: accepted spellings -> tblite's method names
_METHODS = {"gfn2-xtb": "GFN2-xTB", "gfn2": "GFN2-xTB", "gfn1-xtb": "GFN1-xTB", "gfn1": "GFN1-xTB"}


@register_simulator("xtb")
class XTB(Simulator):
    """Extended tight binding (GFN2-xTB or GFN1-xTB) with tblite.

    A candidate is an ``ase.Atoms`` (positions in Å) or a SMILES string (built with
    :func:`physics.smiles_to_atoms` and ``seed``). With ``relax=True`` the geometry is first
    relaxed with ASE's BFGS on tblite's ASE calculator until max |F| < ``fmax`` (eV/Å) within
    ``max_steps``; the single point is then taken with ``tblite.interface`` so that orbital
    energies are at hand.

    Values (ASE units):
        energy: total energy, eV.
        energy_per_atom: energy / n_atoms, eV.
        forces: ``[n_atoms, 3]`` eV/Å, ``-dE/dR`` (tblite's analytic gradient).
        gap: HOMO-LUMO gap, eV (:func:`~physics._electronic.homo_lumo_gap`). An open shell
            (2S > 0) is computed spin-polarised (tblite's ``spin-polarization`` interaction,
            scale 1), so there are α and β orbitals as in :class:`~physics.DFT`'s UKS, and
            the gap has DFT's definition: min(LUMO_α, LUMO_β) − max(HOMO_α, HOMO_β). (Without
            spin polarisation tblite's orbitals are restricted, and the singly occupied
            orbital would count as the HOMO: 11.4 eV for the ethyl radical, against 1.3 eV
            spin-polarised and 4.3 eV from UKS-B3LYP/def2-SVP.)
        homo, lumo: the frontier orbital energies, eV (``lumo − homo = gap``).
        dipole: ``[3]`` e·Å (about the origin of the Cartesian frame; origin-free for a
            neutral molecule).
        numbers, positions: ``[n_atoms]`` atomic numbers and ``[n_atoms, 3]`` Å, the geometry
            the values belong to (the relaxed one when ``relax=True``).

    Args:
        method: ``"GFN2-xTB"`` or ``"GFN1-xTB"``.
        charge: total charge; ``None`` (the default) reads ``atoms.info["charge"]``, which
            :func:`physics.smiles_to_atoms` sets from the SMILES (else the initial charges).
        multiplicity: 2S+1; ``None`` (the default) reads ``atoms.info["multiplicity"]``, which
            :func:`physics.smiles_to_atoms` sets from the SMILES's radical electrons (else 1
            for an even and 2 for an odd electron count), as :class:`~physics.DFT` does.
        relax, fmax, max_steps: optional BFGS relaxation before the single point.
        accuracy: tblite numerical accuracy (smaller is tighter).
        electronic_temperature: Fermi smearing temperature, K.
        max_iterations: SCF iteration limit; not converging is a failure with that reason.
        seed: embedding seed for SMILES candidates.
        n_threads: OpenMP/BLAS threads for tblite (``None``: the library default, all cores);
            use 1 when one worker runs per core.
    """

    targets: ClassVar[tuple[str, ...]] = ("energy", "energy_per_atom", "forces", "gap", "homo",
                                          "lumo", "dipole")
    input_kind: ClassVar[str] = "atoms"

    def __init__(
        self,
        method: str = "GFN2-xTB",
        charge: int | None = None,
        multiplicity: int | None = None,
        relax: bool = False,
        fmax: float = 0.05,
        max_steps: int = 200,
        accuracy: float = 1.0,
        electronic_temperature: float = 300.0,
        max_iterations: int = 250,
        seed: int = 0,
        n_threads: int | None = None,
    ) -> None:
        key = str(method).lower()
        if key not in _METHODS:
            raise SimulationError(f"unknown xTB method {method!r}; choose GFN2-xTB or GFN1-xTB")
        check_spin_option("charge", charge, minimum=-(10**6))
        check_spin_option("multiplicity", multiplicity, minimum=1)
        check_threads(n_threads)
        for name, val in [("fmax", fmax), ("accuracy", accuracy),
                          ("electronic_temperature", electronic_temperature)]:
            if not float(val) > 0:
                raise SimulationError(f"{name} must be > 0, got {val!r}")
        if int(max_steps) < 1 or int(max_iterations) < 1:
            raise SimulationError("max_steps and max_iterations must be >= 1")
        self.method = _METHODS[key]
        self.charge = charge
        self.multiplicity = multiplicity
        self.relax = bool(relax)
        self.fmax = float(fmax)
        self.max_steps = int(max_steps)
        self.accuracy = float(accuracy)
        self.electronic_temperature = float(electronic_temperature)
        self.max_iterations = int(max_iterations)
        self.seed = int(seed)
        self.n_threads = n_threads

    def __repr__(self) -> str:
        return f"XTB(method={self.method!r}, relax={self.relax})"

    def evaluate_one(self, candidate: ase.Atoms | str) -> Mapping[str, Any]:
        atoms, charge, n_unpaired = molecule_input(candidate, self.seed, self.charge,
                                                   self.multiplicity, "XTB")
        values: dict[str, Any] = {}
        with thread_limit(self.n_threads):
            if self.relax:
                self._relax(atoms, charge, n_unpaired)
            res = self._singlepoint(atoms, charge, n_unpaired)
        values.update(structure_values(atoms))
        energy = float(res.get("energy")) * Hartree
        homo, lumo = frontier_orbitals(res.get("orbital-energies"),
                                       res.get("orbital-occupations"))
        values.update(
            energy=energy,
            energy_per_atom=energy / len(atoms),
            forces=-np.asarray(res.get("gradient")) * (Hartree / Bohr),
            gap=(lumo - homo) * Hartree,
            homo=homo * Hartree,
            lumo=lumo * Hartree,
            dipole=np.asarray(res.get("dipole")) * Bohr,
        )
        return values

    def _singlepoint(self, atoms: ase.Atoms, charge: int, n_unpaired: int) -> Any:
        from tblite.interface import Calculator

        try:
            calc = Calculator(self.method, atoms.numbers, atoms.positions / Bohr, charge,
                              n_unpaired)
            if n_unpaired:
                calc.add("spin-polarization", SPIN_POLARIZATION)
            calc.set("accuracy", self.accuracy)
            calc.set("temperature", self.electronic_temperature * kB / Hartree)
            calc.set("max-iter", self.max_iterations)
            calc.set("verbosity", 0)
            return calc.singlepoint()
        except RuntimeError as exc:  # tblite reports SCF and input problems this way
            raise CandidateError(f"xTB ({self.method}) failed: {_first_line(exc)}") from None

    def _relax(self, atoms: ase.Atoms, charge: int, n_unpaired: int) -> None:
        from ase.calculators.calculator import CalculationFailed, InputError
        from ase.optimize import BFGS
        from tblite.ase import TBLite

        atoms.calc = TBLite(
            method=self.method, charge=charge, multiplicity=n_unpaired + 1,
            accuracy=self.accuracy, electronic_temperature=self.electronic_temperature,
            max_iterations=self.max_iterations, verbosity=0,
            spin_polarization=SPIN_POLARIZATION if n_unpaired else None,
        )
        try:
            converged = BFGS(atoms, logfile=None).run(fmax=self.fmax, steps=self.max_steps)
        except (CalculationFailed, InputError, RuntimeError) as exc:
            raise CandidateError(f"xTB relaxation failed: {_first_line(exc)}") from None
        finally:
            atoms.calc = None
        if not converged:
            raise CandidateError(
                f"xTB relaxation did not reach fmax={self.fmax} eV/Å in {self.max_steps} steps"
            )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
