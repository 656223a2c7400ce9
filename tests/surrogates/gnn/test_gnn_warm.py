"""Warm start: a fitted GNN (or ensemble of them) continues from its weights on new data."""

from __future__ import annotations

import numpy as np

from surrogates import Ensemble, EquivariantGNN
from tests.surrogates._gnn_data import rattled

SMALL = {"channels": 8, "lmax": 1, "n_layers": 2, "cutoff": 4.0, "n_radial": 6,
         "batch_size": 4, "lr": 1e-2, "val_fraction": 0.0, "dtype": "float64",
         "device": "cpu", "target": "energy"}


def _mae(model, test) -> float:
    e = np.array([a.get_potential_energy() for a in test])
    return float(np.mean(np.abs(model.predict(test).mean - e)))


def test_warm_start_continues_from_the_fitted_weights():
    data = rattled(("CH3OH", "H2O"), 20, seed=3, scale=0.1)
    first, more, test = data[:16], data[:28], data[28:]
    warm = EquivariantGNN(epochs=40, warm_start=True, **SMALL).fit(first)
    trained = _mae(warm, test)
    warm.set_params(epochs=2).fit(more)  # two more epochs on more data, from those weights
    cold = EquivariantGNN(epochs=2, **SMALL).fit(more)  # the same two epochs from scratch
    assert _mae(warm, test) < 2 * trained  # it kept what it had learned ...
    assert _mae(warm, test) < 0.5 * _mae(cold, test)  # ... which 2 epochs alone cannot reach
    assert len(warm.history_) == 2


def test_warm_start_off_or_other_elements_start_afresh():
    data = rattled(("CH3OH",), 8, seed=4)
    base = EquivariantGNN(epochs=10, **SMALL).fit(data)
    again = EquivariantGNN(epochs=10, **SMALL).fit(data)
    np.testing.assert_allclose(base.predict(data).mean, again.predict(data).mean, rtol=1e-10)
    warm = EquivariantGNN(epochs=10, warm_start=True, **SMALL).fit(data)
    widened = warm.set_params(elements=[7]).fit(data)  # a new element: a fresh network
    fresh = EquivariantGNN(epochs=10, elements=[7], **SMALL).fit(data)
    np.testing.assert_allclose(widened.predict(data).mean, fresh.predict(data).mean, rtol=1e-10)


def test_an_ensemble_with_warm_members_refits_each_member_in_place():
    data = rattled(("CH3OH",), 4, seed=6)
    ens = Ensemble(EquivariantGNN(epochs=1, warm_start=True, **SMALL), n_members=2).fit(data)
    members = list(ens.members_)
    ens.fit(data)
    assert [id(m) for m in ens.members_] == [id(m) for m in members]
    cold = Ensemble(EquivariantGNN(epochs=1, **SMALL), n_members=2).fit(data)
    before = list(cold.members_)
    cold.fit(data)
    assert not {id(m) for m in cold.members_} & {id(m) for m in before}
