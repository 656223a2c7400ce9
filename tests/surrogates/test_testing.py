"""The conformance suites themselves: they pass for correct models and fail for broken ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import molecule
from ase.calculators.lj import LennardJones

from surrogates import Prediction, Surrogate
from surrogates._io import register_model
from surrogates.testing import EquivarianceChecks, SurrogateConformance


@register_model
class _Ridge(Surrogate):
    """Ridge regression y = w·x + b, closed form; the noise column is seeded."""

    def __init__(self, alpha: float = 1e-3, random_state: int = 0) -> None:
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        A = np.c_[X, np.ones(len(X))]
        reg = self.alpha * np.eye(A.shape[1])
        self.coef_ = np.linalg.solve(A.T @ A + reg, A.T @ np.asarray(y, dtype=float))
        return self

    def predict(self, X):
        self._require_fitted("coef_")
        return Prediction(np.c_[np.asarray(X, dtype=float), np.ones(len(X))] @ self.coef_)

    def _to_state(self):
        self._require_fitted("coef_")
        return {"params": self.get_params()}, {"coef": torch.as_tensor(self.coef_)}

    @classmethod
    def _from_state(cls, meta, tensors):
        obj = cls(**meta["params"])
        obj.coef_ = tensors["coef"].numpy()
        return obj


class TestRidgeConforms(SurrogateConformance):
    @pytest.fixture
    def surrogate(self):
        return _Ridge(alpha=0.1)

    @pytest.fixture
    def training_data(self):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 3))
        y = X @ [1.0, 2.0, -1.0] + 0.3
        return X, (y,), {}, rng.normal(size=(7, 3))


class _LJModel:
    """Lennard-Jones energies and forces from ASE: exact physics for the equivariance suite."""

    def __init__(self, shift: np.ndarray | None = None) -> None:
        self.shift = shift  # a fixed external field breaks rotation invariance

    def _energy_forces(self, atoms):
        a = atoms.copy()
        a.calc = LennardJones(sigma=1.0, epsilon=0.1, rc=6.0, smooth=True)
        e, f = a.get_potential_energy(), a.get_forces()
        if self.shift is not None:
            e = e - float(np.sum(a.get_positions() @ self.shift))
            f = f + self.shift
        return e, f

    def predict(self, structures):
        return Prediction(np.array([self._energy_forces(a)[0] for a in structures]))

    def predict_forces(self, structures):
        return [self._energy_forces(a)[1] for a in structures]


class TestLennardJonesIsEquivariant(EquivarianceChecks):
    @pytest.fixture
    def fitted_model(self):
        return _LJModel()

    @pytest.fixture
    def structure(self):
        atoms = molecule("CH4")
        atoms.positions *= 1.3  # spread the atoms so LJ energies are moderate
        return atoms


def test_equivariance_checks_catch_a_field_that_breaks_rotation():
    atoms = molecule("CH4")
    atoms.positions *= 1.3
    broken = _LJModel(shift=np.array([0.2, 0.0, 0.0]))
    checks = EquivarianceChecks()
    with pytest.raises(AssertionError, match="rotation"):
        checks.test_energy_invariant_and_forces_rotate(broken, atoms)
    # the field is still conservative, so forces = −∇E holds
    checks.test_forces_are_minus_energy_gradient(broken, atoms)


def test_conformance_catches_nondeterminism():
    class _Noisy(_Ridge):
        def fit(self, X, y):
            super().fit(X, y)
            self.coef_ = self.coef_ + np.random.default_rng().normal(size=self.coef_.shape)
            return self

    X = np.random.default_rng(0).normal(size=(10, 2))
    data = (X, (X.sum(1),), {}, X)
    with pytest.raises(AssertionError):
        SurrogateConformance().test_deterministic_for_fixed_random_state(_Noisy(), data)


def _ridge_data():
    X = np.random.default_rng(0).normal(size=(10, 2))
    return (X, (X.sum(1),), {}, X)


def test_conformance_catches_a_model_with_its_own_not_fitted_error():
    class _OwnError(_Ridge):  # the drift the suite used to let through: RuntimeError
        def predict(self, X):
            if "coef_" not in vars(self):
                raise RuntimeError("_OwnError is not fitted yet; call fit() first")
            return super().predict(X)

    suite = SurrogateConformance()
    suite.test_predict_before_fit_raises_clearly(_Ridge(), _ridge_data())
    with pytest.raises(RuntimeError, match="not fitted"):
        suite.test_predict_before_fit_raises_clearly(_OwnError(), _ridge_data())


def test_conformance_catches_undeclared_capabilities():
    class _Undeclared(_Ridge):
        fits = "spectra"  # not one of surrogates._base.FITS

    suite = SurrogateConformance()
    suite.test_declares_its_capabilities(_Ridge())
    with pytest.raises(AssertionError, match="fits"):
        suite.test_declares_its_capabilities(_Undeclared())
