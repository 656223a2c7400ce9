"""Choosing a batch from acquisition scores, and the initial design.

``select_batch`` takes the ``k`` best-scoring candidates that are not excluded (pending, done,
or failed), optionally spread out so that a batch does not spend its simulations on near
copies of one candidate:

- ``"cluster"``: the best ``m = min(pool_size, 10·k)`` candidates are split into ``k`` clusters by
  k-means on ``features``; the best candidate of each cluster is taken.
- ``"penalty"`` (local penalisation): pick the best; lower every other score by
  ``s_range · exp(−‖x − x_pick‖² / (2ℓ²))`` (``s_range`` = spread of the top-m scores, ``ℓ`` =
  the median nearest-neighbour distance among them); repeat ``k`` times.

``initial_design`` picks the first batch before any model exists: uniformly at random, or
``"diverse"`` (the candidate nearest each k-means centroid).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["initial_design", "select_batch"]

#: candidates considered by the diversity rules, per pick
_SHORTLIST = 10
#: largest sample k-means sees in ``initial_design`` (a random subset of a bigger pool)
_DESIGN_SAMPLE = 20_000


def _exclusion_mask(n: int, exclude: Sequence[int] | np.ndarray | None) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    if exclude is None:
        return mask
    ex = np.asarray(exclude)
    if ex.dtype == bool:
        if ex.shape != (n,):
            raise ValueError(f"exclude mask has shape {ex.shape}, expected ({n},)")
        return ex.copy()
    ex = ex.reshape(-1)
    if ex.size and not np.issubdtype(ex.dtype, np.integer):
        raise ValueError(f"exclude must hold integer positions, got {ex.dtype}")
    bad = ex[(ex < 0) | (ex >= n)]
    if bad.size:
        raise ValueError(f"exclude holds position {int(bad[0])}, outside 0..{n - 1}")
    mask[ex] = True
    return mask


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return np.random.default_rng(rng if rng is not None else 0)


def _check_features(features: np.ndarray | None, n: int, what: str) -> np.ndarray:
    if features is None:
        raise ValueError(f"{what} needs features: an (n, d) array, one row per candidate")
    X = np.asarray(features, dtype=float)
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"features must have shape ({n}, d), got {X.shape}")
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        raise ValueError(f"features of candidate {int(bad[0][0])} are not finite")
    return X


def _kmeans_labels(X: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():  # duplicate points: fewer distinct clusters is fine
        warnings.simplefilter("ignore")
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(X)
    return km.labels_, km.cluster_centers_


def select_batch(scores: np.ndarray | Sequence[float], k: int,
                 exclude: Sequence[int] | np.ndarray | None = None,
                 diversity: str | None = None, features: np.ndarray | None = None,
                 rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Positions of the batch, best first (int64, shape (≤ k,)).

    Args:
        scores: acquisition scores, shape (n,), higher is better; NaN counts as unusable.
        k: batch size (fewer are returned when fewer candidates remain).
        exclude: positions (or an (n,) boolean mask) never to pick: pending, done, failed.
        diversity: ``None``, ``"cluster"`` or ``"penalty"`` (need ``features``, shape (n, d)).
        rng: seed or generator for k-means (``None`` → seed 0, so a batch is reproducible).
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"scores must have shape (n,), got {s.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    if diversity not in (None, "cluster", "penalty"):
        raise ValueError(f"diversity must be None, 'cluster' or 'penalty', got {diversity!r}")
    usable = ~_exclusion_mask(len(s), exclude) & ~np.isnan(s)
    cand = np.flatnonzero(usable)
    # best first; ties broken by position so the choice is deterministic
    cand = cand[np.lexsort((cand, -s[cand]))]
    if k == 0 or cand.size == 0:
        return np.zeros(0, dtype=np.int64)
    if diversity is None or cand.size <= k:
        return cand[:k].astype(np.int64)
    X = _check_features(features, len(s), f"diversity {diversity!r}")
    short = cand[: max(k, _SHORTLIST * k)]
    if diversity == "cluster":
        labels, _ = _kmeans_labels(X[short], k, int(_rng(rng).integers(2**31)))
        picks = [short[labels == c][0] for c in np.unique(labels)]  # best of each cluster
        chosen = set(picks)
        rest = [i for i in short if i not in chosen]
        picks = sorted(picks, key=lambda i: (-s[i], i))[:k]
        picks += rest[: k - len(picks)]  # fewer distinct clusters: top up by score
        return np.asarray(picks, dtype=np.int64)
    return _penalised(s[short], X[short], short, k)


def _penalised(s: np.ndarray, X: np.ndarray, positions: np.ndarray, k: int) -> np.ndarray:
    """Greedy picks with an additive Gaussian penalty around each pick (see module doc)."""
    from scipy.spatial.distance import pdist, squareform

    dist = squareform(pdist(X))
    np.fill_diagonal(dist, np.inf)
    nearest = dist.min(axis=1)
    nearest = nearest[np.isfinite(nearest) & (nearest > 0)]
    length = float(np.median(nearest)) if nearest.size else 1.0  # the local length scale
    spread = float(s.max() - s.min()) or 1.0
    work = s.copy()
    picks: list[int] = []
    for _ in range(k):
        j = int(np.argmax(work))
        picks.append(j)
        d2 = np.sum((X - X[j]) ** 2, axis=1)
        work = work - spread * np.exp(-d2 / (2 * length**2))
        work[picks] = -np.inf
    return positions[picks].astype(np.int64)


def initial_design(n: int, k: int, method: str = "random", features: np.ndarray | None = None,
                   rng: np.random.Generator | int | None = None,
                   exclude: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """``k`` distinct positions out of ``n`` for the first round (int64, shape (≤ k,)).

    ``"random"``: uniform without replacement. ``"diverse"``: k-means (k clusters) on
    ``features`` ((n, d); a random sample of at most 20,000 rows for a big pool), then the
    candidate nearest each centroid. Same ``rng`` seed, same design.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    if method not in ("random", "diverse"):
        raise ValueError(f"initial design method must be 'random' or 'diverse', got {method!r}")
    gen = _rng(rng)
    free = np.flatnonzero(~_exclusion_mask(n, exclude))
    k = min(int(k), free.size)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if method == "random" or k == free.size:
        return np.sort(gen.choice(free, size=k, replace=False)).astype(np.int64)
    X = _check_features(features, n, "the 'diverse' initial design")
    sample = free if free.size <= _DESIGN_SAMPLE else np.sort(
        gen.choice(free, size=_DESIGN_SAMPLE, replace=False))
    labels, centres = _kmeans_labels(X[sample], k, int(gen.integers(2**31)))
    picks: list[int] = []
    for c in range(centres.shape[0]):
        members = sample[labels == c]
        if members.size:
            d2 = np.sum((X[members] - centres[c]) ** 2, axis=1)
            picks.append(int(members[np.argmin(d2)]))
    picks = list(dict.fromkeys(picks))
    if len(picks) < k:  # empty clusters (duplicate points): fill at random
        rest = np.setdiff1d(free, picks)
        picks += gen.choice(rest, size=k - len(picks), replace=False).tolist()
    return np.sort(np.asarray(picks, dtype=np.int64))
