"""Validation of dose-response training data, done once where it enters a surrogate.

Shapes: ``doses`` (n_doses,) in µM; ``responses`` (n, n_doses) with NaN = not measured;
``sigma`` (the measurement standard deviation) broadcastable to ``responses``. A Hill curve has
four parameters (rmin, rmax, K, n), so every row needs at least four measured doses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["N_HILL_PARAMS", "CurveData", "check_curves", "check_doses"]

#: parameters of one Hill curve: rmin, rmax, K, n
N_HILL_PARAMS = 4
#: a dose grid spanning more decades than this is almost surely in mixed units
MAX_DECADES = 12.0


@dataclass(frozen=True)
class CurveData:
    """Validated curves: ``responses`` and ``weights`` (n, n_doses), ``mask`` True where measured.

    ``weights`` are ``1/σ²`` where σ was given, 1 otherwise, and 0 where not measured;
    ``responses`` has its NaNs replaced by 0 (they carry zero weight).
    """

    doses: np.ndarray
    responses: np.ndarray
    mask: np.ndarray
    weights: np.ndarray


def check_doses(doses: Any, name: str = "doses",
                max_decades: float | None = MAX_DECADES) -> np.ndarray:
    """Validate a dose grid in µM → float64 (n_doses,); errors name the offending index.

    ``max_decades`` guards training data against mixed units; ``None`` (for prediction, where
    doses far outside the grid are legitimate questions) skips that check.
    """
    d = np.asarray(doses, dtype=float)
    if d.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array in µM, got shape {d.shape}")
    bad = np.flatnonzero(~np.isfinite(d))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {d[bad[0]]}; doses must be finite numbers in µM")
    neg = np.flatnonzero(d < 0)
    if neg.size:
        raise ValueError(f"{name}[{neg[0]}] is negative ({d[neg[0]]}); doses are concentrations in µM")
    pos = d[d > 0]
    if max_decades is not None and pos.size >= 2:
        decades = float(np.log10(pos.max() / pos.min()))
        if decades > max_decades:
            raise ValueError(
                f"{name} span {decades:.1f} decades ({pos.min():g} to {pos.max():g}); this looks "
                f"like mixed units — give every dose in µM"
            )
    return d


def check_curves(responses: Any, doses: Any, n_rows: int, sigma: Any = None) -> CurveData:
    """Validate curves for ``n_rows`` variants; every error names the row (and dose) at fault."""
    d = check_doses(doses)
    if d.size < N_HILL_PARAMS:
        raise ValueError(
            f"{d.size} doses are fewer than the {N_HILL_PARAMS} Hill parameters (rmin, rmax, K, n)"
        )
    y = np.asarray(responses, dtype=float)
    if y.ndim == 1 and n_rows == 1:
        y = y[None, :]
    if y.shape != (n_rows, d.size):
        raise ValueError(f"responses must have shape (n, n_doses) = ({n_rows}, {d.size}), "
                         f"got {y.shape}")
    inf = np.argwhere(np.isinf(y))
    if inf.size:
        r, c = inf[0]
        raise ValueError(f"row {r}: response at dose index {c} is infinite")
    mask = np.isfinite(y)
    counts = mask.sum(axis=1)
    for row in np.flatnonzero(counts < N_HILL_PARAMS):
        if counts[row] == 0:
            raise ValueError(f"row {row}: every response is NaN (nothing measured)")
        raise ValueError(
            f"row {row}: only {counts[row]} measured doses, fewer than the {N_HILL_PARAMS} Hill "
            f"parameters (rmin, rmax, K, n)"
        )
    weights = mask.astype(float)
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)
        try:
            s = np.broadcast_to(s, y.shape)
        except ValueError:
            raise ValueError(f"sigma of shape {s.shape} does not broadcast to responses {y.shape}") from None
        bad = np.argwhere(mask & ~(np.isfinite(s) & (s > 0)))
        if bad.size:
            r, c = bad[0]
            raise ValueError(f"row {r}: sigma at dose index {c} is {s[r, c]}; it must be > 0")
        weights = np.where(mask, 1.0 / np.where(mask, s, 1.0) ** 2, 0.0)
    return CurveData(d, np.where(mask, y, 0.0), mask, weights)
