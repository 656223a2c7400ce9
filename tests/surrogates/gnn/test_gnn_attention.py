"""Attention pooling of intensive GNN heads: hand-worked softmax sums, symmetry, pruning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from surrogates import EquivariantGNN
from surrogates._compress._e3nn_importance import channel_importance
from surrogates._compress._e3nn_surgery import GNNKeep, shrink_gnn
from surrogates._gnn._model import _segment_softmax_sum
from surrogates.testing import SurrogateConformance
from tests.surrogates._gnn_data import rattled

TINY = {"channels": 4, "lmax": 1, "n_layers": 2, "cutoff": 4.0, "n_radial": 4, "epochs": 3,
        "batch_size": 4, "dtype": "float64", "device": "cpu"}


class TestAttentionGapConforms(SurrogateConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def data(cls):
        return rattled(("CH3OH", "NH3", "H2O"), 4, seed=12)

    @pytest.fixture
    def surrogate(self):
        return EquivariantGNN(target="energy_per_atom", extensive=False, attention=True, **TINY)

    @pytest.fixture
    def training_data(self, data):
        y = np.array([a.info["energy_per_atom"] for a in data[:9]])
        return data[:9], (y,), {}, data[9:]


def test_segment_softmax_sum_by_hand():
    # structure 0: scores 0 and ln 3 → weights 1/4, 3/4 of values 1 and 5 → 4;
    # structure 1: one atom → its value; structure 2: equal scores → the plain mean
    score = torch.tensor([0.0, np.log(3.0), 2.0, 1000.0, 1000.0], dtype=torch.float64)
    value = torch.tensor([1.0, 5.0, 7.0, 2.0, 4.0], dtype=torch.float64)
    batch = torch.tensor([0, 0, 1, 2, 2])
    out = _segment_softmax_sum(score, value, batch, 3)
    torch.testing.assert_close(out, torch.tensor([4.0, 7.0, 3.0], dtype=torch.float64))
    # gradients flow to the scores: d out_0 / d score_1 = w0 w1 (v1 − v0) = 3/16 · 4
    score.requires_grad_(True)
    (g,) = torch.autograd.grad(_segment_softmax_sum(score, value, batch, 3)[0], score)
    assert float(g[1]) == pytest.approx(0.75)


def test_attention_gap_is_invariant_and_learns():
    data = rattled(("CH3OH", "CH4", "NH3"), 5, seed=13)
    y = np.array([a.info["energy_per_atom"] for a in data])
    model = EquivariantGNN(target="energy_per_atom", extensive=False, attention=True,
                           **{**TINY, "epochs": 40, "lr": 1e-2}).fit(data, y)
    assert model.module_.attention is not None
    hist = [h["train_loss"] for h in model.history_]
    assert hist[-1] < 0.7 * hist[0]  # it trains (0.59 → 0.32 here)
    atoms = data[0]
    ref = model.predict([atoms]).mean[0]
    moved = atoms.copy()
    R = Rotation.random(random_state=1).as_matrix()
    moved.positions = atoms.positions @ R.T + [0.3, -1.0, 2.0]
    moved.positions[:, 1] *= -1  # and a mirror
    perm = np.random.default_rng(0).permutation(len(atoms))
    shuffled = atoms[perm]
    for other in (moved, shuffled):
        assert abs(model.predict([other]).mean[0] - ref) <= 1e-10 * max(1.0, abs(ref))


def test_attention_needs_an_intensive_scalar_target():
    data = rattled(("H2O",), 3, seed=14)
    with pytest.raises(ValueError, match="intensive scalar"):
        EquivariantGNN(target="energy", attention=True, **TINY).fit(data)
    with pytest.raises(ValueError, match="vector"):
        EquivariantGNN(target="dipole", attention=True, **TINY).fit(data)


def test_pruning_keeps_and_slices_the_attention_head():
    data = rattled(("CH3OH", "NH3"), 4, seed=15)
    y = np.array([a.info["energy_per_atom"] for a in data])
    model = EquivariantGNN(target="energy_per_atom", extensive=False, attention=True,
                           **{**TINY, "channels": 6, "epochs": 5}).fit(data, y)
    m = model.module_
    scores = channel_importance(model, "l1")
    keep_all = GNNKeep([[np.arange(len(s)) for s in sp] for sp in scores.f],
                       [[np.arange(len(s)) for s in sp] for sp in scores.u])
    g = model.batched_graph(data)
    with torch.no_grad():
        ref = m(g)
        torch.testing.assert_close(shrink_gnn(m, keep_all)(g), ref, rtol=0, atol=0)
        # silence last-layer scalar channel 2 for the readout and the attention score:
        # removing it must not change the output
        for lin in (m.readouts[-1], m.attention):
            for _, ins, w in lin.weight_views(yield_instruction=True):
                if ins.i_in == 0:
                    w[2] = 0.0
        ref = m(g)
        keep = GNNKeep([[a.copy() for a in sp] for sp in keep_all.f], keep_all.u)
        keep.f[-1][0] = np.array([0, 1, 3, 4, 5])
        small = shrink_gnn(m, keep)
        assert small.attention is not None
        torch.testing.assert_close(small(g), ref, rtol=1e-12, atol=1e-12)

