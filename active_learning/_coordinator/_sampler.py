"""``PoolSampler``: surrogate-guided choice of a pool index for users of plain ``study.optimize``.

The objective asks for ``trial.suggest_int("index", 0, n - 1)`` and simulates that candidate.
For the first ``n_startup_trials`` the sampler picks a uniformly random index not yet tried;
afterwards it fits (a fresh clone of) the surrogate on every completed trial, predicts the
untried candidates in chunks, and returns the one with the highest acquisition score (in
maximisation form, so the study's direction is respected). Indices already tried (complete,
failed, running or waiting) are never suggested again while untried ones remain. Every other
parameter is sampled by an ordinary ``RandomSampler``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState
from sklearn.base import clone

from surrogates import Prediction, Surrogate

from .._acquisition._functions import acquisition_scores, to_maximization, to_maximization_values

__all__ = ["PoolSampler"]


def _getter(candidates: Any) -> Callable[[np.ndarray], Any]:
    if callable(candidates):
        return candidates
    if isinstance(candidates, np.ndarray):
        return lambda idx: candidates[idx]
    if isinstance(candidates, Sequence):
        return lambda idx: [candidates[int(i)] for i in idx]
    raise ValueError(f"candidates must be a sequence, an array or a callable, "
                     f"got {type(candidates).__name__}")


class PoolSampler(BaseSampler):
    """Pick the pool index to simulate next with a surrogate and an acquisition function.

    Args:
        candidates: the pool in the surrogate's input form: a sequence (SMILES, ``ase.Atoms``,
            sequences), an ``(n, d)`` array, or a callable ``indices -> inputs``.
        surrogate: an unfitted surrogate (an ``Ensemble`` gives UCB/EI a real spread); it is
            cloned and refitted whenever new completed trials exist.
        pool_size: n, required when ``candidates`` is a callable.
        param: the name of the integer parameter holding the index.
        n_startup_trials: random picks before the surrogate is used.
        acquisition: a name from ``ACQUISITIONS`` (``"ucb"``, ``"ei"``, ``"greedy"``, …).
        acquisition_options: extra options (``beta``, ``xi``).
        chunk_size: candidates predicted per call.
        seed: seeds the random picks and the fallback sampler.
    """

    def __init__(self, candidates: Any, surrogate: Surrogate, *, pool_size: int | None = None,
                 param: str = "index", n_startup_trials: int = 10, acquisition: str = "ucb",
                 acquisition_options: dict[str, Any] | None = None, chunk_size: int = 4096,
                 seed: int | None = None) -> None:
        if pool_size is None:
            if callable(candidates):
                raise ValueError("pool_size is required when candidates is a callable")
            pool_size = len(candidates)
        if int(pool_size) < 1:
            raise ValueError(f"the pool is empty (pool_size={pool_size})")
        self._get = _getter(candidates)
        self._n = int(pool_size)
        self.surrogate = surrogate
        self.param = param
        self.n_startup_trials = int(n_startup_trials)
        self.acquisition = acquisition
        self.acquisition_options = dict(acquisition_options or {})
        self.chunk_size = int(chunk_size)
        self._rng = np.random.default_rng(seed)
        self._fallback = RandomSampler(seed=seed)
        self._model: Surrogate | None = None
        self._fitted_on: tuple[int, ...] = ()

    # --- BaseSampler ---------------------------------------------------------------------
    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        if param_name != self.param:
            return self._fallback.sample_independent(study, trial, param_name, param_distribution)
        if not isinstance(param_distribution, IntDistribution) or param_distribution.step != 1 \
                or param_distribution.low != 0 or param_distribution.high != self._n - 1:
            raise ValueError(f"parameter {self.param!r} must be suggest_int(0, {self._n - 1}) "
                             f"for this pool, got {param_distribution}")
        trials = study.get_trials(deepcopy=False)
        tried = {int(t.params[self.param]) for t in trials
                 if t.number != trial.number and self.param in t.params}
        untried = np.setdiff1d(np.arange(self._n), np.fromiter(tried, int, len(tried)))
        if untried.size == 0:  # the whole pool is done: repeat the cheapest choice
            return int(self._rng.integers(self._n))
        done = [t for t in trials if t.state == TrialState.COMPLETE and self.param in t.params
                and t.value is not None]
        if len(done) < self.n_startup_trials:
            return int(self._rng.choice(untried))
        scores = self._scores(study, done, untried)
        return int(untried[int(np.argmax(scores))])

    # --- internals ----------------------------------------------------------------------
    def _scores(self, study: Study, done: list[FrozenTrial], untried: np.ndarray) -> np.ndarray:
        """Acquisition scores, shape ``(len(untried),)``, from a surrogate fitted on ``done``."""
        done = sorted(done, key=lambda t: int(t.params[self.param]))
        idx = np.array([int(t.params[self.param]) for t in done])
        key = tuple(int(t.number) for t in done)
        direction = "maximize" if study.direction == StudyDirection.MAXIMIZE else "minimize"
        y = np.array([float(t.value) for t in done])
        if key != self._fitted_on:
            self._model = clone(self.surrogate).fit(self._get(idx), y)
            self._fitted_on = key
        assert self._model is not None
        parts = [self._model.predict(self._get(untried[s:s + self.chunk_size]))
                 for s in range(0, untried.size, self.chunk_size)]
        pred, _ = to_maximization(Prediction.concatenate(parts), direction)
        best = float(np.max(to_maximization_values(y, direction)))  # incumbent, maximisation form
        return acquisition_scores(self.acquisition, pred, best, rng=self._rng,
                                  **self.acquisition_options)

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._fallback.reseed_rng()

    def __repr__(self) -> str:
        return (f"PoolSampler(pool_size={self._n}, surrogate={type(self.surrogate).__name__}, "
                f"acquisition={self.acquisition!r})")

