"""Acquisition functions against hand-worked numbers, and batch selection / initial design."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import (
    ACQUISITIONS,
    acquisition_scores,
    ei,
    greedy,
    initial_design,
    pi,
    register_acquisition,
    select_batch,
    thompson,
    to_maximization,
    to_maximization_values,
    ucb,
)
from surrogates import Prediction

# standard normal values by hand (tables): Φ(1), φ(1), φ(0), Φ(-1)
PHI_1, PDF_1, PDF_0 = 0.8413447460685429, 0.24197072451914337, 0.3989422804014327


def test_ucb_botorch_worked_example():
    # BoTorch's test: mean 0.5, variance 1, beta 1 -> 0.5 + sqrt(1)·1 = 1.5
    assert ucb(Prediction([0.5], [1.0]), beta=1.0)[0] == pytest.approx(1.5)
    # beta weighs the variance: beta 4, std 0.5 -> 0.5 + 2·0.5 = 1.5
    assert ucb(Prediction([0.5], [0.5]), beta=4.0)[0] == pytest.approx(1.5)
    np.testing.assert_allclose(ucb(Prediction([1.0, 2.0])), [1.0, 2.0])  # no std: the mean
    with pytest.raises(ValueError, match="beta"):
        ucb(Prediction([0.5], [1.0]), beta=-1.0)


def test_ei_closed_form_at_chosen_points():
    pred = Prediction([1.0, 0.0, -1.0, 2.0], [1.0, 1.0, 1.0, 0.0])
    got = ei(pred, best=0.0)
    # u=1,σ=1: 1·Φ(1)+φ(1); u=0: φ(0); u=-1: -Φ(-1)+φ(-1) = φ(1) - (1-Φ(1)); σ=0: max(u,0)=2
    want = [PHI_1 + PDF_1, PDF_0, PDF_1 - (1 - PHI_1), 2.0]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # xi shifts the incumbent: u = 1 - 0 - 1 = 0 -> φ(0)
    assert ei(Prediction([1.0], [1.0]), best=0.0, xi=1.0)[0] == pytest.approx(PDF_0)
    # σ -> 0 limit is max(u, 0), from both sides
    np.testing.assert_allclose(ei(Prediction([0.3, -0.3], [1e-9, 1e-9]), best=0.0), [0.3, 0.0],
                               atol=1e-9)


def test_ei_matches_monte_carlo():
    rng = np.random.default_rng(3)
    mu, sd, best = 0.4, 1.3, 1.0
    f = rng.normal(mu, sd, size=400_000)
    mc = np.maximum(f - best, 0).mean()
    assert ei(Prediction([mu], [sd]), best=best)[0] == pytest.approx(mc, rel=0.01)
    assert pi(Prediction([mu], [sd]), best=best)[0] == pytest.approx((f > best).mean(), abs=0.003)


def test_pi_closed_form_and_step_limit():
    np.testing.assert_allclose(pi(Prediction([1.0, 0.0], [1.0, 2.0]), best=0.0), [PHI_1, 0.5])
    np.testing.assert_array_equal(pi(Prediction([0.5, -0.5, 0.0], [0.0, 0.0, 0.0]), best=0.0),
                                  [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="needs best"):
        pi(Prediction([0.0], [1.0]))
    with pytest.raises(ValueError, match="needs best"):
        ei(Prediction([0.0], [1.0]), best=None)


def test_thompson_reproducible_per_seed_and_distributed_as_posterior():
    pred = Prediction(np.zeros(50_000) + 2.0, np.full(50_000, 0.5))
    a, b, c = thompson(pred, rng=7), thompson(pred, rng=7), thompson(pred, rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.mean() == pytest.approx(2.0, abs=0.01) and a.std() == pytest.approx(0.5, rel=0.02)
    np.testing.assert_array_equal(thompson(Prediction([1.0, 3.0]), rng=0), [1.0, 3.0])


def test_greedy_is_the_mean_and_shapes_are_checked():
    np.testing.assert_array_equal(greedy(Prediction([3.0, 1.0], [9.0, 9.0])), [3.0, 1.0])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        greedy(Prediction(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="candidate 1 has std"):
        ucb(Prediction([0.0, 0.0], [1.0, -1.0]))


def test_registry_and_dispatch():
    assert set(ACQUISITIONS) >= {"greedy", "ucb", "ei", "pi", "thompson"}
    with pytest.raises(ValueError, match="already registered"):
        register_acquisition("ucb")(greedy)
    pred = Prediction([0.5], [1.0])
    # options a kind does not take are dropped, so one call serves every kind
    opts = {"beta": 1.0, "xi": 0.0, "rng": 0}
    assert acquisition_scores("ucb", pred, 0.0, **opts)[0] == pytest.approx(1.5)
    assert acquisition_scores("greedy", pred, None, **opts)[0] == 0.5
    with pytest.raises(ValueError, match="unknown acquisition 'nope'"):
        acquisition_scores("nope", pred)


def test_to_maximization_minimize_and_window():
    pred = Prediction([1.0, -2.0, 5.0], [0.1, 0.2, 0.3])
    mx, best = to_maximization(pred, "minimize", best=-1.0)
    np.testing.assert_array_equal(mx.mean, [-1.0, 2.0, -5.0])
    np.testing.assert_array_equal(mx.std, pred.std)
    assert best == 1.0
    # EI for minimisation: improvement below the incumbent -1: only -2 can improve (by 1)
    assert ei(*to_maximization(Prediction([-2.0], [0.0]), "minimize", best=-1.0))[0] == 1.0
    # window [0, 2]: distance outside, 0 inside
    mx, best = to_maximization(pred, None, target=(0.0, 2.0), best=3.0)
    np.testing.assert_array_equal(mx.mean, [0.0, -2.0, -3.0])
    assert best == -1.0
    np.testing.assert_array_equal(to_maximization_values([4.0], "maximize"), [4.0])
    with pytest.raises(ValueError, match="direction"):
        to_maximization(pred, "up")
    with pytest.raises(ValueError, match="lo < hi"):
        to_maximization_values([1.0], None, target=(2.0, 1.0))


# --- batch selection ----------------------------------------------------------------------
SCORES = np.array([5.0, 4.9, 4.8, 1.0, 0.9, 3.0])
# three tight groups: {0, 1, 2} near the origin, {3, 4} far away, {5} on its own
FEATURES = np.array([[0, 0], [0, 0.1], [0.1, 0], [10, 10], [10, 10.1], [-10, 5]], dtype=float)


def test_select_batch_top_k_excludes_pending_and_nan():
    np.testing.assert_array_equal(select_batch(SCORES, 3), [0, 1, 2])
    np.testing.assert_array_equal(select_batch(SCORES, 3, exclude=[0, 2]), [1, 5, 3])
    mask = np.zeros(6, dtype=bool)
    mask[:3] = True
    np.testing.assert_array_equal(select_batch(SCORES, 2, exclude=mask), [5, 3])
    s = SCORES.copy()
    s[0] = np.nan
    np.testing.assert_array_equal(select_batch(s, 2), [1, 2])
    # more asked than available: all that remain, best first; ties by position
    np.testing.assert_array_equal(select_batch([1.0, 1.0, 2.0], 5, exclude=[2]), [0, 1])
    assert select_batch(SCORES, 0).size == 0
    with pytest.raises(ValueError, match="position 9"):
        select_batch(SCORES, 2, exclude=[9])
    with pytest.raises(ValueError, match="needs features"):
        select_batch(SCORES, 2, diversity="cluster")


def test_select_batch_diversity_spreads_the_batch():
    greedy_pick = set(select_batch(SCORES, 3).tolist())
    assert greedy_pick == {0, 1, 2}  # all from one tight group
    for rule in ("cluster", "penalty"):
        pick = select_batch(SCORES, 3, diversity=rule, features=FEATURES, rng=0)
        groups = {0 if i < 3 else 1 if i < 5 else 2 for i in pick.tolist()}
        assert len(pick) == 3 and len(set(pick.tolist())) == 3
        assert pick[0] == 0, rule  # the best candidate is always taken
        assert len(groups) >= 2, (rule, pick)
        assert not set(pick.tolist()) & {9}
    # cluster: one per group exactly, and never an excluded one
    pick = select_batch(SCORES, 3, diversity="cluster", features=FEATURES, exclude=[0], rng=0)
    assert set(pick.tolist()) == {1, 3, 5}


def test_initial_design_random_and_diverse():
    a = initial_design(1000, 10, rng=4)
    np.testing.assert_array_equal(a, initial_design(1000, 10, rng=4))
    assert len(set(a.tolist())) == 10 and a.min() >= 0 and a.max() < 1000
    assert not set(initial_design(10, 8, exclude=[0, 1], rng=1).tolist()) & {0, 1}
    assert len(initial_design(5, 9)) == 5
    pick = initial_design(6, 3, "diverse", features=FEATURES, rng=0)
    assert {0 if i < 3 else 1 if i < 5 else 2 for i in pick.tolist()} == {0, 1, 2}
    with pytest.raises(ValueError, match="'random' or 'diverse'"):
        initial_design(6, 3, "clever")
