"""A conformance suite for simulators, in the manner of ``optuna.testing``.

A new simulator's test module subclasses :class:`SimulatorConformance` and supplies three
pytest fixtures::

    from physics.testing import SimulatorConformance

    class TestMySimulator(SimulatorConformance):
        @pytest.fixture
        def simulator(self):
            return MySimulator(...)

        @pytest.fixture
        def good_candidates(self):
            return [...]          # at least one; each must succeed

        @pytest.fixture
        def bad_candidates(self):
            return [...]          # at least one; each must fail with a reason

Every test below then runs against it: batch in / batch out in the same order, one result per
item, failures carry a reason and never raise, an empty batch is a clear ``ValueError``, the
declared targets are present and finite, the results survive a JSON round trip, and a batch
gives what one-at-a-time calls give. Class attributes tune it: ``deterministic = False`` for a
stochastic simulator (skips the equality checks), ``rtol``/``atol`` for comparing values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

from ._base import INPUT_KINDS, SimulationResult, Simulator

__all__ = ["SimulatorConformance", "assert_results_close"]


def assert_results_close(
    a: Sequence[SimulationResult], b: Sequence[SimulationResult],
    rtol: float = 1e-7, atol: float = 1e-9,
) -> None:
    """Assert two result lists agree item by item (status, error, every value within tolerance)."""
    assert len(a) == len(b), f"{len(a)} results vs {len(b)}"
    for i, (ra, rb) in enumerate(zip(a, b)):
        assert ra.ok == rb.ok, f"item {i}: ok {ra.ok} vs {rb.ok} ({ra.error!r} / {rb.error!r})"
        if not ra.ok:
            assert ra.error == rb.error, f"item {i}: error {ra.error!r} vs {rb.error!r}"
            continue
        assert set(ra.values) == set(rb.values), f"item {i}: targets differ"
        for key in ra.values:
            va, vb = np.asarray(ra.values[key], float), np.asarray(rb.values[key], float)
            assert va.shape == vb.shape, f"item {i}, {key}: shape {va.shape} vs {vb.shape}"
            np.testing.assert_allclose(va, vb, rtol=rtol, atol=atol,
                                       err_msg=f"item {i}, target {key!r}")


class SimulatorConformance:
    """Base class of a simulator's conformance tests; see the module docstring."""

    #: ``False`` for a stochastic simulator: repeated calls may give different values
    deterministic: ClassVar[bool] = True
    #: tolerances for comparing values between calls
    rtol: ClassVar[float] = 1e-7
    atol: ClassVar[float] = 1e-9

    @pytest.fixture
    def simulator(self) -> Simulator:
        raise NotImplementedError("supply a `simulator` fixture")

    @pytest.fixture
    def good_candidates(self) -> list[Any]:
        raise NotImplementedError("supply a `good_candidates` fixture")

    @pytest.fixture
    def bad_candidates(self) -> list[Any]:
        raise NotImplementedError("supply a `bad_candidates` fixture")

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _interleave(good: list[Any], bad: list[Any]) -> tuple[list[Any], list[bool]]:
        """Good and bad candidates mixed (bad first, then alternating), with expected ``ok``."""
        items: list[Any] = []
        expect: list[bool] = []
        for i in range(max(len(good), len(bad))):
            if i < len(bad):
                items.append(bad[i])
                expect.append(False)
            if i < len(good):
                items.append(good[i])
                expect.append(True)
        return items, expect

    # -- the suite -----------------------------------------------------------------------------

    def test_fixtures_are_usable(self, simulator, good_candidates, bad_candidates) -> None:
        assert isinstance(simulator, Simulator)
        assert len(good_candidates) >= 1, "give at least one good candidate"
        assert len(bad_candidates) >= 1, "give at least one bad candidate"
        assert simulator.targets, "a simulator declares the names of its targets"

    def test_declares_what_it_reads_and_returns(self, simulator) -> None:
        cls = type(simulator)
        assert cls.input_kind in INPUT_KINDS, \
            f"{cls.__name__}.input_kind = {cls.input_kind!r} is not one of {INPUT_KINDS}"
        for name in simulator.targets:
            info = cls.target_info(name)
            assert info.name == name, f"target_info({name!r}) describes {info.name!r}"

    def test_one_result_per_item_in_order(self, simulator, good_candidates, bad_candidates):
        items, expect = self._interleave(list(good_candidates), list(bad_candidates))
        results = simulator.evaluate(items)
        assert isinstance(results, list) and len(results) == len(items)
        assert all(isinstance(r, SimulationResult) for r in results)
        assert [r.ok for r in results] == expect, [(r.ok, r.error) for r in results]
        assert all(r.seconds >= 0 for r in results)

    def test_failures_carry_reasons_and_never_raise(self, simulator, bad_candidates) -> None:
        results = simulator.evaluate(list(bad_candidates))
        for i, r in enumerate(results):
            assert not r.ok, f"bad candidate #{i} succeeded"
            assert isinstance(r.error, str) and r.error.strip(), f"bad candidate #{i}: no reason"
            assert dict(r.values) == {}, f"bad candidate #{i} carries values"

    def test_empty_batch_is_a_clear_error(self, simulator) -> None:
        with pytest.raises(ValueError, match="empty"):
            simulator.evaluate([])

    def test_targets_present_and_finite(self, simulator, good_candidates) -> None:
        for i, r in enumerate(simulator.evaluate(list(good_candidates))):
            assert r.ok, f"good candidate #{i} failed: {r.error}"
            assert r.error is None
            missing = set(simulator.targets) - set(r.values)
            assert not missing, f"good candidate #{i} lacks targets {sorted(missing)}"
            for key in simulator.targets:
                arr = np.asarray(r.values[key], dtype=float)
                assert np.all(np.isfinite(arr)), f"good candidate #{i}: {key} not finite"

    def test_results_json_round_trip(self, simulator, good_candidates, bad_candidates) -> None:
        items, _ = self._interleave(list(good_candidates), list(bad_candidates))
        results = simulator.evaluate(items)
        back = [SimulationResult.from_json(json.loads(json.dumps(r.to_json()))) for r in results]
        assert_results_close(results, back, rtol=0, atol=0)
        assert [r.seconds for r in back] == [r.seconds for r in results]

    def test_batch_equals_one_at_a_time_and_order_follows_input(
        self, simulator, good_candidates, bad_candidates
    ) -> None:
        if not self.deterministic:
            pytest.skip("stochastic simulator: values differ between calls")
        items, _ = self._interleave(list(good_candidates), list(bad_candidates))
        batch = simulator.evaluate(items)
        single = [simulator.evaluate([c])[0] for c in items]
        assert_results_close(batch, single, rtol=self.rtol, atol=self.atol)
        reverse = simulator.evaluate(items[::-1])[::-1]
        assert_results_close(batch, reverse, rtol=self.rtol, atol=self.atol)
