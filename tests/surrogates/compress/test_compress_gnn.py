"""e3nn channel pruning and GNN distillation (tiny float64 models on EMT molecules)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from surrogates import Ensemble, EquivariantGNN, distill, prune
from surrogates._compress import count_parameters
from surrogates._compress._distill import label_repeats
from surrogates._compress._e3nn_importance import channel_importance
from surrogates._compress._e3nn_surgery import GNNKeep, radial_columns, radial_out, shrink_gnn
from surrogates.testing import EquivarianceChecks
from tests.surrogates._gnn_data import rattled

SMALL = {"lmax": 2, "n_layers": 2, "cutoff": 4.0, "n_radial": 6, "batch_size": 8,
         "dtype": "float64", "device": "cpu", "lr": 1e-2, "patience": 50}
MOLS = ("CH3OH", "CH4", "NH3", "H2O")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data():
    return rattled(MOLS, 10, seed=21)  # 40 structures


@pytest.fixture(scope="module")
def teacher(data):
    torch.manual_seed(0)
    return EquivariantGNN(channels=8, epochs=25, random_state=0, **SMALL).fit(data)


def _energy_force_mse(model, ref, X) -> tuple[float, float]:
    e, f = model.predict_energy_forces(X)
    e0, f0 = ref.predict_energy_forces(X)
    return (float(np.mean((e - e0) ** 2)),
            float(np.mean(np.concatenate([(a - b).ravel() ** 2 for a, b in zip(f, f0)]))))


def _all(scores: GNNKeep) -> GNNKeep:
    return GNNKeep([[np.arange(len(s)) for s in sp] for sp in scores.f],
                   [[np.arange(len(s)) for s in sp] for sp in scores.u])


def _silence_up(layer, slot: int, channels: list[int]) -> None:
    """Zero the radial weights of every tensor-product path of ``linear_up`` output channels
    ``channels`` of input slot ``slot``: the messages they would carry vanish."""
    radial = radial_out(layer)
    for ins, cols in radial_columns(layer):
        if ins.i_in1 == slot:
            block = radial[:, cols].reshape(radial.shape[0], *ins.path_shape)  # [h, u, 1]
            block[:, channels] = 0.0
            radial[:, cols] = block.reshape(radial.shape[0], -1)


def test_removing_silent_channels_keeps_the_function_exactly(teacher, data):
    """Channels nothing reads are removed without changing the output (float64, to 1e-12):
    checks the slicing, the gate bookkeeping and the path-normalisation rescaling."""
    model = copy.deepcopy(teacher)
    m = model.module_
    with torch.no_grad():
        # F_1 (layer 1 output), slot 1 (8x1o), channels 2 and 5: zero what reads them in
        # layer 2 (the scalar readout reads 0e only)
        for _, ins, w in m.layers[1].linear_up.weight_views(yield_instruction=True):
            if ins.i_in == 1:
                w[[2, 5]] = 0.0
        for _, ins, w in m.layers[1].self_connection.weight_views(yield_instruction=True):
            if ins.i_in1 == 1:
                w[[2, 5]] = 0.0
        # F_0 (embedding) channel 3: zero layer 1's reads
        for lin in (m.layers[0].linear_up, m.layers[0].self_connection):
            for w in lin.weight_views():
                w[3] = 0.0
        # and linear_up's output channel 5 of layer 1 (same count as F_0): no radial weight
        # reaches its tensor-product paths, so the messages it would carry are zero
        _silence_up(m.layers[0], slot=0, channels=[5])
        _silence_up(m.layers[1], slot=1, channels=[0, 6])  # layer 2 reads 6 of 8 1o too
    scores = channel_importance(model, "l1")
    assert scores.f[1][1][[2, 5]].tolist() == [0.0, 0.0]
    assert scores.f[0][0][3] == 0.0 and np.all(np.delete(scores.f[1][1], [2, 5]) > 0)
    keep = _all(scores)
    keep.f[1][1] = np.array([0, 1, 3, 4, 6, 7])
    keep.f[0][0] = np.array([0, 1, 2, 4, 5, 6, 7])
    keep.u[0][0] = np.array([0, 1, 2, 3, 4, 6, 7])
    keep.u[1][1] = np.array([1, 2, 3, 4, 5, 7])
    assert scores.u[0][0][5] == 0.0 and scores.u[1][1][[0, 6]].tolist() == [0.0, 0.0]
    small = shrink_gnn(m, keep)
    g = model.batched_graph(data[:12])
    with torch.no_grad():
        ref, out = m(g), small(g)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    assert small.config.hidden_irreps[0] == "8x0e + 6x1o + 8x2e"
    assert small.config.embed_channels == 7
    full = shrink_gnn(m, _all(scores))
    torch.testing.assert_close(full(g), ref, rtol=0, atol=0)


def test_pruned_gnn_is_smaller_with_the_same_outputs_shapes(teacher, data):
    pruned = prune(teacher, 0.5, X=data[:20], fine_tune=False)
    assert type(pruned) is EquivariantGNN and pruned is not teacher
    assert pruned.config_.hidden_irreps == ["4x0e + 4x1o + 4x2e"] * 2
    assert teacher.config_.hidden_irreps == ["8x0e + 8x1o + 8x2e"] * 2  # teacher untouched
    assert count_parameters(pruned) < 0.6 * count_parameters(teacher)
    e, f = pruned.predict_energy_forces(data[:5])
    assert e.shape == (5,) and [x.shape for x in f] == [(len(a), 3) for a in data[:5]]
    p = pruned.pruning_
    assert p["flops_after"] < 0.6 * p["flops_before"]


def test_fine_tuning_brings_the_pruned_gnn_closer_to_the_unpruned(teacher, data):
    train, held = data[:32], data[32:]
    raw = prune(teacher, 0.5, X=train, fine_tune=False)
    tuned = prune(teacher, 0.5, X=train, epochs=20)
    e_raw, f_raw = _energy_force_mse(raw, teacher, held)
    e_tuned, f_tuned = _energy_force_mse(tuned, teacher, held)
    assert e_tuned < e_raw and f_tuned < f_raw, (e_raw, e_tuned, f_raw, f_tuned)


@pytest.mark.slow  # the greedy budget search rebuilds e3nn blocks (~1-2 s each)
def test_activity_and_budget_modes(teacher, data):
    act = channel_importance(teacher, "activity", data[:10])
    assert [len(s) for s in act.f[1]] == [8, 8, 8] and all(np.all(s >= 0) for s in act.f[1])
    small = prune(teacher, budget=0.75, X=data[:6], fine_tune=False)
    assert small.pruning_["flops_after"] <= 0.75 * small.pruning_["flops_before"]
    assert min(small.pruning_["keep_fraction"]) < 1.0
    with pytest.raises(ValueError, match="needs sample structures"):
        prune(teacher, budget=0.5)
    with pytest.raises(ValueError, match="unknown GNN pruning method"):
        prune(teacher, 0.5, method="taylor", X=data[:4])


class TestPrunedGNNEquivariance(EquivarianceChecks):
    """The pruned (and fine-tuned) network is still exactly E(3)-equivariant."""

    @pytest.fixture(scope="class")
    @classmethod
    def fitted_model(cls):
        data = rattled(("CH3OH", "CH4"), 3, seed=3)
        model = EquivariantGNN(channels=6, epochs=2, **SMALL).fit(data)
        return prune(model, 0.5, X=data, epochs=2)

    @pytest.fixture
    def structure(self):
        return rattled(("CH3OH",), 1, seed=4)[0]


def test_label_repeats_hand_worked():
    assert label_repeats(100, 10, 0.5) == 10  # labels get 100 of 200 rows
    assert label_repeats(100, 10, 0.2) == 2  # 20 of 120 ≈ 0.17
    assert label_repeats(100, 10, 0.0) == 0 and label_repeats(100, 0, 0.5) == 0


def test_gnn_distillation_reduces_disagreement_on_held_out_structures(teacher, data):
    torch.manual_seed(0)
    labelled = data[:8]
    pool = rattled(MOLS, 8, seed=22)
    held = rattled(MOLS, 4, seed=23)
    members = [teacher, EquivariantGNN(channels=8, epochs=25, random_state=1, **SMALL).fit(data)]
    teacher = Ensemble(members[0], n_members=2)
    teacher.members_ = members
    student_kw = {**SMALL, "lmax": 1, "n_layers": 1, "channels": 4}
    untrained = EquivariantGNN(epochs=1, lr=1e-9, **{k: v for k, v in student_kw.items()
                                                     if k != "lr"}).fit(labelled)
    alone = EquivariantGNN(epochs=30, **student_kw).fit(labelled)
    student = distill(teacher, EquivariantGNN(epochs=30, **student_kw), pool, labelled,
                      [a.get_potential_energy() for a in labelled], label_weight=0.2)
    assert student.config_.hidden_irreps == ["4x0e + 4x1o"]

    def gap(model):
        e, f = model.predict_energy_forces(held)
        t_e = teacher.predict(held).mean
        t_f = [np.mean([m.predict_forces([a])[0] for m in members], axis=0) for a in held]
        return (np.mean(np.abs(e - t_e)),
                np.mean(np.concatenate([np.abs(a - b).ravel() for a, b in zip(f, t_f)])))

    e_d, f_d = gap(student)
    e_u, f_u = gap(untrained)
    e_a, f_a = gap(alone)
    assert e_d < 0.5 * e_u and f_d < 0.5 * f_u, (e_d, e_u, f_d, f_u)
    assert e_d < e_a and f_d < f_a, (e_d, e_a, f_d, f_a)  # the pool taught it more than labels


def test_pruned_gnn_screener_round_trips_and_int8_falls_back(teacher, data, tmp_path):
    from surrogates import Screener, quantize

    pruned = prune(teacher, 0.5, X=data[:8], fine_tune=False)
    sc = Screener(pruned, maximize=False)
    path = sc.save(tmp_path / "gnn_screener.safetensors")
    back = Screener.load(path)
    assert back.model.config_.hidden_irreps == ["4x0e + 4x1o + 4x2e"] * 2
    np.testing.assert_array_equal(back.score(data[:6], progress=False).mean,
                                  sc.score(data[:6], progress=False).mean)
    with pytest.warns(UserWarning, match="keeping the float model"):
        q = quantize(pruned, data[:4])
    assert not q.quantization_["quantized"] and "nn.Linear" in q.quantization_["reason"]
    with pytest.raises(ValueError, match="FLOP budgets only"):
        prune(teacher, budget=0.5, X=data[:4], budget_kind="latency")
