"""The simulator contract: batches, failures with reasons, the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from physics import (
    CandidateError,
    SimulationError,
    SimulationResult,
    Simulator,
    make_simulator,
    register_simulator,
)


class _Square(Simulator):
    targets = ("y",)

    def evaluate_one(self, candidate):
        if candidate == "bad":
            raise CandidateError("bad candidate")
        if candidate == "boom":
            raise RuntimeError("exploded")
        if candidate == "nan":
            return {"y": math.nan}
        return {"y": float(candidate) ** 2}


def test_batch_in_batch_out_with_failures_in_place():
    res = _Square().evaluate([2, "bad", 3, "boom", "nan"])
    assert [r.ok for r in res] == [True, False, True, False, False]
    assert res[0].value("y") == 4.0 and res[2].value("y") == 9.0
    assert res[1].error == "bad candidate"
    assert "RuntimeError: exploded" in res[3].error
    assert "non-finite" in res[4].error and "y" in res[4].error
    assert math.isnan(res[1].value("y"))


def test_empty_and_non_sequence_batches_are_clear_errors():
    with pytest.raises(ValueError, match="empty batch"):
        _Square().evaluate([])
    with pytest.raises(TypeError, match="sequence"):
        _Square().evaluate("abc")


def test_result_json_round_trip():
    r = SimulationResult.success({"e": 1.5, "f": np.ones((2, 3))}, seconds=0.25)
    back = SimulationResult.from_json(r.to_json())
    assert back.ok and back.seconds == 0.25 and back.value("e") == 1.5
    np.testing.assert_array_equal(back.values["f"], np.ones((2, 3)))


def test_registry_rejects_duplicates_and_unknown_kinds():
    register_simulator("_test_square")(_Square)
    assert make_simulator("_test_square").evaluate([3])[0].value("y") == 9.0
    with pytest.raises(ValueError, match="already registered"):
        register_simulator("_test_square")(_Square)
    with pytest.raises(ValueError, match="unknown simulator kind 'nope'"):
        make_simulator("nope")
    with pytest.raises(ValueError, match="_test_square"):
        make_simulator("_test_square", bogus=1)
    assert SimulationError is not None
