"""HillSurrogate against physical truth: known Hill parameters, limits, monotonicity, errors."""

from __future__ import annotations

import numpy as np
import pytest

from physics import fit_hill, hill
from surrogates import Ensemble, HillSurrogate, load_model
from surrogates.testing import SurrogateConformance
from tests.surrogates._hill_landscape import ALPHABET, DOSES, VARIANTS, curves, true_params

FAST = {"alphabet": ALPHABET, "hidden": (8,), "epochs": 40, "val_fraction": 0.0}


class TestHillSurrogateConformance(SurrogateConformance):
    @pytest.fixture
    def surrogate(self) -> HillSurrogate:
        return HillSurrogate(**FAST, random_state=3)

    @pytest.fixture
    def training_data(self):
        return VARIANTS[:20], (curves(VARIANTS[:20]), DOSES), {}, VARIANTS[20:]


class TestHillSurrogateOnVectors(SurrogateConformance):
    @pytest.fixture
    def surrogate(self) -> HillSurrogate:
        return HillSurrogate(hidden=(8,), epochs=40, val_fraction=0.0, dtype="float64")

    @pytest.fixture
    def training_data(self):
        rng = np.random.default_rng(1)
        X = rng.normal(size=(24, 3))
        K = 10.0 * np.exp(X[:, 0])
        Y = hill(DOSES[None, :], 0.1, 1.0, K[:, None], 1.5)
        return X[:18], (Y[:18], DOSES), {}, X[18:]


@pytest.fixture(scope="module")
def additive_model() -> HillSurrogate:
    """Purely additive model trained on all 27 noise-free curves."""
    return HillSurrogate(alphabet=ALPHABET, hidden=(), epochs=400, lr=3e-2,
                         val_fraction=0.0, dtype="float64").fit(VARIANTS, curves(VARIANTS), DOSES)


def test_recovers_known_hill_parameters(additive_model: HillSurrogate) -> None:
    p, t = additive_model.predict_params(VARIANTS), true_params(VARIANTS)
    assert np.max(np.abs(np.log(p["K"] / t["K"]))) < 0.05  # K within 5 %
    assert np.max(np.abs(np.log(p["n"] / t["n"]))) < 0.05
    assert np.max(np.abs(p["rmin"] - t["rmin"])) < 0.02
    assert np.max(np.abs(p["rmax"] - t["rmax"])) < 0.03
    # and the curve at 10x beyond the training grid follows the true curve (extrapolation)
    far = np.array([1e-3, 1e4, 1e5])
    assert np.max(np.abs(additive_model.predict_curve(VARIANTS, far) - curves(VARIANTS, far))) < 0.03


def test_objectives_are_derived_from_parameters(additive_model: HillSurrogate) -> None:
    p = additive_model.predict_params(VARIANTS)
    for objective, expected in [
        ("ec50", p["K"]), ("log10_ec50", np.log10(p["K"])), ("hill_n", p["n"]),
        ("dynamic_range", p["rmax"] - p["rmin"]),
        ("fold_induction", p["rmax"] / p["rmin"]), ("leakiness", p["rmin"]),
        ("saturation", p["rmax"]), ("response@10", additive_model.predict_curve(VARIANTS, [10.0])[:, 0]),
    ]:
        additive_model.set_params(objective=objective)
        np.testing.assert_allclose(additive_model.predict(VARIANTS).mean, expected, rtol=1e-12)
    additive_model.set_params(objective="ec50")
    # EC50 = K: the curve at K is the midpoint
    mid = np.array([additive_model.predict_curve([v], [k])[0, 0] for v, k in zip(VARIANTS, p["K"])])
    np.testing.assert_allclose(mid, (p["rmin"] + p["rmax"]) / 2, rtol=1e-10)


