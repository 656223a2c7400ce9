"""EquivariantGNN inference path: the fast neighbour list, the scalar-only last layer, weights
restored after force prediction, CPU-time budgets, and energy conservation in NVE MD."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms, units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet
from ase.neighborlist import neighbor_list

from surrogates import EquivariantGNN
from surrogates._gnn._graph import to_graph_data
from surrogates.testing import EquivarianceChecks
from tests.surrogates._gnn_data import rattled


def _pairs(i: np.ndarray, j: np.ndarray, d: np.ndarray) -> dict[tuple[int, int], float]:
    return {(int(a), int(b)): float(x) for a, b, x in zip(i, j, d)}


@pytest.mark.parametrize("n_atoms", [30, 400])  # dense matrix / k-d tree
def test_molecule_neighbours_are_ase_pairs(n_atoms):
    rng = np.random.default_rng(n_atoms)
    side = 3.0 * n_atoms ** (1 / 3)
    atoms = Atoms(["C"] * n_atoms, positions=rng.uniform(0, side, (n_atoms, 3)),
                  cell=[50.0, 50.0, 50.0], pbc=False)  # a box, as rMD17 frames carry
    i, j, d = neighbor_list("ijd", atoms, 4.0)
    ours = to_graph_data(atoms, 4.0)
    vec = ours.positions[ours.src] - ours.positions[ours.dst] + ours.shifts
    got = _pairs(ours.dst, ours.src, np.linalg.norm(vec, axis=1))
    want = _pairs(i, j, d)
    assert len(want) > 5 * n_atoms and got.keys() == want.keys()
    np.testing.assert_allclose([got[k] for k in want], list(want.values()), rtol=1e-12)
    assert np.all(ours.shifts == 0.0)


def test_scalar_last_layer_is_scalar_and_ignored_for_the_dipole():
    data = rattled(("CH3OH", "H2O"), 2, seed=40)
    kw = {"channels": 4, "lmax": 2, "n_layers": 2, "cutoff": 4.0, "epochs": 1,
          "dtype": "float64", "scalar_last_layer": True}
    energy = EquivariantGNN(**kw).fit(data)
    assert energy.config_.hidden_irreps == ["4x0e + 4x1o + 4x2e", "4x0e"]
    dipole = EquivariantGNN(target="dipole", **kw).fit(data)
    assert dipole.config_.hidden_irreps == ["4x0e + 4x1o + 4x2e"] * 2
    full = EquivariantGNN(**{**kw, "scalar_last_layer": False}).fit(data)
    n = sum(p.numel() for p in energy.module_.parameters())
    assert n < sum(p.numel() for p in full.module_.parameters())


class TestScalarLastLayerEquivariance(EquivarianceChecks):
    @pytest.fixture(scope="class")
    @classmethod
    def fitted_model(cls):
        data = rattled(("CH3OH", "CH4"), 3, seed=41)
        return EquivariantGNN(channels=4, lmax=2, n_layers=2, cutoff=4.0, n_radial=4, epochs=2,
                              batch_size=4, dtype="float64", scalar_last_layer=True).fit(data)

    @pytest.fixture
    def structure(self):
        return rattled(("CH3OH",), 1, seed=42)[0]


def test_force_prediction_leaves_the_weights_trainable():
    data = rattled(("H2O",), 4, seed=43)
    model = EquivariantGNN(channels=4, lmax=1, n_layers=1, epochs=1).fit(data)
    model.predict_energy_forces(data)
    model.predict(data)
    assert all(p.requires_grad for p in model.module_.parameters())


def test_cpu_time_budget_stops_training_and_bad_clock_is_refused():
    data = rattled(("H2O",), 6, seed=44)
    model = EquivariantGNN(channels=4, lmax=1, n_layers=1, epochs=500, max_time=0.0,
                           max_time_clock="cpu").fit(data)
    assert len(model.history_) == 1
    with pytest.raises(ValueError, match="max_time_clock must be 'wall' or 'cpu'"):
        EquivariantGNN(max_time_clock="gpu").fit(data)


def test_nve_md_with_the_calculator_conserves_energy():
    """Forces are −∇E of a smooth energy, so velocity Verlet keeps E_kin + E_pot constant to
    O(dt²) while the potential energy itself swings."""
    data = rattled(("CH3OH",), 24, seed=45, scale=0.1)
    model = EquivariantGNN(channels=8, lmax=1, n_layers=2, cutoff=4.0, epochs=15, lr=1e-2,
                           batch_size=8, dtype="float64").fit(data)
    atoms = data[0].copy()
    atoms.calc = model.calculator()
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(46))
    dyn = VelocityVerlet(atoms, 0.25 * units.fs)
    e_pot, e_tot = [], []
    for _ in range(100):
        dyn.run(2)
        e_pot.append(atoms.get_potential_energy())
        e_tot.append(e_pot[-1] + atoms.get_kinetic_energy())
    swing = np.ptp(e_pot)
    assert swing > 0.02  # the molecule really moves on the learned surface
    assert np.ptp(e_tot) < 0.05 * swing, (np.ptp(e_tot), swing)
