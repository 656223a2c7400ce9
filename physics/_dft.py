"""Kohn-Sham DFT (or Hartree-Fock) with PySCF on CPU, or gpu4pyscf on a CUDA GPU."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import ase
import numpy as np
from ase.units import Bohr, Hartree

from ._base import CandidateError, SimulationError, Simulator, register_simulator
from ._device import resolve_device
from ._electronic import (
    check_spin_option,
    check_threads,
    frontier_orbitals,
    molecule_input,
    thread_limit,
)
from ._molecules import structure_values

__all__ = ["DFT", "select_dft_backend"]


class _TimeOut(Exception):
    """Raised from the SCF callback when the wall-clock budget is spent."""


def _gpu4pyscf_importable() -> bool:
    try:
        import gpu4pyscf  # noqa: F401
    except ImportError:
        return False
    return True


def select_dft_backend(device: str | None = "auto") -> str:
    """``"gpu4pyscf"`` or ``"pyscf"`` for a device request.

    ``"auto"`` picks gpu4pyscf when CUDA is available and gpu4pyscf imports, else PySCF on the
    CPU. ``"cuda"`` insists on the GPU; ``"cpu"`` insists on PySCF.

    Raises:
        SimulationError: ``"cuda"`` requested without CUDA or without gpu4pyscf.
    """
    try:
        dev = resolve_device(device)
    except (ValueError, RuntimeError) as exc:
        raise SimulationError(f"DFT device: {exc}") from None
    if dev.type != "cuda":
        return "pyscf"
    if _gpu4pyscf_importable():
        return "gpu4pyscf"
    if device in (None, "auto"):
        return "pyscf"
    raise SimulationError(
        "DFT device 'cuda' needs gpu4pyscf (pip install 'scoutlab[gpu]'); it does not import"
    )


def _is_out_of_memory(exc: BaseException) -> bool:
    # MemoryError on the host; cupy's OutOfMemoryError / torch.cuda.OutOfMemoryError on a GPU
    return isinstance(exc, MemoryError) or "OutOfMemory" in type(exc).__name__


def _numpy(x: Any) -> np.ndarray:
    """A NumPy array from a NumPy or CuPy array."""
    return np.asarray(x.get() if hasattr(x, "get") and not isinstance(x, np.ndarray) else x)


@register_simulator("dft")
class DFT(Simulator):
    """Self-consistent field single points with analytic forces.

    ``xc="hf"`` runs Hartree-Fock; any other value is a libxc functional name understood by
    PySCF (``"b3lyp"``, ``"pbe"``, ``"wb97x-d"``, …). Closed shells (2S = 0) use RKS/RHF,
    open shells UKS/UHF. On the GPU path (``gpu4pyscf.dft.rks``/``uks``) the SCF and gradient
    run on the device and the converged object is moved back with ``.to_cpu()`` for the
    orbital analysis.

    Values (ASE units): ``energy`` (eV), ``energy_per_atom`` (eV), ``forces``
    (``[n_atoms, 3]`` eV/Å from the analytic nuclear gradient), ``gap`` (HOMO-LUMO, eV; for
    open shells, UKS/UHF, min(LUMO_α, LUMO_β) − max(HOMO_α, HOMO_β): the definition
    :class:`~physics.XTB` reports too, spin-polarised), ``homo`` and ``lumo`` (those two
    orbital energies, eV), ``dipole`` (``[3]`` e·Å, about the Cartesian origin), and the
    structure the values belong to (``numbers``, ``positions`` in Å).

    Args:
        xc: functional, or ``"hf"``.
        basis: a basis-set name PySCF knows (``"sto-3g"``, ``"6-31g"``, ``"def2-svp"``, …).
        spin: number of unpaired electrons 2S (PySCF's convention); ``None`` reads
            ``atoms.info["multiplicity"]`` or uses the parity of the electron count.
        charge: total charge; ``None`` reads ``atoms.info["charge"]`` or the initial charges.
        conv_tol: SCF energy convergence, Hartree.
        max_cycle: SCF cycle limit; not converging is a failure "SCF not converged".
        timeout: wall-clock budget per candidate in seconds (checked at every SCF cycle and
            before the gradient); ``None`` for none.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"`` (see :func:`select_dft_backend`).
        seed: embedding seed for SMILES candidates.
        n_threads: OpenMP/BLAS threads on the CPU path (``None``: PySCF's default, all cores).

    Out-of-memory, time-out and SCF non-convergence are failed results with that reason.
    """

    targets: ClassVar[tuple[str, ...]] = ("energy", "energy_per_atom", "forces", "gap", "homo",
                                          "lumo", "dipole")
    input_kind: ClassVar[str] = "atoms"

    def __init__(
        self,
        xc: str = "b3lyp",
        basis: str = "def2-svp",
        spin: int | None = None,
        charge: int | None = None,
        conv_tol: float = 1e-8,
        max_cycle: int = 100,
        timeout: float | None = None,
        device: str = "auto",
        seed: int = 0,
        n_threads: int | None = None,
    ) -> None:
        from pyscf import dft, gto

        if str(xc).lower() != "hf":
            try:
                dft.libxc.parse_xc(xc)
            except (KeyError, ValueError) as exc:
                raise SimulationError(
                    f"unknown exchange-correlation functional {xc!r}: {exc}") from None
        try:
            with warnings.catch_warnings():  # PySCF's hint to install basis-set-exchange
                warnings.simplefilter("ignore")
                gto.basis.load(basis, "H")
        except Exception as exc:  # PySCF raises several types for an unknown basis name
            raise SimulationError(f"unknown basis set {basis!r}: {exc}") from None
        check_spin_option("spin", spin, minimum=0)
        check_spin_option("charge", charge, minimum=-(10**6))
        check_threads(n_threads)
        if not float(conv_tol) > 0 or int(max_cycle) < 1:
            raise SimulationError("conv_tol must be > 0 and max_cycle >= 1")
        if timeout is not None and not float(timeout) > 0:
            raise SimulationError(f"timeout must be > 0 seconds or None, got {timeout!r}")
        self.xc = str(xc)
        self.basis = str(basis)
        self.spin = spin
        self.charge = charge
        self.conv_tol = float(conv_tol)
        self.max_cycle = int(max_cycle)
        self.timeout = None if timeout is None else float(timeout)
        self.device = device
        self.seed = int(seed)
        self.n_threads = n_threads
        self.backend = select_dft_backend(device)

    def __repr__(self) -> str:
        return f"DFT(xc={self.xc!r}, basis={self.basis!r}, backend={self.backend!r})"

    def evaluate_one(self, candidate: ase.Atoms | str) -> Mapping[str, Any]:
        multiplicity = None if self.spin is None else self.spin + 1
        atoms, charge, n_unpaired = molecule_input(candidate, self.seed, self.charge,
                                                   multiplicity, "DFT")
        deadline = None if self.timeout is None else time.perf_counter() + self.timeout
        try:
            with thread_limit(self.n_threads):
                return self._run(atoms, charge, n_unpaired, deadline)
        except _TimeOut as exc:
            raise CandidateError(f"time-out after {self.timeout} s ({exc})") from None
        except Exception as exc:
            if _is_out_of_memory(exc):
                raise CandidateError(f"out of memory ({self.backend}): {exc}") from None
            raise

    def _mol(self, atoms: ase.Atoms, charge: int, n_unpaired: int) -> Any:
        from pyscf import gto

        try:
            return gto.M(
                atom=[(s, tuple(p)) for s, p in zip(atoms.get_chemical_symbols(), atoms.positions)],
                unit="Angstrom", basis=self.basis, charge=charge, spin=n_unpaired, verbose=0,
            )
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CandidateError(
                f"cannot set up {atoms.get_chemical_formula()} in basis {self.basis!r}: {exc}"
            ) from None

    def _mean_field(self, mol: Any, n_unpaired: int) -> Any:
        restricted = n_unpaired == 0
        if self.backend == "gpu4pyscf":
            if self.xc.lower() == "hf":
                from gpu4pyscf import scf as gscf

                return gscf.RHF(mol) if restricted else gscf.UHF(mol)
            from gpu4pyscf.dft import rks, uks

            return rks.RKS(mol, xc=self.xc) if restricted else uks.UKS(mol, xc=self.xc)
        from pyscf import dft, scf

        if self.xc.lower() == "hf":
            return scf.RHF(mol) if restricted else scf.UHF(mol)
        return dft.RKS(mol, xc=self.xc) if restricted else dft.UKS(mol, xc=self.xc)

    def _run(
        self, atoms: ase.Atoms, charge: int, n_unpaired: int, deadline: float | None
    ) -> dict[str, Any]:
        mol = self._mol(atoms, charge, n_unpaired)
        mf = self._mean_field(mol, n_unpaired)
        mf.conv_tol = self.conv_tol
        mf.max_cycle = self.max_cycle
        mf.verbose = 0

        def check_time(envs: Mapping[str, Any]) -> None:
            if deadline is not None and time.perf_counter() > deadline:
                raise _TimeOut(f"SCF cycle {envs.get('cycle', '?')}")

        mf.callback = check_time
        energy = float(mf.kernel())
        if not mf.converged:
            raise CandidateError(
                f"SCF not converged in {self.max_cycle} cycles (conv_tol {self.conv_tol:g} Ha)"
            )
        check_time({"cycle": "end, before the gradient"})
        gradient = _numpy(mf.nuc_grad_method().kernel())  # [n_atoms, 3] Hartree/Bohr
        cpu = mf.to_cpu() if self.backend == "gpu4pyscf" else mf
        dipole = np.asarray(cpu.dip_moment(unit="AU", verbose=0))  # e·Bohr
        homo, lumo = frontier_orbitals(_numpy(cpu.mo_energy), _numpy(cpu.mo_occ))
        return {
            "energy": energy * Hartree,
            "energy_per_atom": energy * Hartree / len(atoms),
            "forces": -gradient * (Hartree / Bohr),
            "gap": (lumo - homo) * Hartree,
            "homo": homo * Hartree,
            "lumo": lumo * Hartree,
            "dipole": dipole * Bohr,
            **structure_values(atoms),
        }
