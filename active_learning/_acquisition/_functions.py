"""Acquisition functions: scores from a ``surrogates.Prediction`` only — never a model.

Convention: every function scores for **maximisation** (higher score = better pick). A
minimisation campaign or a target window is first turned into maximisation form by
:func:`to_maximization`. With posterior mean μ, standard deviation σ, incumbent ``best`` (the
best value observed so far, in maximisation form) and improvement ``u = μ − best − ξ``:

=========  ==========================================================  ===========================
name       score                                                       σ = 0 limit
=========  ==========================================================  ===========================
greedy     μ                                                           μ
ucb        μ + √β · σ   (BoTorch's convention: β multiplies the variance)  μ
ei         u · Φ(u/σ) + σ · φ(u/σ)   (expected improvement)            max(u, 0)
pi         Φ(u/σ)                    (probability of improvement)      1 if u > 0 else 0
thompson   μ + σ · z,  z ~ N(0, 1) per candidate (a marginal draw)     μ
=========  ==========================================================  ===========================

Φ and φ are the standard normal CDF and density. A prediction without ``std`` (a single model)
is treated as σ = 0. Shapes: ``pred.mean`` and ``pred.std`` are ``(n,)``; scores are ``(n,)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import ndtr  # Φ, the standard normal CDF

if TYPE_CHECKING:  # acquisition sees only a Prediction; importing it for types only
    from surrogates import Prediction

__all__ = [
    "ACQUISITIONS",
    "ACQUISITION_OPTIONS",
    "acquisition_scores",
    "ei",
    "greedy",
    "pi",
    "register_acquisition",
    "thompson",
    "to_maximization",
    "to_maximization_values",
    "ucb",
]

AcquisitionFn = Callable[..., np.ndarray]

#: registry of acquisition functions (config ``[acquisition] kind``); duplicates are rejected
ACQUISITIONS: dict[str, AcquisitionFn] = {}
#: the options each registered function declares it takes (``beta``, ``xi``, ``rng``, …)
ACQUISITION_OPTIONS: dict[str, tuple[str, ...]] = {}


def register_acquisition(name: str, options: Sequence[str] = ()
                         ) -> Callable[[AcquisitionFn], AcquisitionFn]:
    """Decorator adding ``fn(pred, best=None, **options) -> scores`` under ``name``.

    ``options`` names the keyword options ``fn`` takes from a config (``("beta",)`` for UCB);
    :func:`acquisition_scores` passes it those and no others.
    """

    def deco(fn: AcquisitionFn) -> AcquisitionFn:
        if name in ACQUISITIONS:
            raise ValueError(f"acquisition {name!r} is already registered")
        ACQUISITIONS[name] = fn
        ACQUISITION_OPTIONS[name] = tuple(options)
        return fn

    return deco


def _mean_std(pred: Prediction) -> tuple[np.ndarray, np.ndarray]:
    """(μ, σ) as float arrays of shape (n,); σ = 0 when the prediction has no spread."""
    mean = np.asarray(pred.mean, dtype=float)
    if mean.ndim != 1:
        raise ValueError(f"acquisition needs a scalar target: mean has shape {mean.shape}, "
                         "expected (n,)")
    std = np.zeros_like(mean) if pred.std is None else np.asarray(pred.std, dtype=float)
    if std.shape != mean.shape:
        raise ValueError(f"std shape {std.shape} differs from mean shape {mean.shape}")
    bad = np.flatnonzero(std < 0)
    if bad.size:
        raise ValueError(f"std must be >= 0; candidate {int(bad[0])} has std {std[bad[0]]}")
    return mean, std


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    """φ(z), the standard normal density."""
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def _need_best(name: str, best: float | None) -> float:
    if best is None:
        raise ValueError(f"acquisition {name!r} needs best (the best value observed so far)")
    best = float(best)
    if not np.isfinite(best):
        raise ValueError(f"acquisition {name!r}: best must be finite, got {best}")
    return best


@register_acquisition("greedy")
def greedy(pred: Prediction, best: float | None = None) -> np.ndarray:
    """Pure exploitation: the posterior mean μ. Shape (n,)."""
    return _mean_std(pred)[0].copy()


@register_acquisition("ucb", options=("beta",))
def ucb(pred: Prediction, best: float | None = None, beta: float = 2.0) -> np.ndarray:
    """Upper confidence bound μ + √β·σ (β ≥ 0 weighs the variance, as in BoTorch)."""
    if not beta >= 0:
        raise ValueError(f"ucb: beta must be >= 0, got {beta}")
    mean, std = _mean_std(pred)
    return mean + np.sqrt(beta) * std


@register_acquisition("ei", options=("xi",))
def ei(pred: Prediction, best: float | None = None, xi: float = 0.0) -> np.ndarray:
    """Expected improvement E[max(f − best − ξ, 0)] under N(μ, σ²); max(μ − best − ξ, 0) at σ=0."""
    best = _need_best("ei", best)
    mean, std = _mean_std(pred)
    u = mean - best - xi
    out = np.maximum(u, 0.0)
    pos = std > 0
    z = u[pos] / std[pos]
    out[pos] = u[pos] * ndtr(z) + std[pos] * _normal_pdf(z)
    return out


@register_acquisition("pi", options=("xi",))
def pi(pred: Prediction, best: float | None = None, xi: float = 0.0) -> np.ndarray:
    """Probability of improvement P[f > best + ξ] = Φ((μ − best − ξ)/σ); a step at σ = 0."""
    best = _need_best("pi", best)
    mean, std = _mean_std(pred)
    u = mean - best - xi
    out = (u > 0).astype(float)
    pos = std > 0
    out[pos] = ndtr(u[pos] / std[pos])
    return out


@register_acquisition("thompson", options=("rng",))
def thompson(pred: Prediction, best: float | None = None,
             rng: np.random.Generator | int | None = None) -> np.ndarray:
    """One draw μ + σ·z per candidate (z ~ N(0, 1) from ``rng``: same seed, same draw)."""
    mean, std = _mean_std(pred)
    gen = np.random.default_rng(rng)
    return mean + std * gen.standard_normal(mean.shape)


def acquisition_scores(kind: str, pred: Prediction, best: float | None = None,
                       **options: Any) -> np.ndarray:
    """Score with ``ACQUISITIONS[kind]``, passing only the ``options`` it declares.

    ``options`` may hold everything a config gives (``beta``, ``xi``, ``rng``); the ones the
    function was not registered with are dropped, so one call site serves every kind.
    """
    if kind not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {kind!r}; choose one of {sorted(ACQUISITIONS)}")
    declared = ACQUISITION_OPTIONS[kind]
    return ACQUISITIONS[kind](pred, best, **{k: v for k, v in options.items() if k in declared})


def _window_distance(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Distance from each value to the interval [lo, hi] (0 inside)."""
    return np.maximum(np.maximum(lo - values, values - hi), 0.0)


