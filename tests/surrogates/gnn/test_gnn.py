"""EquivariantGNN: the surrogate contract, E(3) symmetry and periodic cells, in float64."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from surrogates import EquivariantGNN
from surrogates.testing import EquivarianceChecks, SurrogateConformance
from tests.surrogates._gnn_data import rattled, rattled_copper

TINY = {"channels": 4, "lmax": 1, "n_layers": 1, "cutoff": 4.0, "n_radial": 4, "epochs": 3,
        "batch_size": 4, "dtype": "float64"}


class TestEnergyFromAttachedResults(SurrogateConformance):
    """targets=None: energies and forces read from each structure's SinglePointCalculator."""

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls):
        return rattled(("CH3OH", "CH4", "H2O"), 4, seed=1)

    @pytest.fixture
    def surrogate(self):
        return EquivariantGNN(**TINY)

    @pytest.fixture
    def training_data(self, data):
        return data[:9], (), {}, data[9:]


class TestScalarFromArray(SurrogateConformance):
    """A campaign's call: fit(atoms_list, y) with y a 1-D array of the configured target."""

    @pytest.fixture(scope="class")
    @classmethod
    def data(cls):
        return rattled(("CH3OH", "NH3", "H2O"), 4, seed=2)

    @pytest.fixture
    def surrogate(self):
        return EquivariantGNN(target="energy_per_atom", **{**TINY, "dtype": "float32"})

    @pytest.fixture
    def training_data(self, data):
        y = np.array([a.info["energy_per_atom"] for a in data[:9]])
        return data[:9], (y,), {}, data[9:]


class TestGNNEquivariance(EquivarianceChecks):
    @pytest.fixture(scope="class")
    @classmethod
    def fitted_model(cls):
        data = rattled(("CH3OH", "CH4"), 3, seed=3)
        params = {**TINY, "lmax": 2, "n_layers": 2, "epochs": 2}
        return EquivariantGNN(**params).fit(data)

    @pytest.fixture
    def structure(self):
        return rattled(("CH3OH",), 1, seed=4)[0]


def test_dipole_head_rotates_with_the_molecule():
    data = rattled(("CH3OH", "H2O"), 3, seed=5)
    model = EquivariantGNN(target="dipole", **TINY).fit(data)
    atoms = data[0]
    mu = model.predict([atoms]).mean
    assert mu.shape == (1, 3) and np.linalg.norm(mu) > 1e-6
    for seed in range(3):
        R = Rotation.random(random_state=seed).as_matrix()
        turned = atoms.copy()
        turned.positions = atoms.positions @ R.T + np.array([1.0, -2.0, 0.5])
        np.testing.assert_allclose(model.predict([turned]).mean[0], R @ mu[0],
                                   rtol=1e-10, atol=1e-12)
    mirrored = atoms.copy()
    mirrored.positions[:, 0] *= -1
    np.testing.assert_allclose(model.predict([mirrored]).mean[0], mu[0] * [-1, 1, 1],
                               rtol=1e-10, atol=1e-12)


def test_periodic_supercell_energy_and_forces_repeat():
    """A 2×1×1 supercell of a periodic cell has twice the energy and the same forces."""
    data = rattled_copper(6, seed=6)
    model = EquivariantGNN(**{**TINY, "cutoff": 3.0, "epochs": 2}).fit(data)
    cell = data[0]
    big = cell.repeat((2, 1, 1))
    e_cell, f_cell = model.predict_energy_forces([cell])
    e_big, f_big = model.predict_energy_forces([big])
    np.testing.assert_allclose(e_big[0], 2 * e_cell[0], rtol=1e-10)
    np.testing.assert_allclose(f_big[0], np.vstack([f_cell[0]] * 2), atol=1e-10)
    # the periodic images matter: the same atoms without periodic boundaries differ
    isolated = cell.copy()
    isolated.pbc = False
    assert abs(model.predict([isolated]).mean[0] - e_cell[0]) > 1e-6
