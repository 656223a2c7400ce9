"""Non-equivariant baseline for ``benchmarks/gnn.py``: kernel ridge on sorted inverse distances.

Descriptor: for every element pair (Z_a ≤ Z_b) the inverse distances 1/r (1/Å) of all atom
pairs of that kind, sorted (so it is invariant to rotation, translation and permutation of
identical atoms, but built by hand rather than learned). RBF kernel ridge on the standardised
descriptor, ``alpha`` and ``gamma`` by 3-fold cross-validation. Forces are −∇E by central
differences (h = 1e-3 Å), so they are the exact gradient of the fitted energy up to O(h²).
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np
from ase import Atoms
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from surrogates import Prediction

__all__ = ["InverseDistanceKRR"]


def _descriptor(numbers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(..., n_atoms, 3) positions → (..., n_pairs) sorted inverse distances per pair kind."""
    d = np.linalg.norm(positions[..., :, None, :] - positions[..., None, :, :], axis=-1)
    parts = []
    for za, zb in combinations_with_replacement(sorted(set(numbers.tolist())), 2):
        ia, ib = np.flatnonzero(numbers == za), np.flatnonzero(numbers == zb)
        pairs = [(i, j) for i in ia for j in ib if (i < j if za == zb else True)]
        if pairs:
            i, j = np.array(pairs).T
            parts.append(np.sort(1.0 / d[..., i, j], axis=-1))
    return np.concatenate(parts, axis=-1)


class InverseDistanceKRR:
    """Energy model of one molecule's conformers (fixed composition); eV in, eV out."""

    def __init__(self, random_state: int = 0, h: float = 1e-3) -> None:
        self.random_state = random_state
        self.h = h

    def fit(self, structures: list[Atoms], energies: np.ndarray) -> InverseDistanceKRR:
        self.numbers_ = structures[0].get_atomic_numbers()
        X = np.stack([_descriptor(self.numbers_, a.positions) for a in structures])
        self.offset_ = float(np.mean(energies))
        dim = X.shape[1]
        grid = {"kernelridge__alpha": [1e-9, 1e-7, 1e-5, 1e-3],
                "kernelridge__gamma": [g / dim for g in (0.01, 0.03, 0.1, 0.3)]}
        search = GridSearchCV(make_pipeline(StandardScaler(), KernelRidge(kernel="rbf")), grid,
                              cv=3, scoring="neg_mean_absolute_error")
        self.model_ = search.fit(X, np.asarray(energies) - self.offset_).best_estimator_
        return self

    def _energies(self, positions: np.ndarray) -> np.ndarray:
        return self.model_.predict(_descriptor(self.numbers_, positions)) + self.offset_

    def predict(self, structures: list[Atoms]) -> Prediction:
        return Prediction(self._energies(np.stack([a.positions for a in structures])))

    def predict_forces(self, structures: list[Atoms]) -> list[np.ndarray]:
        out = []
        for a in structures:
            n = len(a)
            disp = np.zeros((2, n, 3, n, 3))  # [sign, atom, axis, atoms, xyz]
            for i in range(n):
                for k in range(3):
                    disp[0, i, k, i, k], disp[1, i, k, i, k] = self.h, -self.h
            e = self._energies((a.positions + disp).reshape(-1, n, 3)).reshape(2, n, 3)
            out.append(-(e[0] - e[1]) / (2 * self.h))
        return out

    def predict_energy_forces(self, structures: list[Atoms]) -> tuple[np.ndarray, list]:
        return self.predict(structures).mean, self.predict_forces(structures)
