"""The conformance suite itself: it passes a correct simulator and catches broken ones."""

from __future__ import annotations

import math

import pytest

from physics import CandidateError, Simulator
from physics.testing import SimulatorConformance, assert_results_close


class _Good(Simulator):
    targets = ("y",)

    def evaluate_one(self, x):
        if not isinstance(x, (int, float)) or x < 0:
            raise CandidateError(f"candidate {x!r} is not a non-negative number")
        return {"y": math.sqrt(x)}


class _Raises(_Good):
    def evaluate(self, candidates):  # breaks "never raise for one bad candidate"
        return [self._one(c) for c in candidates]

    def _one(self, c):
        from physics import SimulationResult

        return SimulationResult.success(self.evaluate_one(c))


class _Reorders(_Good):
    def evaluate(self, candidates):  # breaks "same order"
        return super().evaluate(sorted(candidates, key=str))


class _MissingTarget(_Good):
    targets = ("y", "z")


class _UnknownInput(_Good):
    input_kind = "smiles-ish"  # not one of physics.INPUT_KINDS


class _NoReason(_Good):
    def evaluate(self, candidates):
        from physics import SimulationResult

        out = super().evaluate(candidates)
        return [r if r.ok else SimulationResult(ok=False, error=" ") for r in out]


class TestGoodSimulatorPasses(SimulatorConformance):
    @pytest.fixture
    def simulator(self):
        return _Good()

    @pytest.fixture
    def good_candidates(self):
        return [4.0, 0, 2.25]

    @pytest.fixture
    def bad_candidates(self):
        return [-1.0, "x"]


SUITE = [name for name in dir(SimulatorConformance) if name.startswith("test_")]


def _run_suite(sim: Simulator) -> list[str]:
    """Names of the suite's tests that fail for ``sim``."""
    suite = SimulatorConformance()
    good, bad = [9.0, 1.0, 4.0], [-2.0, "x"]
    failed = []
    for name in SUITE:
        method = getattr(suite, name)
        kwargs = {"simulator": sim, "good_candidates": good, "bad_candidates": bad}
        params = method.__code__.co_varnames[1:method.__code__.co_argcount]
        try:
            method(**{p: kwargs[p] for p in params})
        except (AssertionError, CandidateError, pytest.fail.Exception):
            failed.append(name)
    return failed


@pytest.mark.parametrize(("broken", "caught"), [
    (_Raises, "test_failures_carry_reasons_and_never_raise"),
    (_Reorders, "test_one_result_per_item_in_order"),
    (_MissingTarget, "test_targets_present_and_finite"),
    (_NoReason, "test_failures_carry_reasons_and_never_raise"),
    (_UnknownInput, "test_declares_what_it_reads_and_returns"),
])
def test_suite_catches_broken_simulators(broken, caught):
    assert _run_suite(_Good()) == []
    assert caught in _run_suite(broken())


def test_assert_results_close_compares_values_and_status():
    sim = _Good()
    a = sim.evaluate([4.0, -1.0])
    assert_results_close(a, sim.evaluate([4.0, -1.0]))
    with pytest.raises(AssertionError, match="item 0"):
        assert_results_close(a, sim.evaluate([4.1, -1.0]))
    with pytest.raises(AssertionError, match="item 1: ok"):
        assert_results_close(a, sim.evaluate([4.0, 1.0]))