@pytest.mark.parametrize("increasing", [True, False, None])
def test_limits_and_monotonicity_hold_for_every_prediction(increasing: bool | None) -> None:
    model = HillSurrogate(alphabet=ALPHABET, hidden=(16,), epochs=60, val_fraction=0.0,
                          increasing=increasing, dtype="float64")
    Y = curves(VARIANTS[::2], increasing=increasing is not False)
    if increasing is None:  # a library holding both rising and falling curves
        Y[::2] = curves(VARIANTS[::4], increasing=False)
    model.fit(VARIANTS[::2], Y, DOSES)
    doses = np.concatenate([[0.0], np.logspace(-6, 9, 200)])
    R = model.predict_curve(VARIANTS, doses)  # held-out variants included
    p = model.predict_params(VARIANTS)
    np.testing.assert_array_equal(R[:, 0], p["rmin"])  # R(0) = rmin exactly
    np.testing.assert_allclose(model.predict_curve(VARIANTS, [1e300])[:, 0], p["rmax"], atol=1e-9)
    step = np.diff(R, axis=1) * np.sign(p["rmax"] - p["rmin"])[:, None]
    assert np.all(step >= -1e-12)  # every curve monotone, towards rmax
    if increasing is not None:
        assert np.all(p["rmax"] >= p["rmin"]) if increasing else np.all(p["rmax"] <= p["rmin"])
    else:  # both directions were learned
        assert np.any(p["rmax"] > p["rmin"]) and np.any(p["rmax"] < p["rmin"])
    assert np.all((p["K"] > 0) & (p["n"] >= 0.25) & (p["n"] <= 8.0))


def test_constraints_hold_far_outside_the_training_inputs() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    Y = hill(DOSES[None, :], 0.2, 2.0, (10 * np.exp(X[:, :1])), 1.0)
    model = HillSurrogate(hidden=(16,), epochs=60, val_fraction=0.0, dtype="float64").fit(X, Y, DOSES)
    wild = rng.normal(scale=1e3, size=(50, 2))  # far outside anything seen
    R = model.predict_curve(wild, np.logspace(-4, 6, 50))
    assert np.all(np.isfinite(R)) and np.all(np.diff(R, axis=1) >= -1e-12)


def test_missing_doses_and_sigma_weighting() -> None:
    Y = curves(VARIANTS)
    holes = Y.copy()
    holes[::3, 2:5] = np.nan  # a third of the variants lack three mid doses
    model = HillSurrogate(alphabet=ALPHABET, hidden=(), epochs=400, lr=3e-2, val_fraction=0.0,
                          dtype="float64").fit(VARIANTS, holes, DOSES)
    t = true_params(VARIANTS)
    assert np.max(np.abs(np.log(model.predict_params(VARIANTS)["K"] / t["K"]))) < 0.08
    # a duplicate of every variant with a corrupted curve but 100x larger sigma barely counts
    X2 = VARIANTS + VARIANTS
    Y2 = np.vstack([Y, Y + 0.5])
    sigma = np.concatenate([np.full(27, 0.01), np.full(27, 1.0)])[:, None]
    weighted = HillSurrogate(alphabet=ALPHABET, hidden=(), epochs=400, lr=3e-2,
                             val_fraction=0.0, dtype="float64").fit(X2, Y2, DOSES, sigma=sigma)
    p = weighted.predict_params(VARIANTS)
    assert np.max(np.abs(p["rmin"] - t["rmin"])) < 0.01  # unweighted would be off by ~0.25


def test_fit_params_from_fit_hill_with_standard_errors() -> None:
    rng = np.random.default_rng(4)
    Y = curves(VARIANTS) + rng.normal(scale=0.01, size=(27, len(DOSES)))
    fits = [fit_hill(DOSES, row) for row in Y]
    model = HillSurrogate(alphabet=ALPHABET, hidden=(), epochs=400, lr=3e-2, val_fraction=0.0,
                          dtype="float64").fit_params(VARIANTS, fits, doses=DOSES)
    t = true_params(VARIANTS)
    p = model.predict_params(VARIANTS)
    assert np.max(np.abs(np.log(p["K"] / t["K"]))) < 0.1
    assert np.max(np.abs(p["rmax"] - t["rmax"])) < 0.05
    # the same from a dict of arrays with explicit standard errors
    params = {k: np.array([getattr(f, k) for f in fits]) for k in ("rmin", "rmax", "K", "n")}
    stderr = {k: np.array([getattr(f, f"{k}_se") for f in fits]) for k in ("rmin", "rmax", "K", "n")}
    again = HillSurrogate(alphabet=ALPHABET, hidden=(), epochs=400, lr=3e-2, val_fraction=0.0,
                          dtype="float64").fit_params(VARIANTS, params, stderr, doses=DOSES)
    np.testing.assert_allclose(again.predict_params(VARIANTS)["K"], p["K"], rtol=1e-8)


