"""AllostericSensor: the simulator contract, the landscape, and the stochastic mode's physics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from physics import (
    AllostericSensor,
    SimulationError,
    make_simulator,
    mwc_ec50,
    mwc_effective_hill,
    mwc_fold_change,
)
from physics.testing import SimulatorConformance, assert_results_close


def _mutant(sensor: AllostericSensor, pos: int, letter_offset: int = 1) -> str:
    """A point mutation at 1-based ``pos`` written like 'A2V'."""
    wt = sensor.wild_type[pos - 1]
    new = sensor.alphabet[(sensor.alphabet.index(wt) + letter_offset) % len(sensor.alphabet)]
    return f"{wt}{pos}{new}"


class TestDeterministicConformance(SimulatorConformance):
    rtol, atol = 1e-12, 1e-14

    @pytest.fixture
    def simulator(self) -> AllostericSensor:
        return AllostericSensor(n_sites=6, seed=3, device="cpu")

    @pytest.fixture
    def good_candidates(self, simulator) -> list:
        return [simulator.wild_type, [_mutant(simulator, 2)],
                f"{_mutant(simulator, 1)}-{_mutant(simulator, 6, 3)}",
                *simulator.random_variants(3, n_mutations=2, seed=1)]

    @pytest.fixture
    def bad_candidates(self) -> list:
        return ["ACD", "ACDEFZ", ["Q99K"], 42, ["A1"]]


class TestStochasticConformance(TestDeterministicConformance):
    """Cells are seeded per (seed, variant), so even the stochastic mode is reproducible."""

    @pytest.fixture
    def simulator(self) -> AllostericSensor:
        return AllostericSensor(n_sites=6, seed=3, mode="stochastic", n_cells=64, device="cpu")


def test_wild_type_is_the_published_lacI() -> None:
    sensor = AllostericSensor(operator="O2", repressors=260)
    (res,) = sensor.evaluate([sensor.wild_type])
    doses = np.logspace(-2, 4, 12)
    np.testing.assert_array_equal(sensor.doses, doses)
    np.testing.assert_allclose(res.values["response"],
                               mwc_fold_change(doses, 139.0, 0.53, 4.5, -13.9, 260.0), rtol=1e-12)
    assert res.values["ec50"] == pytest.approx(float(mwc_ec50(139.0, 0.53, 4.5, -13.9, 260.0)))
    assert res.values["hill_n"] == pytest.approx(
        float(mwc_effective_hill(139.0, 0.53, 4.5, -13.9, 260.0)))
    assert res.values["dynamic_range"] == pytest.approx(
        res.values["saturation"] - res.values["leakiness"])
    assert 0 < res.values["leakiness"] < 0.05 < 0.9 < res.values["saturation"] < 1
    params = sensor.parameters([sensor.wild_type, []])
    for key, value in dict(Ka=139.0, Ki=0.53, ep_ai=4.5, ep_ra=-13.9).items():
        np.testing.assert_allclose(params[key], value, rtol=1e-12)
    assert sensor.evaluate([[]])[0].values["ec50"] == res.values["ec50"]  # [] is the wild type


def test_operator_energy_as_number_and_registry() -> None:
    a = make_simulator("sensor", operator="O1", n_sites=4)
    b = AllostericSensor(operator=-15.3, n_sites=4)
    v = a.random_variants(4, 2)
    assert_results_close(a.evaluate(v), b.evaluate(v), rtol=1e-12, atol=0)


def test_mutation_list_equals_sequence() -> None:
    sensor = AllostericSensor(n_sites=8, seed=5)
    muts = [_mutant(sensor, 3), _mutant(sensor, 7, 5)]
    seq = sensor.sequence(muts)
    assert sum(a != b for a, b in zip(seq, sensor.wild_type)) == 2
    assert_results_close(sensor.evaluate([muts, "-".join(muts)]),
                         sensor.evaluate([seq, seq]), rtol=0, atol=0)


def test_landscape_is_reproducible_per_seed() -> None:
    a, b, c = (AllostericSensor(n_sites=10, seed=s) for s in (7, 7, 8))
    assert a.wild_type == b.wild_type != c.wild_type
    v = a.random_variants(20, 3, seed=2)
    assert_results_close(a.evaluate(v), b.evaluate(v), rtol=0, atol=0)
    assert not np.allclose(a.parameters(v)["Ka"], c.parameters(v)["Ka"])


def test_additive_without_epistasis_and_not_with_it() -> None:
    """θ(double) − θ(wt) = Δθ(single 1) + Δθ(single 2) exactly when epistasis = 0."""
    def excess(sensor: AllostericSensor) -> np.ndarray:
        m1, m2 = _mutant(sensor, 2), _mutant(sensor, 5, 4)
        p = sensor.parameters([[], [m1], [m2], [m1, m2]])
        theta = np.stack([np.log(p["Ka"]), np.log(p["Ki"]), p["ep_ai"], p["ep_ra"]], axis=1)
        return theta[3] - theta[1] - theta[2] + theta[0]

    np.testing.assert_allclose(excess(AllostericSensor(seed=4, epistasis=0.0)), 0.0, atol=1e-12)
    assert np.abs(excess(AllostericSensor(seed=4, epistasis=1.0))).max() > 1e-3


def test_single_mutants_change_the_curve_by_plausible_amounts() -> None:
    sensor = AllostericSensor(n_sites=10, seed=0)
    p = sensor.parameters(sensor.random_variants(200, 1, seed=0))
    fold_ka = np.abs(np.log(p["Ka"] / 139.0))
    assert 0.05 < np.median(fold_ka) < 1.5  # typical Ka change: a few tens of per cent to ~4×
    assert np.all(np.isfinite(p["ep_ra"])) and np.std(p["ep_ra"]) > 0.05


def test_parameters_names_bad_variant() -> None:
    sensor = AllostericSensor()
    with pytest.raises(ValueError, match=r"variant at index 1 \('VPMZH'\): unknown letter 'Z'"):
        sensor.parameters([sensor.wild_type, "VPMZH"])


def test_failure_reasons_name_the_variant() -> None:
    sensor = AllostericSensor()
    wrong_wt = "A2V" if sensor.wild_type[1] != "A" else "C2V"
    errors = [r.error for r in sensor.evaluate(["AC", [wrong_wt], sensor.wild_type])[:2]]
    assert errors[0] == "variant 'AC': length 2, expected 5 sites (or mutations like 'A2V')"
    assert f"mutation '{wrong_wt}': wild type has '{sensor.wild_type[1]}' at position 2" in errors[1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(operator="O7"), "unknown operator 'O7'"),
        (dict(mode="fast"), "mode must be"),
        (dict(doses=[1.0, -2.0]), "dose at index 1 is -2.0"),
        (dict(doses=[1.0, float("nan")]), "dose at index 1 is nan"),
        (dict(Ka=0.0), "Ka must be finite and > 0"),
        (dict(repressors=-1), "repressors must be finite and ≥ 0"),
        (dict(n_cells=1, mode="stochastic"), "n_cells must be an integer ≥ 2"),
        (dict(epistasis=-0.1), "epistasis must be"),
        (dict(alphabet="AAB"), "alphabet must be distinct"),
    ],
)
def test_misconfiguration_is_a_clear_error(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        AllostericSensor(**kwargs)
    assert isinstance(info.value, SimulationError)


# ---------------------------------------------------------------- the stochastic mode
def _stochastic(n_cells: int, repressor_noise: float, measurement_noise: float, seed: int = 0):
    return AllostericSensor(mode="stochastic", n_cells=n_cells, seed=seed, device="cpu",
                            repressor_noise=repressor_noise, measurement_noise=measurement_noise)


def test_stochastic_without_noise_equals_deterministic() -> None:
    """No cell-to-cell variation: the bisection EC50 and the Hill slope equal the closed forms."""
    det = AllostericSensor(device="cpu")
    sto = _stochastic(4, 0.0, 0.0)
    v = [det.wild_type, *det.random_variants(5, 2)]
    for a, b in zip(det.evaluate(v), sto.evaluate(v)):
        for key in det.targets:
            np.testing.assert_allclose(b.values[key], a.values[key], rtol=1e-9, err_msg=key)
        np.testing.assert_allclose(b.values["response_std"], 0.0, atol=1e-15)


def test_stochastic_mean_converges_to_deterministic_curve() -> None:
    """Only measurement noise (mean one): the population mean's error falls like 1/√cells."""
    det = AllostericSensor(device="cpu")
    truth = det.evaluate([det.wild_type])[0].values["response"]
    errors = []
    for cells in (100, 5_000):
        sims = [_stochastic(cells, 0.0, 0.3, seed=s) for s in range(3)]  # wild types differ
        rel = [np.abs(sim.evaluate([sim.wild_type])[0].values["response"] / truth - 1).mean()
               for sim in sims]
        errors.append(np.mean(rel))
    # noise 0.3 → relative sd of a 100-cell mean ≈ 0.03; 50× the cells → 7× smaller
    assert 0.01 < errors[0] < 0.06 and errors[1] < errors[0] / 4


