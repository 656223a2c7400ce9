"""Prediction, the model-file format, and Ensemble with a tiny torch model."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from surrogates import Ensemble, Prediction, Surrogate, calibration, load_model
from surrogates._io import register_model


@register_model
class _Linear(Surrogate):
    """y = w·x + b fitted by least squares on a random half of the data (so seeds differ)."""

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def fit(self, X, y):
        rng = np.random.default_rng(self.random_state)
        idx = rng.choice(len(X), size=len(X) // 2, replace=False)
        A = np.c_[X[idx], np.ones(len(idx))]
        self.coef_ = np.linalg.lstsq(A, y[idx], rcond=None)[0]
        return self

    def predict(self, X):
        return Prediction(np.c_[X, np.ones(len(X))] @ self.coef_)

    def _to_state(self):
        return {"params": self.get_params()}, {"coef": torch.as_tensor(self.coef_)}

    @classmethod
    def _from_state(cls, meta, tensors):
        obj = cls(**meta["params"])
        obj.coef_ = tensors["coef"].numpy()
        return obj


def _data(n=200):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, -2.0] + 0.5 + rng.normal(scale=0.3, size=n)


def test_prediction_checks_shapes_and_slices():
    with pytest.raises(ValueError, match="shape"):
        Prediction(np.zeros(3), np.zeros(4))
    p = Prediction(np.arange(5.0), np.ones(5))
    assert len(p) == 5 and p[1:3].mean.tolist() == [1.0, 2.0]
    both = Prediction.concatenate([p[:2], p[2:]])
    np.testing.assert_array_equal(both.mean, p.mean)


def test_ensemble_spread_and_round_trip(tmp_path):
    X, y = _data()
    ens = Ensemble(_Linear(), n_members=4, random_state=3).fit(X, y)
    pred = ens.predict(X)
    assert pred.std is not None and np.all(pred.std > 0)
    members = np.stack(ens.member_outputs("predict", X))
    np.testing.assert_allclose(pred.mean, members.mean(0))
    np.testing.assert_allclose(pred.std, members.std(0, ddof=1))
    path = ens.save(tmp_path / "ens.safetensors")
    back = Ensemble.load(path)
    np.testing.assert_allclose(back.predict(X).std, pred.std)
    cal = calibration(pred, y)
    assert 0.0 <= cal["within_1sigma"] <= cal["within_2sigma"] <= 1.0


def test_pickle_payload_is_refused(tmp_path):
    class _Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    bad = tmp_path / "model.safetensors"
    bad.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(ValueError, match="refusing to load"):
        load_model(bad)
    assert not (tmp_path / "pwned").exists()
