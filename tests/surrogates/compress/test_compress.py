"""distill / prune / quantize on small MLP models (fast, seeded)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from surrogates import Ensemble, MLPSurrogate, distill, prune, quantize
from surrogates._compress import count_parameters, top_k_recall
from surrogates._compress._prune import shrink_mlp, unit_importance
from surrogates._mlp._net import MLP


def _landscape(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 4))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.5 * X[:, 2] ** 2 - X[:, 3]
    return X, y


def _mlp(**kw) -> MLPSurrogate:
    base = {"hidden": (48, 24), "epochs": 150, "patience": 20, "lr": 3e-3,
            "device": "cpu", "random_state": 0}
    return MLPSurrogate(**{**base, **kw})


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    X, y = _landscape(300)
    return Ensemble(_mlp(), n_members=3, random_state=0).fit(X, y)


def test_top_k_recall_hand_worked():
    ref = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    assert top_k_recall(np.array([5.0, 0.0, 3.0, 2.0, 1.0]), ref, frac=0.4) == 0.5
    assert top_k_recall(ref, ref, frac=0.4) == 1.0
    assert top_k_recall(ref + 1, ref, frac=0.4, maximize=False) == 1.0  # smallest 2 agree
    assert top_k_recall(-ref, ref, frac=0.4, maximize=False) == 0.0  # reversed ranking


def test_shrink_keeps_function_when_removed_units_are_silent():
    net = MLP([3, 6, 4, 1])
    with torch.no_grad():  # units 1 and 4 of layer 0 feed nothing downstream
        net.layers[1].weight[:, [1, 4]] = 0.0
    small = shrink_mlp(net, [np.array([0, 2, 3, 5]), np.arange(4)])
    x = torch.randn(7, 3)
    torch.testing.assert_close(small(x), net(x))
    assert small.sizes == [3, 4, 4, 1]
    l1 = unit_importance(net, "l1")[0]
    assert l1[1] == 0.0 and l1[4] == 0.0 and np.all(np.delete(l1, [1, 4]) > 0)


@pytest.mark.parametrize("method", ["l1", "activity", "taylor"])
def test_pruned_model_is_smaller_with_same_shapes(teacher, method):
    model = teacher.members_[0]
    X, _ = _landscape(120, seed=1)
    small = prune(model, 0.5, method=method, X=X, epochs=30)
    assert type(small) is type(model)
    assert small.hidden == (24, 12) and model.hidden == (48, 24)  # original untouched
    assert count_parameters(small) < 0.45 * count_parameters(model)
    assert small.predict(X).mean.shape == model.predict(X).mean.shape == (120,)
    assert small.pruning_["flops_after"] < 0.5 * small.pruning_["flops_before"]


def test_budget_mode_meets_flop_target(teacher):
    model = teacher.members_[0]
    X, _ = _landscape(100, seed=2)
    small = prune(model, budget=0.3, method="taylor", X=X, fine_tune=False)
    assert small.pruning_["flops_after"] <= 0.3 * small.pruning_["flops_before"]
    with pytest.raises(ValueError, match="exactly one"):
        prune(model, 0.5, budget=0.5)


def test_prune_fine_tuning_recovers_the_unpruned_outputs(teacher):
    model = teacher.members_[0]
    X, _ = _landscape(300, seed=3)
    ref = model.predict(X).mean
    raw = prune(model, 0.6, X=X, fine_tune=False).predict(X).mean
    tuned = prune(model, 0.6, X=X, epochs=60).predict(X).mean
    assert np.mean((tuned - ref) ** 2) < np.mean((raw - ref) ** 2)


def test_distillation_reduces_disagreement_with_teacher(teacher):
    X_lab, y_lab = _landscape(40, seed=4)
    pool, _ = _landscape(600, seed=5)
    held, _ = _landscape(200, seed=6)
    t_held = teacher.predict(held).mean
    alone = _mlp(hidden=(16,)).fit(X_lab, y_lab)
    student = distill(teacher, _mlp(hidden=(16,)), pool, X_lab, y_lab, label_weight=0.2,
                      match_std=True)
    err_alone = np.mean(np.abs(alone.predict(held).mean - t_held))
    pred = student.predict(held)
    assert np.mean(np.abs(pred.mean - t_held)) < 0.5 * err_alone
    assert pred.std is not None and np.all(pred.std > 0)  # the cheap uncertainty


def test_quantised_outputs_within_tolerance_and_round_trip(teacher, tmp_path):
    model = teacher.members_[0]
    X, _ = _landscape(200, seed=7)
    q = quantize(model, X, require_speedup=False)
    assert q.quantization_["quantized"], q.quantization_
    ref, out = model.predict(X).mean, q.predict(X).mean
    # stated tolerance: int8 weights keep every output within 5 % of the output spread
    assert np.max(np.abs(out - ref)) <= 0.05 * np.std(ref)
    back = type(q).load(q.save(tmp_path / "q.safetensors"))
    np.testing.assert_array_equal(back.predict(X).mean, out)  # int8 weights stored exactly
    with pytest.raises(ValueError, match="quantised"):
        prune(q, 0.5)


def test_quantize_keeps_the_first_layer_float_when_all_int8_misses(teacher, tmp_path):
    """The tolerance is set between the all-int8 error and the first-layer-float error, so
    the first try must fail and the second pass; the mixed model saves and loads exactly."""
    from surrogates._mlp._qstate import is_quantized, quantize_mlp

    model = teacher.members_[0]
    X, _ = _landscape(200, seed=9)
    ref = model.predict(X).mean
    errs = [np.max(np.abs(model.with_net(quantize_mlp(model.net_, fl)).predict(X).mean - ref))
            for fl in ((), (0,))]
    assert errs[1] < errs[0]  # activation quantisation of the first layer's inputs dominates
    rtol = float(np.mean(errs)) / float(np.std(ref))
    with pytest.warns(UserWarning, match="keeping the float model"):  # one layer short of it
        quantize(model, X, rtol=0.9 * errs[1] / float(np.std(ref)), require_speedup=False)
    q = quantize(model, X, rtol=rtol, require_speedup=False)
    assert q.quantization_["quantized"] and q.quantization_["float_layers"] == [0]
    assert not is_quantized(q.net_.layers[0]) and is_quantized(q.net_.layers[1])
    out = q.predict(X).mean
    assert np.max(np.abs(out - ref)) == pytest.approx(errs[1], rel=1e-6)
    back = type(q).load(q.save(tmp_path / "q.safetensors"))
    np.testing.assert_array_equal(back.predict(X).mean, out)


def test_quantize_falls_back_cleanly_when_inaccurate(teacher):
    model = teacher.members_[0]
    X, _ = _landscape(50, seed=8)
    with pytest.warns(UserWarning, match="keeping the float model"):
        same = quantize(model, X, rtol=1e-9, require_speedup=False)
    assert not same.quantization_["quantized"]
    np.testing.assert_array_equal(same.predict(X).mean, model.predict(X).mean)


def test_hill_student_prunes_and_distils_curves(tmp_path):
    from physics import hill
    from surrogates import HillSurrogate, load_model

    rng = np.random.default_rng(0)
    X, doses = rng.normal(size=(100, 3)), np.logspace(-2, 3, 8)
    R = hill(doses[None], 0.1, 1.0 + 0.3 * X[:, 1:2], np.exp(X[:, :1]), 1.5)  # [n, 8]
    hs = HillSurrogate(objective="log10_ec50", hidden=(16,), epochs=60, device="cpu")
    teacher = Ensemble(hs, n_members=2).fit(X, R, doses=doses)
    small = prune(teacher.members_[0], 0.5, X=X, method="activity", epochs=10)
    assert small.hidden == (8,) and small.pruning_["sizes_after"] == [3, 8, 4]
    back = load_model(small.save(tmp_path / "h.safetensors"))
    np.testing.assert_array_equal(back.predict(X).mean, small.predict(X).mean)
    student = distill(teacher, hs.set_params(hidden=(8,)), X)  # matches the mean curves
    assert np.corrcoef(student.predict(X).mean, teacher.predict(X).mean)[0, 1] > 0.95