def test_ensemble_gives_spread_per_parameter(tmp_path) -> None:
    X_train, X_test = VARIANTS[:15], VARIANTS[15:]
    ens = Ensemble(HillSurrogate(**FAST), 3).fit(X_train, curves(X_train), doses=DOSES)
    out = ens.aggregate("predict_params", X_test)
    for name in ("rmin", "rmax", "K", "n"):
        assert out[name].mean.shape == (12,) and np.all(out[name].std > 0), name
    pred = ens.predict(X_test)
    assert np.all(pred.std > 0)
    back = load_model(ens.save(tmp_path / "ens.safetensors"))
    np.testing.assert_allclose(back.predict(X_test).mean, pred.mean, rtol=1e-6)


# --- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("X", "Y", "doses", "match"),
    [
        (VARIANTS[:3], curves(VARIANTS[:3])[:, :3], DOSES[:3], "fewer than the 4 Hill"),
        (VARIANTS[:3], np.where([[0], [1], [0]], np.nan, curves(VARIANTS[:3])), DOSES,
         "row 1: every response is NaN"),
        (VARIANTS[:3], np.where(np.arange(9) < 6, np.nan, curves(VARIANTS[:3])) * [[1], [1], [1]],
         DOSES, "row 0: only 3 measured doses"),
        (VARIANTS[:3], curves(VARIANTS[:3]), np.r_[DOSES[:4], -1.0, DOSES[5:]], r"doses\[4\] is negative"),
        (VARIANTS[:3], curves(VARIANTS[:3]), np.r_[DOSES[:2], np.nan, DOSES[3:]], r"doses\[2\] is nan"),
        (VARIANTS[:3], curves(VARIANTS[:3]), np.r_[DOSES[:8], 1e15], "mixed units.*µM"),
        (["ACD", "AC", "CCD"], curves(VARIANTS[:3]), DOSES, "sequence 1 .* length 2, expected 3"),
        (["ACD", "ACD", "AXD"], curves(VARIANTS[:3]), DOSES, "sequence 2 .*unknown letter 'X' at position 1"),
        ("ACD", curves(VARIANTS[:1]), DOSES, "single string"),
    ],
)
def test_bad_input_is_named(X, Y, doses, match) -> None:
    with pytest.raises(ValueError, match=match):
        HillSurrogate(**FAST).fit(X, Y, doses)


def test_bad_input_at_predict_and_config() -> None:
    model = HillSurrogate(**FAST).fit(VARIANTS, curves(VARIANTS), DOSES)
    with pytest.raises(ValueError, match=r"sequence 1 .*length 4"):
        model.predict(["ACD", "ACDA"])
    with pytest.raises(ValueError, match="fitted on sequences"):
        model.predict(np.zeros((2, 9)))
    with pytest.raises(ValueError, match="unknown objective 'potency'"):
        HillSurrogate(**FAST, objective="potency").fit(VARIANTS, curves(VARIANTS), DOSES)
    with pytest.raises(ValueError, match=r"row 2: K = -1\.0 must be > 0"):
        HillSurrogate(**FAST).fit_params(VARIANTS[:3], {"rmin": [0, 0, 0], "rmax": [1, 1, 1],
                                                        "K": [1, 2, -1.0], "n": [1, 1, 1]})


def test_positive_responses_spanning_decades() -> None:
    """Fold-change-like data: leakiness spans three decades; positive=True keeps rmin > 0 and
    learns it in log space (a positive fold induction rmax/rmin for every variant)."""
    t = true_params(VARIANTS)
    leak = 10.0 ** (-3 + 2 * (np.arange(27) % 3) / 2 + 0.3 * (np.arange(27) // 9))  # 1e-3..~0.4
    doses = np.r_[0.0, DOSES]
    Y = hill(doses[None, :], leak[:, None], 1.0, t["K"][:, None], t["n"][:, None])
    model = HillSurrogate(alphabet=ALPHABET, hidden=(), positive=True, epochs=1000, lr=3e-2,
                          val_fraction=0.0, dtype="float64", objective="fold_induction")
    model.fit(VARIANTS, Y, doses, sigma=0.05 * Y)  # 5 % relative error
    p = model.predict_params(VARIANTS)
    assert np.all(p["rmin"] > 0) and np.all(model.predict(VARIANTS).mean >= 1.0)
    # the responsive end is learnt well (leakiness ≥ 1 %: within 25 %)
    big = leak >= 0.01
    assert np.max(np.abs(np.log10(p["rmin"][big] / leak[big]))) < 0.1
    with pytest.raises(ValueError, match=r"row 1: rmin = -0\.1 but positive=True"):
        HillSurrogate(positive=True, alphabet=ALPHABET).fit_params(
            VARIANTS[:2], {"rmin": [0.1, -0.1], "rmax": [1, 1], "K": [1, 1], "n": [1, 1]})
