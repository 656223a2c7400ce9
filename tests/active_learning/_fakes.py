"""Cheap, deterministic parts for campaign and worker tests (importable by spawned workers).

- ``scout-test-landscape`` simulator: a seeded synthetic landscape on design vectors,
  ``y(x) = exp(-|x - c|² / (2 · 0.15²)) + 0.3 · exp(-|x - c'|² / (2 · 0.3²))`` (one sharp peak
  of height ≈ 1 at ``c = (0.7, 0.3)`` and a broad one at ``c' = (0.2, 0.8)``), optional sleep
  per candidate, optional deterministic failures (candidates whose first coordinate's
  digits hash below ``fail_fraction``), and an optional per-process log of what was simulated.
- ``scout-test-rff`` surrogate: ridge regression on random Fourier features drawn from
  ``random_state`` (members of an ensemble differ, so the spread is real), fits in
  milliseconds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physics import CandidateError, Simulator, register_simulator
from physics._base import SIMULATORS
from surrogates import SURROGATES, Prediction, Surrogate, register_surrogate
from tests.active_learning._toml import write_campaign

PEAK = np.array([0.7, 0.3])


def landscape(X: np.ndarray) -> np.ndarray:
    """The synthetic objective, shape (n,) for X of shape (n, 2)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    d1 = ((X - PEAK) ** 2).sum(1)
    d2 = ((X - np.array([0.2, 0.8])) ** 2).sum(1)
    return np.exp(-d1 / (2 * 0.15**2)) + 0.3 * np.exp(-d2 / (2 * 0.3**2))


def fails(x: np.ndarray, fraction: float) -> bool:
    """Deterministic ~``fraction`` of candidates fail (by the digits of the first coordinate)."""
    return (round(float(x[0]) * 1e6) * 2654435761 % 1000) / 1000.0 < fraction


class LandscapeSimulator(Simulator):
    targets = ("y",)

    def __init__(self, sleep: float = 0.0, fail_fraction: float = 0.0,
                 log_dir: str | None = None) -> None:
        self.sleep = sleep
        self.fail_fraction = fail_fraction
        self.log_dir = log_dir

    def evaluate_one(self, candidate: Any) -> dict[str, Any]:
        x = np.asarray(candidate, dtype=float).reshape(-1)
        if self.log_dir:
            with open(Path(self.log_dir) / f"sim_{os.getpid()}.log", "a") as fh:
                fh.write(f"{x[0]:.9f} {x[1]:.9f}\n")
        if self.sleep:
            time.sleep(self.sleep)
        if fails(x, self.fail_fraction):
            raise CandidateError(f"synthetic failure at x0={x[0]:.4f}")
        return {"y": float(landscape(x)[0]), "x": x.tolist()}


class RFFRidge(Surrogate):
    input_kind = "vector"

    def __init__(self, n_features: int = 64, lengthscale: float = 0.2, alpha: float = 1e-3,
                 random_state: int = 0) -> None:
        self.n_features = n_features
        self.lengthscale = lengthscale
        self.alpha = alpha
        self.random_state = random_state

    def _phi(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.cos(X @ self.W_ + self.b_) * np.sqrt(2.0 / self.W_.shape[1])

    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> RFFRidge:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        rng = np.random.default_rng(self.random_state)
        self.W_ = rng.normal(0, 1 / self.lengthscale, (X.shape[1], self.n_features))
        self.b_ = rng.uniform(0, 2 * np.pi, self.n_features)
        boot = rng.integers(0, len(X), len(X))  # bootstrap: members disagree away from data
        P = self._phi(X[boot])
        self.mu_ = float(y[boot].mean())
        A = P.T @ P + self.alpha * np.eye(self.n_features)
        self.w_ = np.linalg.solve(A, P.T @ (y[boot] - self.mu_))
        return self

    def predict(self, X: Any) -> Prediction:
        return Prediction(self._phi(X) @ self.w_ + self.mu_)

    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return ({"params": self.get_params(), "mu": self.mu_},
                {k: torch.as_tensor(getattr(self, k + "_")) for k in ("W", "b", "w")})

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> RFFRidge:
        obj = cls(**meta["params"])
        for k in ("W", "b", "w"):
            setattr(obj, k + "_", tensors[k].numpy())
        obj.mu_ = meta["mu"]
        return obj


if "scout-test-landscape" not in SIMULATORS:
    register_simulator("scout-test-landscape")(LandscapeSimulator)
if "scout-test-rff" not in SURROGATES:
    register_surrogate("scout-test-rff")(RFFRidge)


def write_pool(folder: Path, n: int = 300, seed: int = 0) -> Path:
    """A designs pool CSV of ``n`` seeded points in the unit square (columns id, x0, x1)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 2))
    path = folder / "pool.csv"
    lines = ["id,x0,x1"] + [f"d{i:04d},{a:.9f},{b:.9f}" for i, (a, b) in enumerate(X)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_config(folder: Path, *, budget: int = 40, batch_size: int = 8, initial: int = 8,
                 seed: int = 0, workers: int = 1, acquisition: str = "ucb",
                 storage: str | None = None, sleep: float = 0.0, fail_fraction: float = 0.0,
                 log_dir: str | None = None, n: int = 300,
                 more: dict[str, dict[str, Any]] | None = None) -> Path:
    """A campaign TOML on the synthetic landscape; ``more`` adds or replaces keys per
    section (``{"campaign": {"rounds": 3}}``). Returns its path."""
    write_pool(folder, n=n)
    return write_campaign(folder, {
        "campaign": {"name": "synthetic", "objective": "y", "direction": "maximize",
                     "budget": budget, "batch_size": batch_size, "initial": initial,
                     "seed": seed, "workers": workers, "storage": storage},
        "pool": {"kind": "designs", "path": "pool.csv", "id_column": "id"},
        "simulator": {"kind": "scout-test-landscape", "sleep": sleep,
                      "fail_fraction": fail_fraction, "log_dir": log_dir},
        "surrogate": {"kind": "scout-test-rff", "ensemble": 4},
        "acquisition": {"kind": acquisition},
    }, more)


def worker_entry(config_path: str, max_trials: int | None = None,
                 idle_timeout: float = 10.0) -> None:
    """A worker process for tests: importing this module registers the fake parts."""
    from active_learning._execution._worker import run_worker

    run_worker(config_path, max_trials=max_trials, idle_timeout=idle_timeout)
