"""ASESimulator: EMT/LJ against analytic results and finite differences."""

from __future__ import annotations

import ase
import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.calculators.lj import LennardJones

from physics import ASESimulator, SimulationError, make_simulator
from physics.testing import SimulatorConformance


def _cu_cluster() -> ase.Atoms:
    rng = np.random.default_rng(3)
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.pbc = False
    atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
    return atoms


class TestASEConformance(SimulatorConformance):
    @pytest.fixture
    def simulator(self):
        return ASESimulator("emt", targets=("energy", "forces", "energy_per_atom"))

    @pytest.fixture
    def good_candidates(self):
        return [bulk("Cu", "fcc", a=3.6), _cu_cluster(), "C"]  # EMT knows H, C, N, O too

    @pytest.fixture
    def bad_candidates(self):
        return [bulk("Si"), "C1CC"]


def test_lj_dimer_matches_the_analytic_potential():
    eps, sigma, rc = 0.7, 1.3, 4.0
    sim = ASESimulator("lj", epsilon=eps, sigma=sigma, rc=rc)
    for r in (1.2, 2 ** (1 / 6) * 1.3, 2.0):
        dimer = ase.Atoms("Ar2", positions=[[0, 0, 0], [0, 0, r]])
        (res,) = sim.evaluate([dimer])

        def v(x):
            return 4 * eps * ((sigma / x) ** 12 - (sigma / x) ** 6)

        assert res.values["energy"] == pytest.approx(v(r) - v(rc), rel=1e-10)
        f_z = 24 * eps / r * (2 * (sigma / r) ** 12 - (sigma / r) ** 6)  # on atom 1, along +z
        np.testing.assert_allclose(res.values["forces"], [[0, 0, -f_z], [0, 0, f_z]],
                                   atol=1e-10)
    # at the minimum r = 2^(1/6) sigma the force vanishes
    dimer = ase.Atoms("Ar2", positions=[[0, 0, 0], [0, 0, 2 ** (1 / 6) * sigma]])
    assert np.abs(sim.evaluate([dimer])[0].values["forces"]).max() < 1e-10


def test_emt_forces_are_minus_the_energy_gradient():
    atoms = _cu_cluster()
    sim = ASESimulator("emt")
    forces = sim.evaluate([atoms])[0].values["forces"]
    h = 1e-5
    for i, k in [(0, 0), (1, 2), (3, 1)]:
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[i, k] += h
        minus.positions[i, k] -= h
        ep, em = (r.values["energy"] for r in sim.evaluate([plus, minus]))
        assert forces[i, k] == pytest.approx(-(ep - em) / (2 * h), abs=1e-6)


def test_callable_calculator_and_failures_named():
    sim = ASESimulator(lambda **kw: LennardJones(sigma=1.0, **kw), targets=["energy"])
    (res,) = sim.evaluate([molecule("H2O")])
    assert res.ok and set(res.values) == {"energy", "numbers", "positions"}
    (bad,) = ASESimulator("emt").evaluate([bulk("Si")])
    assert not bad.ok and "EMT failed on Si2" in bad.error and "Si" in bad.error


def test_misconfiguration_raises():
    with pytest.raises(SimulationError, match="unknown ASE calculator 'vasp'"):
        ASESimulator("vasp")
    with pytest.raises(SimulationError, match="unsupported targets"):
        ASESimulator("emt", targets=("colour",))
    with pytest.raises(SimulationError, match="does not implement"):
        ASESimulator("lj", targets=("dipole",))
    assert isinstance(make_simulator("ase", calculator="lj"), ASESimulator)
