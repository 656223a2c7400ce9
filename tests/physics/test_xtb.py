"""XTB against tblite itself and against physical truth (finite differences, E(3) symmetry)."""

from __future__ import annotations

import ase
import numpy as np
import pytest
from ase.build import molecule
from scipy.spatial.transform import Rotation

from physics import XTB, SimulationError, make_simulator, smiles_to_atoms
from physics._electronic import thread_limit
from physics.testing import SimulatorConformance


@pytest.fixture(autouse=True)
def _one_thread():
    """Direct tblite calls here get one thread too (spin-waiting OpenMP threads on a shared,
    oversubscribed CPU slow small calculations a hundredfold)."""
    import tblite.interface  # noqa: F401 - load the OpenMP runtime before limiting it

    with thread_limit(1):
        yield


class TestXTBConformance(SimulatorConformance):
    rtol, atol = 1e-9, 1e-9

    @pytest.fixture
    def simulator(self):
        return XTB(n_threads=1)

    @pytest.fixture
    def good_candidates(self):
        return [molecule("H2O"), "CCO"]

    @pytest.fixture
    def bad_candidates(self):
        # invalid SMILES, an element beyond Rn, an odd electron count forced to be a singlet
        return ["C1CC", "[U]", ase.Atoms("H", info={"multiplicity": 1})]


def _tblite_direct(atoms: ase.Atoms, method: str = "GFN2-xTB", charge: int = 0):
    from tblite.ase import TBLite

    atoms = atoms.copy()
    atoms.calc = TBLite(method=method, charge=charge, multiplicity=1, verbosity=0)
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_dipole_moment()


@pytest.mark.parametrize("method", ["GFN2-xTB", "GFN1-xTB"])
def test_equals_tblite_called_directly(method):
    atoms = smiles_to_atoms("CC(=O)Nc1ccc(O)cc1")  # paracetamol
    (res,) = XTB(method=method, n_threads=1).evaluate([atoms])
    assert res.ok, res.error
    e, f, d = _tblite_direct(atoms, method)
    assert res.values["energy"] == pytest.approx(e, rel=1e-12, abs=1e-9)
    assert res.values["energy_per_atom"] == pytest.approx(e / len(atoms), rel=1e-12)
    np.testing.assert_allclose(res.values["forces"], f, atol=1e-9)
    np.testing.assert_allclose(res.values["dipole"], d, atol=1e-9)


def test_charged_molecule_equals_tblite_with_that_charge():
    atoms = smiles_to_atoms("C[NH3+]")
    (res,) = XTB(n_threads=1).evaluate([atoms])
    assert res.ok, res.error
    e, f, _ = _tblite_direct(atoms, charge=1)
    assert res.values["energy"] == pytest.approx(e, rel=1e-12)
    np.testing.assert_allclose(res.values["forces"], f, atol=1e-9)
    e_neutral_guess, _, _ = _tblite_direct(atoms, charge=-1)
    assert abs(e - e_neutral_guess) > 0.1  # the charge really reaches tblite


def test_gap_from_orbital_energies():
    from ase.units import Bohr, Hartree
    from tblite.interface import Calculator

    atoms = molecule("H2O")
    calc = Calculator("GFN2-xTB", atoms.numbers, atoms.positions / Bohr, 0, 0)
    calc.set("verbosity", 0)
    r = calc.singlepoint()
    eps, occ = r.get("orbital-energies"), r.get("orbital-occupations")
    n_occ = round(occ.sum() / 2)  # 8 valence electrons, 4 doubly occupied orbitals
    assert n_occ == 4
    (res,) = XTB(n_threads=1).evaluate([atoms])
    assert res.values["gap"] == pytest.approx((eps[n_occ] - eps[n_occ - 1]) * Hartree, rel=1e-10)
    assert 5.0 < res.values["gap"] < 25.0


