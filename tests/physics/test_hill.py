"""The Hill equation against its known limits, and fit_hill against synthetic truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from physics import HillParams, fit_hill, hill

DOSES = np.r_[0.0, np.logspace(-2, 4, 12)]  # µM, the sensor's default grid plus zero


# ---------------------------------------------------------------- hill(): limits and types
@pytest.mark.parametrize(("rmin", "rmax"), [(0.1, 2.0), (3.0, 0.5)], ids=["up", "down"])
def test_hill_limits_numpy(rmin: float, rmax: float) -> None:
    K, n = 7.0, 1.8
    assert hill(0.0, rmin, rmax, K, n) == rmin  # exact, not approximately
    assert hill(np.inf, rmin, rmax, K, n) == pytest.approx(rmax, rel=1e-15)
    assert hill(1e12, rmin, rmax, K, n) == pytest.approx(rmax, rel=1e-12)
    assert hill(K, rmin, rmax, K, n) == pytest.approx(0.5 * (rmin + rmax), rel=1e-14)
    # hand-worked point: D = 2K, n = 2 → fraction 4/5
    assert hill(2 * K, rmin, rmax, K, 2.0) == pytest.approx(rmin + 0.8 * (rmax - rmin))


def test_hill_limits_torch(dtype: torch.dtype, tol: tuple[float, float]) -> None:
    rtol, atol = tol
    D = torch.tensor([0.0, 3.0, 1e30], dtype=dtype)
    out = hill(D, 0.2, 1.4, 3.0, 2.5)
    assert out.dtype == dtype
    assert out[0] == torch.tensor(0.2, dtype=dtype)  # exact: R(0) = rmin
    torch.testing.assert_close(out[1:], torch.tensor([0.8, 1.4], dtype=dtype), rtol=rtol, atol=atol)


@pytest.mark.parametrize(("rmin", "rmax"), [(0.1, 2.0), (3.0, 0.5)], ids=["up", "down"])
def test_hill_monotone(rmin: float, rmax: float) -> None:
    D = np.logspace(-6, 6, 400)
    diff = np.diff(hill(D, rmin, rmax, 1.0, np.array([[0.3], [1.0], [4.0]])), axis=-1)
    assert np.all(np.sign(rmax - rmin) * diff >= 0)
    assert np.all(np.sign(rmax - rmin) * diff[:, 150:250] > 0)  # strictly so around K


def test_hill_numpy_equals_torch(dtype: torch.dtype, tol: tuple[float, float]) -> None:
    rng = np.random.default_rng(3)
    D = np.r_[0.0, rng.uniform(0, 100, 30)]
    params = dict(rmin=rng.uniform(0, 1, (4, 1)), rmax=rng.uniform(0, 5, (4, 1)),
                  K=rng.uniform(0.1, 50, (4, 1)), n=rng.uniform(0.5, 4, (4, 1)))
    ref = hill(D, **params)
    out = hill(torch.tensor(D, dtype=dtype), **{k: torch.tensor(v, dtype=dtype)
                                                 for k, v in params.items()})
    assert out.shape == ref.shape == (4, D.size)  # broadcasting
    np.testing.assert_allclose(out.numpy(), ref, rtol=tol[0] * 10, atol=tol[1] * 10)


def test_hill_stable_for_extreme_slopes() -> None:
    out = hill(np.array([0.5, 2.0]), 0.0, 1.0, 1.0, 500.0)  # 2**500 would overflow naively
    np.testing.assert_allclose(out, [0.0, 1.0], atol=1e-150)


def test_hill_torch_gradients_finite_at_zero_dose() -> None:
    K = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    n = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    hill(torch.tensor([0.0, 1.0, 4.0], dtype=torch.float64), 0.1, 1.0, K, n).sum().backward()
    assert torch.isfinite(K.grad) and torch.isfinite(n.grad)
    # d/dK of the middle point by hand: -(rmax-rmin) n D^n K^(n-1) / (K^n + D^n)^2 summed
    def by_hand(d: float) -> float:
        return -0.9 * 1.5 * d**1.5 * 2.0**0.5 / (2.0**1.5 + d**1.5) ** 2
    assert K.grad.item() == pytest.approx(by_hand(1.0) + by_hand(4.0), rel=1e-10)


# ---------------------------------------------------------------- fit_hill(): recovery
def _noisy(seed: int, rmin: float = 0.1, rmax: float = 1.0, K: float = 5.0, n: float = 1.6,
           noise: float = 0.03, doses: np.ndarray = DOSES, reps: int = 2):
    rng = np.random.default_rng(seed)
    d = np.repeat(doses, reps)
    return d, hill(d, rmin, rmax, K, n) + rng.normal(0.0, noise, d.size)


def test_fit_recovers_exact_curve() -> None:
    p = fit_hill(DOSES, hill(DOSES, 0.3, 2.0, 12.0, 2.2))
    assert isinstance(p, HillParams)
    assert (p.rmin, p.rmax, p.K, p.n) == pytest.approx((0.3, 2.0, 12.0, 2.2), rel=1e-6)
    assert p.r2 == pytest.approx(1.0) and not p.flat and not p.censored and not p.failed
    assert p.ec50 == p.K
    assert p.fold_induction == pytest.approx(2.0 / 0.3, rel=1e-6)
    assert p.dynamic_range == pytest.approx(2.0 - 0.3, rel=1e-6)
    assert p.effective_slope == pytest.approx(2.2 * 1.7 / 4, rel=1e-6)


def test_fit_decreasing_curve() -> None:
    d, y = _noisy(4, rmin=2.0, rmax=0.2, K=30.0, n=1.2)
    p = fit_hill(d, y)
    assert p.rmax < p.rmin and p.effective_slope < 0 and p.fold_induction < 1
    assert p.dynamic_range < 0
    assert p.K == pytest.approx(30.0, rel=0.25) and p.n == pytest.approx(1.2, rel=0.25)


@pytest.mark.parametrize("seed", range(5))
def test_fit_recovers_noisy_parameters(seed: int) -> None:
    d, y = _noisy(seed)
    p = fit_hill(d, y)
    for name, truth in (("rmin", 0.1), ("rmax", 1.0), ("K", 5.0), ("n", 1.6)):
        lo, hi = p.interval(name, level=0.999)  # a wide interval: these 5 seeds must all cover
        assert lo < truth < hi, (name, lo, hi)
    assert p.K == pytest.approx(5.0, rel=0.3)


def test_fit_unsorted_and_zero_dose_give_same_answer() -> None:
    d, y = _noisy(11)
    perm = np.random.default_rng(0).permutation(d.size)
    a, b = fit_hill(d, y), fit_hill(d[perm], y[perm])
    assert (a.rmin, a.rmax, a.K, a.n) == pytest.approx((b.rmin, b.rmax, b.K, b.n), rel=1e-6)
    assert a.rmin == pytest.approx(0.1, abs=0.05)  # the zero dose pins rmin


def test_fit_with_sigma_uses_absolute_errors() -> None:
    d, y = _noisy(2, noise=0.03)
    p_small = fit_hill(d, y, sigma=np.full(d.size, 0.03))
    p_big = fit_hill(d, y, sigma=np.full(d.size, 0.3))
    assert p_small.K == pytest.approx(p_big.K, rel=1e-6)  # uniform weights: same optimum
    assert p_big.K_se == pytest.approx(10 * p_small.K_se, rel=1e-6)  # SEs scale with σ


def test_censored_K_flags() -> None:
    doses = np.logspace(-2, 1, 10)
    high = fit_hill(doses, hill(doses, 0.0, 1.0, 400.0, 1.0))
    assert high.censored_high and not high.censored_low and high.K > doses.max()
    low = fit_hill(np.logspace(1, 4, 10), hill(np.logspace(1, 4, 10), 0.0, 1.0, 0.5, 1.0))
    assert low.censored_low and not low.censored_high and low.K < 10.0


def test_flat_curve_flagged_by_f_test() -> None:
    # pure noise: flagged flat in about 95% of seeds (a 5% test), not in all of them
    rng = np.random.default_rng(8)
    fits = [fit_hill(DOSES, 0.5 + rng.normal(0, 0.05, DOSES.size)) for _ in range(25)]
    assert np.mean([p.flat for p in fits]) >= 0.85
    assert all((p.flat_pvalue >= 0.05) == p.flat for p in fits)
    d, y = _noisy(8)
    q = fit_hill(d, y)
    assert not q.flat and q.flat_pvalue < 1e-6
    same = fit_hill(DOSES, np.full(DOSES.size, 0.7))
    assert same.flat and same.rmin == same.rmax == 0.7


def test_fit_accepts_torch_input() -> None:
    d, y = _noisy(1)
    a, b = fit_hill(d, y), fit_hill(torch.tensor(d), torch.tensor(y))
    assert a.K == pytest.approx(b.K)


# ---------------------------------------------------------------- fit_hill(): bad input
@pytest.mark.parametrize(
    ("doses", "responses", "match"),
    [
        ([0, 1, np.nan, 10, 100], [0, 1, 2, 3, 4], "dose at index 2 is nan"),
        ([0, 1, 5, -10, 100], [0, 1, 2, 3, 4], "dose at index 3 is negative"),
        ([0, 1, 5, 10, 100], [0, 1, 2, np.inf, 4], "response at index 3"),
        ([0, 1, 5, 10], [0, 1, 2], "doses has 4 values but responses has 3"),
        ([0, 1, 5], [0, 1, 2], "at least 4 points"),
        ([0, 0, 1, 1], [0, 0, 1, 1], "at least 3 distinct doses"),
        ([[0, 1], [2, 3]], [[0, 1], [2, 3]], "one-dimensional"),
    ],
)
def test_fit_bad_input_names_the_item(doses, responses, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_hill(doses, responses)


def test_fit_bad_sigma_names_the_item() -> None:
    with pytest.raises(ValueError, match="sigma at index 1"):
        fit_hill(DOSES, hill(DOSES, 0, 1, 1, 1), sigma=np.r_[1.0, 0.0, np.ones(DOSES.size - 2)])


def test_interval_rejects_unknown_name() -> None:
    p = fit_hill(DOSES, hill(DOSES, 0, 1, 1, 1))
    with pytest.raises(ValueError, match="unknown Hill parameter 'ec'"):
        p.interval("ec")
    assert math.isfinite(p.as_dict()["effective_slope"])


@pytest.mark.slow
@pytest.mark.parametrize("with_sigma", [False, True], ids=["estimated-noise", "known-sigma"])
def test_fit_bias_and_coverage_over_many_seeds(with_sigma: bool) -> None:
    """300 noisy curves: the 95% intervals cover the truth in 92–98% of seeds (±2.4 binomial
    sd around 95%) and the estimates are nearly unbiased (K within 2%, n within 5%)."""
    truth = dict(rmin=0.05, rmax=1.0, K=20.0, n=1.5)
    d = np.repeat(np.r_[0.0, np.logspace(-1, 3, 10)], 3)
    covered = {k: [] for k in truth}
    estimates = {k: [] for k in truth}
    for seed in range(300):
        y = hill(d, **truth) + np.random.default_rng(seed).normal(0.0, 0.05, d.size)
        p = fit_hill(d, y, sigma=np.full(d.size, 0.05) if with_sigma else None)
        assert not p.failed
        for k, v in truth.items():
            lo, hi = p.interval(k)
            covered[k].append(lo < v < hi)
            estimates[k].append(getattr(p, k))
    for k in truth:
        assert 0.92 <= np.mean(covered[k]) <= 0.98, (k, np.mean(covered[k]))
    assert np.median(estimates["K"]) == pytest.approx(20.0, rel=0.02)
    assert np.median(estimates["n"]) == pytest.approx(1.5, rel=0.05)
    assert abs(np.mean(estimates["rmin"]) - 0.05) < 0.005
