"""Conformance suites every surrogate's tests subclass (like ``optuna.testing`` or sklearn's
``check_estimator``).

Usage::

    from surrogates.testing import SurrogateConformance

    class TestMyModel(SurrogateConformance):
        @pytest.fixture
        def surrogate(self):
            return MyModel(epochs=3, random_state=0)       # unfitted, small and fast

        @pytest.fixture
        def training_data(self):
            return X_train, (y_train,), {}, X_test          # fit(X_train, *args, **kwargs)

Models of ``ase.Atoms`` that predict an energy also subclass :class:`EquivarianceChecks`
and supply ``fitted_model`` (a fitted float64 model) and ``structure`` (an ``ase.Atoms`` with at
least two atoms). The checks compare against physical truth: the energy does not change under
rotation, reflection, translation or a relabelling of the atoms; forces rotate with the
structure and equal −∇E by central finite differences.

Neither class starts with ``Test``, so pytest does not collect them by themselves.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError

from ._base import Surrogate
from ._io import Saveable
from ._prediction import Prediction

__all__ = ["EquivarianceChecks", "SurrogateConformance", "TrainingData"]

#: ``(X_train, fit_args, fit_kwargs, X_test)``; called as ``fit(X_train, *fit_args, **fit_kwargs)``
TrainingData = tuple[Any, tuple, dict, Any]

#: (rtol, atol) for comparing two predictions, keyed by the model's floating-point precision
_TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}


def _precision(model: Surrogate) -> str:
    """``"float32"`` when the model says it computes in single precision, else ``"float64"``."""
    dtype = model.get_params(deep=False).get("dtype", "float64")
    return "float32" if "32" in str(dtype) else "float64"


def _items(X: Any) -> list[Any]:
    """Split a batch into a list of batches of one (arrays keep their 2-D shape)."""
    if isinstance(X, np.ndarray):
        return [X[i : i + 1] for i in range(len(X))]
    return [[x] for x in X]


def _params_equal(a: Any, b: Any) -> bool:
    """Parameter equality as sklearn's clone means it: estimators by type and params."""
    if isinstance(a, BaseEstimator) and isinstance(b, BaseEstimator):
        pa, pb = a.get_params(deep=False), b.get_params(deep=False)
        return type(a) is type(b) and pa.keys() == pb.keys() and all(
            _params_equal(pa[k], pb[k]) for k in pa
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    try:
        return bool(a == b) or (a != a and b != b)  # NaN == NaN for our purposes
    except Exception:
        return repr(a) == repr(b)


class SurrogateConformance:
    """The contract of :class:`~surrogates.Surrogate`, as tests.

    A subclass supplies two fixtures:

    - ``surrogate``: an unfitted instance (small, fast; a few seconds to fit at most);
    - ``training_data``: ``(X_train, fit_args, fit_kwargs, X_test)``.

    Tolerances for "the same prediction" follow the model's ``dtype`` parameter (float32:
    rtol 1e-4, atol 1e-5; float64 or none: rtol 1e-10, atol 1e-12); override
    :meth:`tolerance` to change them.
    """

    def tolerance(self, model: Surrogate) -> tuple[float, float]:
        """``(rtol, atol)`` used when two predictions must agree."""
        return _TOLERANCES[_precision(model)]

    # --- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _fit(model: Surrogate, data: TrainingData) -> Surrogate:
        X_train, args, kwargs, _ = data
        return model.fit(X_train, *args, **kwargs)

    def _assert_same(self, model: Surrogate, a: Prediction, b: Prediction, what: str) -> None:
        rtol, atol = self.tolerance(model)
        np.testing.assert_allclose(a.mean, b.mean, rtol=rtol, atol=atol, err_msg=what)
        if a.std is not None or b.std is not None:
            assert a.std is not None and b.std is not None, f"{what}: std present in only one"
            np.testing.assert_allclose(a.std, b.std, rtol=rtol, atol=atol, err_msg=what)

    # --- the contract ----------------------------------------------------------------------
    def test_is_a_surrogate(self, surrogate: Surrogate) -> None:
        assert isinstance(surrogate, Surrogate)

    def test_init_only_stores_parameters(self, surrogate: Surrogate) -> None:
        learned = [k for k in vars(surrogate) if k.endswith("_") and not k.startswith("_")]
        assert not learned, f"unfitted {type(surrogate).__name__} already has {learned}"

    def test_fit_returns_self(self, surrogate: Surrogate, training_data: TrainingData) -> None:
        assert self._fit(surrogate, training_data) is surrogate

    def test_learned_attributes_end_in_underscore(
        self, surrogate: Surrogate, training_data: TrainingData
    ) -> None:
        params_before = clone(surrogate).get_params(deep=False)
        before = set(vars(surrogate))
        self._fit(surrogate, training_data)
        added = [k for k in set(vars(surrogate)) - before if not k.startswith("_")]
        bad = [k for k in added if not k.endswith("_")]
        assert not bad, f"fit set public attributes without a trailing underscore: {bad}"
        assert added, "fit set no learned attribute (name ending in '_')"
        after = surrogate.get_params(deep=False)
        changed = [k for k in after if not _params_equal(after[k], params_before[k])]
        assert not changed, f"fit changed constructor parameters {changed}"

    def test_predict_returns_prediction(
        self, surrogate: Surrogate, training_data: TrainingData
    ) -> None:
        X_test = training_data[3]
        pred = self._fit(surrogate, training_data).predict(X_test)
        assert isinstance(pred, Prediction)
        assert len(pred) == len(X_test)
        assert np.all(np.isfinite(pred.mean)), "predict returned non-finite means"

    def test_clone_is_unfitted_with_equal_params(
        self, surrogate: Surrogate, training_data: TrainingData
    ) -> None:
        fitted = self._fit(surrogate, training_data)
        copy = clone(fitted)
        assert copy is not fitted
        pa, pb = fitted.get_params(deep=False), copy.get_params(deep=False)
        assert pa.keys() == pb.keys()
        differ = [k for k in pa if not _params_equal(pa[k], pb[k])]
        assert not differ, f"clone changed parameters {differ}"
        learned = [k for k in vars(copy) if k.endswith("_") and not k.startswith("_")]
        assert not learned, f"clone carried learned state {learned}"

    def test_batch_equals_one_at_a_time(
        self, surrogate: Surrogate, training_data: TrainingData
    ) -> None:
        X_test = training_data[3]
        model = self._fit(surrogate, training_data)
        batch = model.predict(X_test)
        single = Prediction.concatenate([model.predict(x) for x in _items(X_test)])
        self._assert_same(model, batch, single, "batch vs one-at-a-time prediction")

    def test_save_load_round_trip(
        self, surrogate: Surrogate, training_data: TrainingData, tmp_path: os.PathLike
    ) -> None:
        X_test = training_data[3]
        model = self._fit(surrogate, training_data)
        path = model.save(os.path.join(tmp_path, "model.safetensors"))
        back = type(model).load(path)
        assert type(back) is type(model)
        pa, pb = model.get_params(deep=False), back.get_params(deep=False)
        assert all(_params_equal(pa[k], pb[k]) for k in pa), "loaded model has other params"
        self._assert_same(model, model.predict(X_test), back.predict(X_test), "save/load")

    def test_predict_before_fit_raises_clearly(
        self, surrogate: Surrogate, training_data: TrainingData
    ) -> None:
        with pytest.raises(NotFittedError, match=r"(?i)fit"):
            surrogate.predict(training_data[3])
        if type(surrogate)._to_state is not Saveable._to_state:  # a model that can be saved
            with pytest.raises(NotFittedError, match=r"(?i)fit"):
                surrogate.save(os.path.join(os.devnull, "never.safetensors"))

    def test_declares_its_capabilities(self, surrogate: Surrogate) -> None:
        from ._base import FITS, INPUT_KINDS, Compression

        cls = type(surrogate)
        assert cls.input_kind in INPUT_KINDS, f"input_kind {cls.input_kind!r}"
        assert cls.fits in FITS, f"fits {cls.fits!r}"
        assert isinstance(cls.compression, Compression)
        names, _ = cls.option_names()
        assert set(surrogate.get_params(deep=False)) <= set(names)

    def test_deterministic_for_fixed_random_state(
        self, surrogate: Surrogate, training_data: TrainingData
    ) -> None:
        X_test = training_data[3]
        a = self._fit(clone(surrogate), training_data).predict(X_test)
        b = self._fit(clone(surrogate), training_data).predict(X_test)
        self._assert_same(surrogate, a, b, "two fits with the same random_state")


# --- equivariance ----------------------------------------------------------------------------
def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random proper rotation matrix (3, 3) with det +1 (QR of a Gaussian)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _random_reflection(rng: np.random.Generator) -> np.ndarray:
    """A reflection through a random plane, I − 2 n nᵀ (det −1)."""
    n = rng.normal(size=3)
    n /= np.linalg.norm(n)
    return np.eye(3) - 2.0 * np.outer(n, n)


def _transformed(atoms: Any, matrix: np.ndarray) -> Any:
    """A copy with positions (and cell) mapped by ``x -> matrix @ x`` about the centre."""
    out = atoms.copy()
    centre = atoms.get_positions().mean(axis=0)
    out.set_positions((atoms.get_positions() - centre) @ matrix.T + centre)
    if atoms.cell.rank == 3:
        out.set_cell(np.asarray(atoms.cell) @ matrix.T, scale_atoms=False)
    return out


class EquivarianceChecks:
    """E(3) symmetry of an energy model of ``ase.Atoms``, in float64.

    A subclass supplies fixtures ``fitted_model`` (a fitted float64 model) and ``structure``
    (an ``ase.Atoms``, two or more atoms, ideally with repeated elements). By default the
    energy is ``model.predict([atoms]).mean[0]`` (eV) and forces ``model.predict_forces([atoms])
    [0]`` ((n_atoms, 3) eV/Å); override :meth:`energy` / :meth:`forces` otherwise.

    Class attributes set the bars: ``invariance_rtol`` (relative energy error, 1e-10),
    ``fd_step`` (Å, central differences) and ``fd_rtol`` (relative to the largest force).
    """

    invariance_rtol: ClassVar[float] = 1e-10
    fd_step: ClassVar[float] = 1e-4
    fd_rtol: ClassVar[float] = 1e-5
    n_random: ClassVar[int] = 3

    def energy(self, model: Any, atoms: Any) -> float:
        """Energy of one structure in eV."""
        return float(np.asarray(model.predict([atoms]).mean).reshape(-1)[0])

    def forces(self, model: Any, atoms: Any) -> np.ndarray:
        """Forces on one structure, shape (n_atoms, 3), eV/Å."""
        return np.asarray(model.predict_forces([atoms])[0], dtype=float)

    # --- helpers ---------------------------------------------------------------------------
    def _assert_energy_equal(self, e0: float, e1: float, what: str) -> None:
        scale = max(abs(e0), 1e-6)
        rel = abs(e1 - e0) / scale
        assert rel < self.invariance_rtol, f"{what}: relative energy change {rel:.3e}"

    def _assert_forces_equal(self, f0: np.ndarray, f1: np.ndarray, what: str) -> None:
        scale = max(float(np.abs(f0).max()), 1e-6)
        err = float(np.abs(f1 - f0).max()) / scale
        assert err < 1e3 * self.invariance_rtol, f"{what}: relative force error {err:.3e}"

    def _check_linear_map(self, model: Any, atoms: Any, matrix: np.ndarray, what: str) -> None:
        moved = _transformed(atoms, matrix)
        self._assert_energy_equal(self.energy(model, atoms), self.energy(model, moved), what)
        f0, f1 = self.forces(model, atoms), self.forces(model, moved)
        self._assert_forces_equal(f0 @ matrix.T, f1, f"forces under {what}")

    # --- the checks ------------------------------------------------------------------------
    def test_energy_invariant_and_forces_rotate(self, fitted_model: Any, structure: Any) -> None:
        rng = np.random.default_rng(11)
        for _ in range(self.n_random):
            self._check_linear_map(fitted_model, structure, _random_rotation(rng), "rotation")

    def test_energy_invariant_under_reflection(self, fitted_model: Any, structure: Any) -> None:
        rng = np.random.default_rng(12)
        for _ in range(self.n_random):
            self._check_linear_map(fitted_model, structure, _random_reflection(rng), "reflection")

    def test_energy_invariant_under_translation(self, fitted_model: Any, structure: Any) -> None:
        rng = np.random.default_rng(13)
        e0, f0 = self.energy(fitted_model, structure), self.forces(fitted_model, structure)
        for _ in range(self.n_random):
            moved = structure.copy()
            moved.translate(rng.normal(scale=3.0, size=3))
            self._assert_energy_equal(e0, self.energy(fitted_model, moved), "translation")
            self._assert_forces_equal(f0, self.forces(fitted_model, moved), "translation")

    def test_energy_invariant_under_permutation(self, fitted_model: Any, structure: Any) -> None:
        rng = np.random.default_rng(14)
        numbers = structure.get_atomic_numbers()
        repeated = [z for z in np.unique(numbers) if np.sum(numbers == z) >= 2]
        assert repeated, "the structure needs two atoms of one element to test permutations"
        e0, f0 = self.energy(fitted_model, structure), self.forces(fitted_model, structure)
        # swap two identical atoms (same structure, relabelled) and also shuffle every atom
        same = np.flatnonzero(numbers == repeated[0])
        swap = np.arange(len(structure))
        swap[same[0]], swap[same[1]] = same[1], same[0]
        for perm in (swap, rng.permutation(len(structure))):
            moved = structure[perm]
            self._assert_energy_equal(e0, self.energy(fitted_model, moved), "permutation")
            self._assert_forces_equal(f0[perm], self.forces(fitted_model, moved), "permutation")

    def test_forces_are_minus_energy_gradient(self, fitted_model: Any, structure: Any) -> None:
        forces = self.forces(fitted_model, structure)
        h = self.fd_step
        numeric = np.zeros_like(forces)
        for i in range(len(structure)):
            for k in range(3):
                energies = []
                for sign in (1.0, -1.0):
                    shifted = structure.copy()
                    pos = shifted.get_positions()
                    pos[i, k] += sign * h
                    shifted.set_positions(pos)
                    energies.append(self.energy(fitted_model, shifted))
                numeric[i, k] = -(energies[0] - energies[1]) / (2.0 * h)
        scale = max(float(np.abs(forces).max()), 1e-3)
        err = float(np.abs(numeric - forces).max()) / scale
        assert err < self.fd_rtol, f"forces differ from −∇E (finite differences) by {err:.3e}"