def _check_goal(direction: str | None, target: Sequence[float] | None) -> tuple[float, float] | None:
    if target is not None:
        if len(target) != 2 or not float(target[0]) < float(target[1]):
            raise ValueError(f"target must be a window [lo, hi] with lo < hi, got {list(target)}")
        return float(target[0]), float(target[1])
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    return None


def to_maximization_values(values: np.ndarray | Sequence[float], direction: str | None,
                           target: Sequence[float] | None = None) -> np.ndarray:
    """Observed values in maximisation form: ``y`` (maximize), ``−y`` (minimize), or
    ``−dist(y, [lo, hi])`` for a target window (0 inside the window, negative outside)."""
    y = np.asarray(values, dtype=float)
    window = _check_goal(direction, target)
    if window is not None:
        return -_window_distance(y, *window)
    return y.copy() if direction == "maximize" else -y


def to_maximization(pred: Prediction, direction: str | None, target: Sequence[float] | None = None,
                    best: float | None = None) -> tuple[Prediction, float | None]:
    """Turn a prediction (and the incumbent) into the form every acquisition maximises.

    Args:
        pred: posterior in the objective's own units, mean/std shape (n,).
        direction: ``"maximize"`` or ``"minimize"`` (ignored when ``target`` is given).
        target: optional window ``[lo, hi]``; the score is then ``−dist(μ, window)``.
        best: the best observed value in the objective's units (for a window: the observed
            value closest to it), or ``None``.

    Returns:
        ``(prediction, best)`` in maximisation form. Minimisation negates μ and keeps σ.
        For a window the mean becomes ``−dist(μ, [lo, hi])`` and σ is kept as a first-order
        spread (the map has slope ±1 outside the window), so UCB/EI still explore.
    """
    from surrogates import Prediction  # a light import: surrogates is loaded by the loop anyway

    mean, std = _mean_std(pred)
    out_mean = to_maximization_values(mean, direction, target)
    out_best = None if best is None else float(to_maximization_values([best], direction, target)[0])
    return Prediction(out_mean, None if pred.std is None else std.copy()), out_best
