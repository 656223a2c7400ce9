"""A tiny, exactly known dose-response landscape for the Hill surrogate tests.

Three sites over the alphabet "ACD" (27 variants). Each (site, letter) adds a known effect to
ln K, ln n, rmin and ln(rmax − rmin) — an additive mutational-effect model — and the curves are
the Hill equation (``physics.hill``) with those parameters on a 9-dose grid in µM.
"""

from __future__ import annotations

import itertools

import numpy as np

from physics import hill

ALPHABET = "ACD"
SITES = 3
DOSES = np.logspace(-1, 3, 9)  # µM
VARIANTS = ["".join(p) for p in itertools.product(ALPHABET, repeat=SITES)]

# effects[site, letter] = (Δ ln K, Δ ln n, Δ rmin, Δ ln(rmax − rmin)), hand-picked
_EFFECTS = np.array([
    [[0.0, 0.0, 0.0, 0.0], [0.8, 0.10, 0.02, 0.1], [-0.7, -0.15, 0.04, -0.2]],
    [[0.0, 0.0, 0.0, 0.0], [0.5, 0.20, -0.02, 0.3], [-0.4, 0.05, 0.03, -0.1]],
    [[0.0, 0.0, 0.0, 0.0], [0.3, -0.10, 0.01, 0.2], [-0.6, 0.15, -0.01, 0.0]],
])
_BASE = (np.log(10.0), np.log(1.5), 0.1, np.log(1.0))  # K = 10 µM, n = 1.5, rmin 0.1, span 1


def true_params(variants: list[str], increasing: bool = True) -> dict[str, np.ndarray]:
    """The known Hill parameters of each variant (arrays of shape (n,))."""
    z = np.array([np.sum([_EFFECTS[i, ALPHABET.index(c)] for i, c in enumerate(v)], axis=0)
                  for v in variants]) + np.array(_BASE)
    span = np.exp(z[:, 3])
    rmin = z[:, 2] if increasing else z[:, 2] + 1.2
    return {"rmin": rmin, "rmax": rmin + span if increasing else rmin - span,
            "K": np.exp(z[:, 0]), "n": np.exp(z[:, 1])}


def curves(variants: list[str], doses: np.ndarray = DOSES, increasing: bool = True) -> np.ndarray:
    """Noise-free responses (n, n_doses) at ``doses`` µM."""
    p = true_params(variants, increasing)
    return hill(doses[None, :], p["rmin"][:, None], p["rmax"][:, None], p["K"][:, None],
                p["n"][:, None])
