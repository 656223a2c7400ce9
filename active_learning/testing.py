"""A conformance suite for acquisition functions, in the manner of ``optuna.testing``.

A new acquisition's test module subclasses :class:`AcquisitionConformance` and names the
registered kind::

    from active_learning import register_acquisition
    from active_learning.testing import AcquisitionConformance

    @register_acquisition("lcb-ish", options=("beta",))
    def my_acq(pred, best=None, beta=1.0): ...

    class TestMyAcquisition(AcquisitionConformance):
        kind = "lcb-ish"

The contract it checks, against hand-made posteriors (no model anywhere):

- scores are a finite float array of shape ``(n,)``, one per candidate, in order;
- a prediction without ``std`` (a single model) scores exactly as ``std = 0``;
- raising one candidate's mean never lowers its score (maximisation form);
- a candidate's score does not depend on the other candidates (unless ``stochastic``: a
  Thompson draw consumes the random stream in order);
- the options it declares (``ACQUISITION_OPTIONS``) are accepted by
  :func:`~active_learning.acquisition_scores`, and options it does not declare are dropped;
- a vector target (mean of shape (n, k)) and a negative std are clear ``ValueError``\\ s.

Class attributes: ``kind`` (required), ``stochastic`` (the function draws random numbers;
then comparisons use the same ``rng`` seed and the independence check is skipped).
``AcquisitionConformance`` does not start with ``Test``, so pytest does not collect it alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from ._acquisition._functions import ACQUISITION_OPTIONS, ACQUISITIONS, acquisition_scores

__all__ = ["AcquisitionConformance"]

#: an option value for each option name a built-in acquisition may declare
_OPTION_VALUES: dict[str, Any] = {"beta": 2.0, "xi": 0.01, "rng": 0}


def _prediction(mean: Any, std: Any = None) -> Any:
    from surrogates import Prediction

    return Prediction(np.asarray(mean, dtype=float), None if std is None else
                      np.asarray(std, dtype=float))


class AcquisitionConformance:
    """Base class of an acquisition function's conformance tests; see the module docstring."""

    #: the registered name of the acquisition under test
    kind: ClassVar[str] = ""
    #: the function draws random numbers (compare with equal seeds; skip independence)
    stochastic: ClassVar[bool] = False

    # --- helpers ---------------------------------------------------------------------------
    def score(self, pred: Any, best: float | None = 0.0, **options: Any) -> np.ndarray:
        """Scores through the public entry point, with every declared option set."""
        opts = {k: _OPTION_VALUES.get(k) for k in ACQUISITION_OPTIONS[self.kind]}
        opts.update(options)
        return acquisition_scores(self.kind, pred, best, **opts)

    @staticmethod
    def posterior(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        return rng.normal(size=n), rng.uniform(0.05, 1.5, size=n)

    # --- the contract ----------------------------------------------------------------------
    def test_is_registered_with_declared_options(self) -> None:
        assert self.kind in ACQUISITIONS, f"{self.kind!r} is not a registered acquisition"
        declared = ACQUISITION_OPTIONS[self.kind]
        assert isinstance(declared, tuple) and all(isinstance(o, str) for o in declared)

    def test_one_finite_score_per_candidate(self) -> None:
        mean, std = self.posterior()
        scores = self.score(_prediction(mean, std))
        assert isinstance(scores, np.ndarray) and scores.shape == mean.shape, \
            f"scores have shape {np.shape(scores)}, expected {mean.shape}"
        assert np.issubdtype(scores.dtype, np.floating), f"scores are {scores.dtype}"
        assert np.all(np.isfinite(scores)), "non-finite scores"

    def test_no_std_scores_as_zero_std(self) -> None:
        mean, _ = self.posterior()
        a = self.score(_prediction(mean))
        b = self.score(_prediction(mean, np.zeros_like(mean)))
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12,
                                   err_msg="a prediction without std must score as std = 0")

    def test_score_never_falls_when_the_mean_rises(self) -> None:
        mean, std = self.posterior()
        base = self.score(_prediction(mean, std))
        for i in range(len(mean)):
            raised = mean.copy()
            raised[i] += 0.5
            after = self.score(_prediction(raised, std))
            assert after[i] >= base[i] - 1e-12, \
                f"candidate {i}: score fell from {base[i]:.6g} to {after[i]:.6g} as μ rose"

    def test_a_candidates_score_ignores_the_others(self) -> None:
        if self.stochastic:
            pytest.skip("a random draw consumes the stream in candidate order")
        mean, std = self.posterior()
        whole = self.score(_prediction(mean, std))
        part = self.score(_prediction(mean[::3], std[::3]))
        np.testing.assert_allclose(part, whole[::3], rtol=1e-12, atol=1e-12,
                                   err_msg="scores of a subset differ from the whole batch's")

    def test_undeclared_options_are_dropped(self) -> None:
        mean, std = self.posterior()
        pred = _prediction(mean, std)
        plain = self.score(pred)
        extra = self.score(pred, not_an_option=123.0)
        np.testing.assert_array_equal(plain, extra)

    def test_vector_target_and_negative_std_are_clear_errors(self) -> None:
        with pytest.raises(ValueError, match="scalar"):
            self.score(_prediction(np.zeros((3, 2))))
        with pytest.raises(ValueError, match="std"):
            self.score(_prediction([0.0, 1.0], [0.1, -0.1]))
