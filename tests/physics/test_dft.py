"""DFT against a direct PySCF call, backend selection (GPU path by monkeypatching), failures."""

from __future__ import annotations

import sys
import types

import ase
import numpy as np
import pytest
import torch
from ase.build import molecule
from ase.units import Bohr, Hartree

import physics._dft as dft_module
from physics import DFT, SimulationError
from physics._dft import select_dft_backend
from physics._electronic import thread_limit
from physics.testing import SimulatorConformance


@pytest.fixture(autouse=True)
def _one_thread():
    import pyscf.lib  # noqa: F401 - load the OpenMP runtime before limiting it

    with thread_limit(1):
        yield


def _fast_dft(**kw) -> DFT:
    return DFT(xc="b3lyp", basis="sto-3g", device="cpu", n_threads=1, **kw)


class TestDFTConformance(SimulatorConformance):
    rtol, atol = 1e-6, 1e-6  # SCF to conv_tol 1e-8 Ha

    @pytest.fixture
    def simulator(self):
        return _fast_dft()

    @pytest.fixture
    def good_candidates(self):
        return [molecule("H2O"), "[HH]"]

    @pytest.fixture
    def bad_candidates(self):
        return ["C1CC", ase.Atoms()]


def _pyscf_direct(atoms: ase.Atoms, xc: str, basis: str, spin: int = 0):
    from pyscf import dft, gto

    mol = gto.M(atom=[(s, tuple(p)) for s, p in zip(atoms.get_chemical_symbols(),
                                                    atoms.positions)],
                unit="Angstrom", basis=basis, spin=spin, verbose=0)
    mf = (dft.RKS if spin == 0 else dft.UKS)(mol, xc=xc)
    mf.conv_tol = 1e-10
    e = mf.kernel()
    grad = mf.nuc_grad_method().kernel()
    return e * Hartree, -grad * Hartree / Bohr, mf.dip_moment(unit="AU", verbose=0) * Bohr, mf


def test_water_agrees_with_direct_pyscf():
    atoms = molecule("H2O")
    (res,) = _fast_dft(conv_tol=1e-10).evaluate([atoms])
    assert res.ok, res.error
    e, f, d, mf = _pyscf_direct(atoms, "b3lyp", "sto-3g")
    assert res.values["energy"] == pytest.approx(e, abs=1e-6)
    np.testing.assert_allclose(res.values["forces"], f, atol=1e-5)
    np.testing.assert_allclose(res.values["dipole"], d, atol=1e-5)
    n_occ = mf.mol.nelectron // 2
    assert n_occ == 5
    gap = (mf.mo_energy[n_occ] - mf.mo_energy[n_occ - 1]) * Hartree
    assert res.values["gap"] == pytest.approx(gap, abs=1e-5)
    # Newton's third law: no net force, up to the XC quadrature grid (~1e-3 eV/Å in sto-3g)
    np.testing.assert_allclose(res.values["forces"].sum(axis=0), 0.0, atol=2e-3)


def test_open_shell_uses_uks_and_agrees_with_pyscf():
    atom = ase.Atoms("H")  # one electron: spin 1 from the parity, so UKS
    (res,) = _fast_dft().evaluate([atom])
    e, _, _, _ = _pyscf_direct(atom, "b3lyp", "sto-3g", spin=1)
    assert res.values["energy"] == pytest.approx(e, abs=1e-6)
    (forced,) = _fast_dft(spin=0).evaluate([atom])
    assert not forced.ok and "cannot have spin multiplicity 1" in forced.error


def test_forces_match_finite_differences_hf():
    atoms = ase.Atoms("HF", positions=[[0, 0, 0], [0.1, 0.05, 0.95]])
    sim = DFT(xc="hf", basis="sto-3g", device="cpu", conv_tol=1e-11)
    (res,) = sim.evaluate([atoms])
    h = 1e-4
    for i, k in [(0, 2), (1, 0), (1, 2)]:
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[i, k] += h
        minus.positions[i, k] -= h
        ep, em = (r.values["energy"] for r in sim.evaluate([plus, minus]))
        assert res.values["forces"][i, k] == pytest.approx(-(ep - em) / (2 * h), abs=2e-5)


