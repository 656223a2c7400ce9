"""Named scalar objectives of a dose-response curve, from Hill parameters or from a sampled curve.

For R(D) = rmin + (rmax − rmin)·Dⁿ/(Kⁿ + Dⁿ) (D in µM):

==================  =========================================================  ==========
objective           definition                                                 unit
==================  =========================================================  ==========
``ec50``            dose of the half-way response, = K for a Hill curve         µM
``log10_ec50``      log10(ec50)                                                 log10 µM
``dynamic_range``   rmax − rmin (as :class:`physics.AllostericSensor` reports)  response
``fold_induction``  rmax / rmin (saturated over basal response)                 ratio
``leakiness``       rmin = R(0)                                                 response
``saturation``      rmax = R(∞)                                                 response
``hill_n``          n, the cooperativity (effective slope for sampled curves)   —
``response@<D>``    R(D), e.g. ``response@10`` is the response at 10 µM         response
==================  =========================================================  ==========

Curve models without Hill parameters (the baselines) get ``rmin``/``rmax`` from the ends of the
sampled curve, ``ec50`` by log-dose interpolation of the half-way crossing and ``hill_n`` from
the 10 %/90 % crossings, n_eff = log10(81)/log10(EC90/EC10), exact for a Hill curve.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OBJECTIVES", "objective_from_params", "params_from_curves", "parse_objective"]

OBJECTIVES = ("ec50", "log10_ec50", "dynamic_range", "fold_induction", "leakiness", "saturation",
              "hill_n",
              "response@<dose µM>")


def parse_objective(name: str) -> tuple[str, float | None]:
    """``"response@10"`` → ``("response", 10.0)``; ``"ec50"`` → ``("ec50", None)``."""
    if not isinstance(name, str):
        raise ValueError(f"objective must be a string, one of {OBJECTIVES}; got {name!r}")
    if name.startswith("response@"):
        text = name.split("@", 1)[1]
        try:
            dose = float(text)
        except ValueError:
            raise ValueError(f"objective {name!r}: {text!r} is not a dose in µM") from None
        if not np.isfinite(dose) or dose < 0:
            raise ValueError(f"objective {name!r}: the dose must be a finite number ≥ 0 (µM)")
        return "response", dose
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose one of {OBJECTIVES}")
    return name, None


def objective_from_params(params: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The objective ``name`` for each variant from Hill parameters (arrays of shape (n,))."""
    from physics import hill  # physics is imported lazily so that surrogates import fast

    kind, dose = parse_objective(name)
    rmin, rmax, K, n = (np.asarray(params[k], dtype=float) for k in ("rmin", "rmax", "K", "n"))
    if kind == "response":
        return np.asarray(hill(np.full_like(K, dose), rmin, rmax, K, n), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = {
            "ec50": K,
            "log10_ec50": np.log10(K),
            "dynamic_range": rmax - rmin,
            "fold_induction": rmax / rmin,
            "leakiness": rmin,
            "saturation": rmax,
            "hill_n": n,
        }
    return table[kind]


def _crossing(frac: np.ndarray, logd: np.ndarray, level: float) -> np.ndarray:
    """log-dose where each row of ``frac`` (n, m; 0 at the first dose, 1 at the last) first
    reaches ``level``, by linear interpolation on the running maximum (monotone by construction)."""
    out = np.empty(frac.shape[0])
    for i, f in enumerate(np.maximum.accumulate(frac, axis=1)):
        out[i] = np.interp(level, f, logd)
    return out


def params_from_curves(curves: np.ndarray, doses: np.ndarray) -> dict[str, np.ndarray]:
    """Hill-like parameters of sampled curves (n, m) on ``doses`` (m,) µM, by interpolation.

    A curve that never reaches a level gets the nearest end of the grid (censored), and a flat
    curve gets ``ec50`` at the grid's geometric middle and ``hill_n`` NaN.
    """
    curves = np.asarray(curves, dtype=float)
    doses = np.asarray(doses, dtype=float)
    order = np.argsort(doses)
    d, c = doses[order], curves[:, order]
    r0, r1 = c[:, 0], c[:, -1]
    pos = d > 0
    logd, cp = np.log10(d[pos]), c[:, pos]
    span = r1 - r0
    flat = np.abs(span) <= 1e-12 * np.maximum(np.abs(r0), 1.0)
    frac = (cp - r0[:, None]) / np.where(flat, 1.0, span)[:, None]
    log50 = np.where(flat, logd.mean(), _crossing(frac, logd, 0.5))
    log10_, log90 = _crossing(frac, logd, 0.1), _crossing(frac, logd, 0.9)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(flat | (log90 <= log10_), np.nan, np.log10(81.0) / (log90 - log10_))
    return {"rmin": r0, "rmax": r1, "K": 10.0**log50, "n": n_eff}