def test_stochastic_mean_matches_quadrature_over_repressor_noise() -> None:
    """With log-normal repressor counts the population mean is E_z[F(c; R e^{σz − σ²/2})],
    computed here by Gauss–Hermite quadrature; the finite-cell mean agrees within 4 SE."""
    sigma, cells = 0.5, 20_000
    sensor = _stochastic(cells, sigma, 0.0)
    res = sensor.evaluate([sensor.wild_type])[0].values
    z, w = np.polynomial.hermite_e.hermegauss(60)
    R = 260.0 * np.exp(sigma * z - 0.5 * sigma**2)
    mean = (w * mwc_fold_change(sensor.doses[:, None], 139.0, 0.53, 4.5, -13.9, R)).sum(1)
    mean /= w.sum()
    se = res["response_std"] / math.sqrt(cells)
    assert np.all(np.abs(res["response"] - mean) < 4 * se + 1e-12)
    det = AllostericSensor().evaluate([sensor.wild_type])[0].values["response"]
    assert np.abs(mean - det).max() > 10 * se.max()  # the noise really shifts the mean (Jensen)


def test_stochastic_cells_do_not_depend_on_the_batch() -> None:
    sensor = _stochastic(50, 0.3, 0.1)
    v = sensor.random_variants(4, 1)
    together = sensor.evaluate(v)
    apart = [sensor.evaluate([x])[0] for x in v]
    assert_results_close(together, apart, rtol=1e-12, atol=1e-15)
    other = _stochastic(50, 0.3, 0.1, seed=1).evaluate(v)  # another seed, another landscape
    assert not np.allclose(together[0].values["response"], other[0].values["response"])


@pytest.mark.gpu
def test_cuda_matches_cpu_deterministic() -> None:
    cpu, gpu = AllostericSensor(device="cpu"), AllostericSensor(device="cuda")
    v = cpu.random_variants(50, 2)
    assert_results_close(cpu.evaluate(v), gpu.evaluate(v), rtol=1e-9, atol=1e-12)
    sto = AllostericSensor(device="cuda", mode="stochastic", n_cells=2000)
    assert all(r.ok for r in sto.evaluate(v))
    assert torch.cuda.is_available()
