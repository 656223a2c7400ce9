"""Free-form curve baselines (CurveMLP, CurveGP, CurveRF) and curve-derived objectives."""

from __future__ import annotations

import numpy as np
import pytest

from physics import hill
from surrogates import CurveGP, CurveMLP, CurveRF
from surrogates._dose_response._objectives import params_from_curves
from surrogates.testing import SurrogateConformance
from tests.surrogates._hill_landscape import ALPHABET, DOSES, VARIANTS, curves, true_params


def _data():
    return VARIANTS[:20], (curves(VARIANTS[:20]), DOSES), {}, VARIANTS[20:]


class TestCurveMLPConformance(SurrogateConformance):
    @pytest.fixture
    def surrogate(self) -> CurveMLP:
        return CurveMLP(alphabet=ALPHABET, hidden=(16,), epochs=30, val_fraction=0.0)

    @pytest.fixture
    def training_data(self):
        return _data()


class _NotSaveable:
    def test_save_load_round_trip(self, surrogate, training_data, tmp_path) -> None:
        model = self._fit(surrogate, training_data)
        with pytest.raises(NotImplementedError, match="cannot be saved"):
            model.save(tmp_path / "model.safetensors")


class TestCurveGPConformance(_NotSaveable, SurrogateConformance):
    @pytest.fixture
    def surrogate(self) -> CurveGP:
        return CurveGP(alphabet=ALPHABET, n_restarts=0)

    @pytest.fixture
    def training_data(self):
        return _data()


class TestCurveRFConformance(_NotSaveable, SurrogateConformance):
    @pytest.fixture
    def surrogate(self) -> CurveRF:
        return CurveRF(alphabet=ALPHABET, n_estimators=20)

    @pytest.fixture
    def training_data(self):
        return _data()


def test_params_from_exact_hill_curves_by_interpolation() -> None:
    doses = np.logspace(-2, 4, 121)  # fine grid: interpolation error is small
    t = true_params(VARIANTS)
    p = params_from_curves(curves(VARIANTS, doses), doses)
    assert np.max(np.abs(np.log(p["K"] / t["K"]))) < 0.01
    assert np.max(np.abs(np.log(p["n"] / t["n"]))) < 0.03  # log10(81)/log10(EC90/EC10) = n
    np.testing.assert_allclose(p["rmin"], hill(doses[0], t["rmin"], t["rmax"], t["K"], t["n"]))
    # decreasing curves: the same K and n
    pd = params_from_curves(curves(VARIANTS, doses, increasing=False), doses)
    assert np.max(np.abs(np.log(pd["K"] / t["K"]))) < 0.01
    # a flat curve: K at the grid's geometric middle and n undefined
    flat = params_from_curves(np.ones((1, 5)), np.logspace(0, 4, 5))
    assert flat["K"][0] == pytest.approx(100.0) and np.isnan(flat["n"][0])


@pytest.mark.parametrize("cls", [CurveMLP, CurveRF, CurveGP])
def test_baselines_hold_end_values_beyond_the_grid_and_fill_nan(cls) -> None:
    Y = curves(VARIANTS)
    Y[::4, 3:5] = np.nan
    kw = {"epochs": 50, "val_fraction": 0.0} if cls is CurveMLP else {}
    model = cls(alphabet=ALPHABET, **kw).fit(VARIANTS, Y, DOSES)
    far = model.predict_curve(VARIANTS[:5], [1e-4, DOSES[0], DOSES[-1], 1e5])
    np.testing.assert_allclose(far[:, 0], far[:, 1])
    np.testing.assert_allclose(far[:, 3], far[:, 2])
    model.set_params(objective="response@1000")
    np.testing.assert_allclose(model.predict(VARIANTS[:5]).mean, far[:, 2])


def test_gp_learns_the_landscape() -> None:
    """On this smooth additive landscape the GP beats predicting the mean curve."""
    model = CurveGP(alphabet=ALPHABET, objective="log10_ec50").fit(VARIANTS[::2], curves(VARIANTS[::2]), DOSES)
    held = VARIANTS[1::2]
    err = model.predict_curve(held, DOSES) - curves(held)
    base = curves(VARIANTS[::2]).mean(axis=0) - curves(held)
    assert np.sqrt(np.mean(err**2)) < 0.5 * np.sqrt(np.mean(base**2))
