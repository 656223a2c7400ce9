"""The acquisition conformance suite: every built-in passes it, and it catches broken ones."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import ACQUISITIONS, register_acquisition
from active_learning._acquisition._functions import ACQUISITION_OPTIONS
from active_learning.testing import AcquisitionConformance


class TestGreedyConforms(AcquisitionConformance):
    kind = "greedy"


class TestUCBConforms(AcquisitionConformance):
    kind = "ucb"


class TestEIConforms(AcquisitionConformance):
    kind = "ei"


class TestPIConforms(AcquisitionConformance):
    kind = "pi"


class TestThompsonConforms(AcquisitionConformance):
    kind = "thompson"
    stochastic = True


# --- broken acquisitions, each breaking one clause of the contract ------------------------------
def _shape(pred, best=None):
    return np.asarray(pred.mean)[:-1]  # drops the last candidate


def _nostd(pred, best=None):
    std = np.ones_like(pred.mean) if pred.std is None else pred.std  # treats "none" as 1
    return pred.mean + std


def _falls(pred, best=None):
    return -np.asarray(pred.mean) ** 2  # rewards means near 0, not large ones


def _global(pred, best=None):
    mean = np.asarray(pred.mean, float)
    return mean - mean.mean()  # each score depends on every other candidate


def _failures(kind: str) -> list[str]:
    """Names of the suite's tests that fail for the registered ``kind``."""
    suite = type("Suite", (AcquisitionConformance,), {"kind": kind})()
    failed = []
    for name in [n for n in dir(AcquisitionConformance) if n.startswith("test_")]:
        try:
            getattr(suite, name)()
        except (AssertionError, ValueError, IndexError, pytest.fail.Exception):
            failed.append(name)
    return failed


@pytest.mark.parametrize(("broken", "caught"), [
    (_shape, "test_one_finite_score_per_candidate"),
    (_nostd, "test_no_std_scores_as_zero_std"),
    (_falls, "test_score_never_falls_when_the_mean_rises"),
    (_global, "test_a_candidates_score_ignores_the_others"),
])
def test_suite_catches_broken_acquisitions(broken, caught):
    assert _failures("ucb") == []
    register_acquisition("test-broken")(broken)
    try:
        assert caught in _failures("test-broken")
    finally:  # keep the registry (the config's choices) as it was
        del ACQUISITIONS["test-broken"], ACQUISITION_OPTIONS["test-broken"]