def test_scf_failure_time_out_and_out_of_memory_are_reasons(monkeypatch):
    water = molecule("H2O")
    (res,) = _fast_dft(max_cycle=2).evaluate([water])
    assert not res.ok and "SCF not converged in 2 cycles" in res.error
    (res,) = _fast_dft(timeout=1e-9).evaluate([water])
    assert not res.ok and res.error.startswith("time-out after 1e-09 s")

    class OutOfMemoryError(Exception):  # the name cupy and torch use on a GPU
        pass

    for exc in (MemoryError("host"), OutOfMemoryError("device")):
        def boom(self, *a, _exc=exc, **k):
            raise _exc
        monkeypatch.setattr(DFT, "_mean_field", boom)
        (res,) = _fast_dft().evaluate([water])
        assert not res.ok and res.error.startswith("out of memory (pyscf)"), res.error


def test_misconfiguration_raises():
    with pytest.raises(SimulationError, match="functional 'nope'"):
        DFT(xc="nope")
    with pytest.raises(SimulationError, match="basis set 'nope'"):
        DFT(basis="nope")
    with pytest.raises(SimulationError, match="timeout"):
        DFT(timeout=0)


# -- backend selection -------------------------------------------------------------------------

def test_cpu_path_here():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert select_dft_backend("auto") == "pyscf"
    assert DFT(basis="sto-3g").backend == "pyscf"
    with pytest.raises(SimulationError, match="CUDA is not available"):
        DFT(basis="sto-3g", device="cuda")


def test_gpu_selected_when_cuda_and_gpu4pyscf(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(dft_module, "_gpu4pyscf_importable", lambda: True)
    assert select_dft_backend("auto") == "gpu4pyscf"
    assert select_dft_backend("cuda") == "gpu4pyscf"
    assert select_dft_backend("cpu") == "pyscf"
    monkeypatch.setattr(dft_module, "_gpu4pyscf_importable", lambda: False)
    assert select_dft_backend("auto") == "pyscf"  # CUDA without gpu4pyscf: CPU, not a crash
    with pytest.raises(SimulationError, match="needs gpu4pyscf"):
        select_dft_backend("cuda")


def test_gpu_code_path_runs_with_a_stand_in_gpu4pyscf(monkeypatch):
    """The GPU branch builds gpu4pyscf.dft.rks.RKS / uks.UKS and calls .to_cpu(); a stand-in
    module (PySCF underneath) checks that plumbing end to end on this CPU-only machine."""
    from pyscf import dft

    calls: list[str] = []

    def wrap(kind, cls):
        def make(mol, xc):
            mf = cls(mol, xc=xc)
            calls.append(kind)
            mf.to_cpu = lambda: calls.append("to_cpu") or mf
            return mf
        return make

    pkg = types.ModuleType("gpu4pyscf")
    sub = types.ModuleType("gpu4pyscf.dft")
    sub.rks = types.SimpleNamespace(RKS=wrap("RKS", dft.RKS))
    sub.uks = types.SimpleNamespace(UKS=wrap("UKS", dft.UKS))
    pkg.dft = sub
    monkeypatch.setitem(sys.modules, "gpu4pyscf", pkg)
    monkeypatch.setitem(sys.modules, "gpu4pyscf.dft", sub)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    sim = DFT(basis="sto-3g", n_threads=1)
    assert sim.backend == "gpu4pyscf"
    gpu = sim.evaluate([molecule("H2O"), ase.Atoms("H")])
    cpu = _fast_dft().evaluate([molecule("H2O"), ase.Atoms("H")])
    assert calls == ["RKS", "to_cpu", "UKS", "to_cpu"]
    for g, c in zip(gpu, cpu):
        assert g.ok and g.values["energy"] == pytest.approx(c.values["energy"], abs=1e-7)