def test_forces_are_minus_the_energy_gradient():
    atoms = smiles_to_atoms("CCO", optimize=False)
    sim = XTB(accuracy=0.01, n_threads=1)
    forces = sim.evaluate([atoms])[0].values["forces"]
    h = 1e-4  # Å
    fd = np.zeros_like(forces)
    for i in range(len(atoms)):
        for k in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[i, k] += h
            minus.positions[i, k] -= h
            ep, em = (r.values["energy"] for r in sim.evaluate([plus, minus]))
            fd[i, k] = -(ep - em) / (2 * h)
    assert np.abs(forces).max() > 0.1  # a non-trivial check: the geometry is not a minimum
    np.testing.assert_allclose(forces, fd, atol=2e-5)


def test_rotation_and_translation():
    atoms = smiles_to_atoms("CC(=O)O")
    rot = Rotation.random(random_state=7).as_matrix()
    moved = atoms.copy()
    moved.positions = atoms.positions @ rot.T + np.array([3.0, -1.5, 10.0])
    a, b = XTB(n_threads=1).evaluate([atoms, moved])
    assert b.values["energy"] == pytest.approx(a.values["energy"], abs=1e-8)
    assert b.values["gap"] == pytest.approx(a.values["gap"], abs=1e-7)
    np.testing.assert_allclose(b.values["forces"], a.values["forces"] @ rot.T, atol=1e-6)
    # neutral molecule: the dipole is origin-free and rotates as a vector
    np.testing.assert_allclose(b.values["dipole"], a.values["dipole"] @ rot.T, atol=1e-6)


def test_open_shell_and_spin_options():
    radical = smiles_to_atoms("[CH3]")  # info["multiplicity"] == 2
    (singlet,) = XTB(multiplicity=1, n_threads=1).evaluate([radical])
    assert not singlet.ok and "9 electrons" in singlet.error and "multiplicity 1" in singlet.error
    (doublet,) = XTB(n_threads=1).evaluate([radical])  # the default reads the SMILES's spin
    assert doublet.ok, doublet.error
    (explicit,) = XTB(multiplicity=2, n_threads=1).evaluate([radical])
    assert explicit.values["energy"] == pytest.approx(doublet.values["energy"], abs=1e-9)


def test_relaxation_lowers_energy_and_reaches_fmax():
    atoms = smiles_to_atoms("CCO", optimize=False)
    start = XTB(n_threads=1).evaluate([atoms])
    relaxed = XTB(relax=True, fmax=0.02, n_threads=1).evaluate([atoms])
    assert relaxed[0].ok, relaxed[0].error
    assert relaxed[0].values["energy"] < start[0].values["energy"]
    assert np.linalg.norm(relaxed[0].values["forces"], axis=1).max() < 0.02
    assert relaxed[0].values["positions"].shape == (len(atoms), 3)
    (capped,) = XTB(relax=True, fmax=1e-6, max_steps=2, n_threads=1).evaluate([atoms])
    assert not capped.ok and "did not reach fmax" in capped.error


def test_scf_failure_is_a_reason_not_an_exception():
    (res,) = XTB(max_iterations=2, n_threads=1).evaluate([molecule("H2O")])
    assert not res.ok and "SCF not converged" in res.error


def test_misconfiguration_raises():
    with pytest.raises(SimulationError, match="unknown xTB method 'GFN3'"):
        XTB(method="GFN3")
    with pytest.raises(SimulationError, match="fmax"):
        XTB(fmax=0)
    with pytest.raises(SimulationError, match="multiplicity"):
        XTB(multiplicity=0)
    with pytest.raises(SimulationError, match="n_threads"):
        XTB(n_threads=0)
    sim = make_simulator("xtb", method="gfn1")
    assert isinstance(sim, XTB) and sim.method == "GFN1-xTB"


def test_result_carries_the_structure_its_values_belong_to():
    water = molecule("H2O")
    res = XTB().evaluate([water, "CCO"])
    np.testing.assert_array_equal(res[0].values["numbers"], water.numbers)
    np.testing.assert_allclose(res[0].values["positions"], water.positions, atol=1e-12)
    built = smiles_to_atoms("CCO")  # a SMILES candidate: the geometry xTB built and used
    np.testing.assert_array_equal(res[1].values["numbers"], built.numbers)
    np.testing.assert_allclose(res[1].values["positions"], built.positions, atol=1e-9)
    assert res[1].values["forces"].shape == res[1].values["positions"].shape
