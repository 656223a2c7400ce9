"""Energy/force pre-training of a GNN property model (``EquivariantGNN(pretrain=...)``)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import molecule

from surrogates import EquivariantGNN
from surrogates._gnn._estimator import _split
from surrogates._gnn._train import TrainSettings
from tests.surrogates._gnn_data import rattled

SMALL = {"channels": 8, "lmax": 1, "n_layers": 2, "cutoff": 4.0, "n_radial": 6, "epochs": 80,
         "batch_size": 4, "lr": 1e-2, "val_fraction": 0.0, "dtype": "float64",
         "device": "cpu"}


def test_split_shares_epochs_and_time_by_hand():
    s = TrainSettings(epochs=10, batch_size=4, lr=1e-3, weight_decay=0.0, energy_weight=1.0,
                      force_weight=10.0, ema_decay=0.99, patience=5, val_fraction=0.1,
                      seed=0, max_time=100.0)
    pre, rest = _split(s, 0.3)
    assert (pre.epochs, rest.epochs) == (3, 7)
    assert (pre.max_time, rest.max_time) == pytest.approx((30.0, 70.0))
    pre, rest = _split(TrainSettings(**{**s.__dict__, "max_time": None}), 0.5)
    assert (pre.epochs, rest.epochs, pre.max_time, rest.max_time) == (5, 5, None, None)


def test_forces_teach_an_energy_like_property_from_few_labels():
    # 8 rattled methanols labelled with EMT energy per atom: 8 numbers to learn the
    # conformational energy from, against 8 x 6 x 3 = 144 force components in pre-training.
    data = rattled(("CH3OH",), 40, seed=5, scale=0.1)
    train, test = data[:8], data[20:]
    y = np.array([a.info["energy_per_atom"] for a in train])
    y_test = np.array([a.info["energy_per_atom"] for a in test])

    def mae(pretrain: float) -> tuple[float, EquivariantGNN]:
        model = EquivariantGNN(target="energy_per_atom", extensive=False, pretrain=pretrain,
                               **SMALL).fit(train, {"energy_per_atom": y})
        return float(np.mean(np.abs(model.predict(test).mean - y_test))), model

    plain, _ = mae(0.0)
    pre, model = mae(0.5)
    # same 80 epochs in total; here 0.117 eV/atom without, 0.051 with pre-training
    assert pre < 0.6 * plain, (pre, plain)
    assert len(model.pretrain_history_) == 40 and len(model.history_) == 40
    # the pre-training fitted forces: its loss fell
    losses = [h["train_loss"] for h in model.pretrain_history_]
    assert losses[-1] < 0.5 * losses[0]


def test_pretrain_history_survives_save_and_load(tmp_path):
    data = rattled(("H2O", "NH3"), 3, seed=2)
    y = np.array([a.info["energy_per_atom"] for a in data])
    model = EquivariantGNN(target="energy_per_atom", extensive=False, pretrain=0.5,
                           **{**SMALL, "epochs": 4}).fit(data, y)
    model.save(tmp_path / "m.gnn")
    back = EquivariantGNN.load(tmp_path / "m.gnn")
    assert back.pretrain_history_ == model.pretrain_history_ and back.pretrain == 0.5
    np.testing.assert_allclose(back.predict(data).mean, model.predict(data).mean, atol=1e-12)
    png = back.plot_history(tmp_path / "curve.png")  # both phases in one figure
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pretrain_without_forces_names_the_structure():
    data = rattled(("H2O",), 3, seed=1)
    bare = molecule("NH3")  # no calculator results: no energy, no forces
    bare.info["energy_per_atom"] = -1.0
    y = [a.info["energy_per_atom"] for a in data] + [-1.0]
    with pytest.raises(ValueError, match=r"pretrain=0.5 needs the energy .*structure 3"):
        EquivariantGNN(target="energy_per_atom", extensive=False, pretrain=0.5,
                       **SMALL).fit([*data, bare], y)
    with pytest.raises(ValueError, match=r"pretrain must be in \[0, 1\)"):
        EquivariantGNN(target="gap", pretrain=1.0).fit(data, y[:3])
