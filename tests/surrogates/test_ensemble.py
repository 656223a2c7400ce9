"""Ensemble: the conformance suite, the spread over members, and what its members declare."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from surrogates import Ensemble, MLPSurrogate
from surrogates.testing import SurrogateConformance


def _data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(48, 2))
    return X[:36], (np.sin(X[:36, 0]) + X[:36, 1],), {}, X[36:]


class TestEnsembleConforms(SurrogateConformance):
    def tolerance(self, model):
        return (1e-5, 1e-5)  # float32 members

    @pytest.fixture
    def surrogate(self):
        return Ensemble(MLPSurrogate(hidden=(8,), epochs=5, device="cpu"), n_members=3)

    @pytest.fixture
    def training_data(self):
        return _data()


def test_spread_is_the_sample_std_of_the_members():
    X, (y,), _, X_test = _data()
    ens = Ensemble(MLPSurrogate(hidden=(8,), epochs=20, device="cpu"), n_members=3).fit(X, y)
    members = np.stack([m.predict(X_test).mean for m in ens.members_])  # [3, n]
    pred = ens.predict(X_test)
    np.testing.assert_allclose(pred.mean, members.mean(0), rtol=1e-6)
    np.testing.assert_allclose(pred.std, members.std(0, ddof=1), rtol=1e-6)
    assert np.all(pred.std > 0)  # three seeds, three different networks


def test_members_are_seeded_one_apart_and_unfitted_ensemble_says_so():
    ens = Ensemble(MLPSurrogate(hidden=(8,), epochs=2, device="cpu"), n_members=2,
                   random_state=7)
    with pytest.raises(NotFittedError, match="fit"):
        ens.predict(np.zeros((1, 2)))
    X, (y,), _, _ = _data()
    ens.fit(X, y)
    assert [m.random_state for m in ens.members_] == [7, 8]
