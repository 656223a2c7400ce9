"""The torch network of :class:`~surrogates.HillSurrogate`: variant → constrained Hill parameters.

Encoder. The encoded variant ``x`` (n, d) (site-major one-hot of a sequence, or a standardised
design vector) gives four unconstrained numbers per variant as an additive term plus a small
epistatic term::

    z = A x + a  +  MLP(x)                                   # [n, 4]

``A x`` is one additive effect per (site, letter) and parameter — the classic additive
mutational-effect model; the MLP (last layer zero-initialised) learns what is not additive
(pairwise and higher-order epistasis). For design vectors the same form is a linear model plus
an MLP.

Head. The four numbers become Hill parameters that respect the physics by construction::

    ln K   = clamp(z₀; ln K_lo, ln K_hi)                     # K inside [K_lo, K_hi] µM
    ln n   = clamp(z₁; ln n_lo, ln n_hi)                     # n inside [n_lo, n_hi]
    u_min  = z₂,   u_max = u_min ± exp(clamp(z₃; −12, 4))    # + increasing, − decreasing
                   u_max = u_min ± softplus_β(z₃)            # the same, positive responses
                   u_max = u_min + z₃                        # direction learned per variant
    rmin   = g⁻¹(c + s · u_min),   rmax = g⁻¹(c + s · u_max)

with the smooth clamp clamp(z; lo, hi) = lo + softplus_β(z − lo) − softplus_β(z − hi), β = 5,
which is the identity well inside the bounds. So mutational effects add in ln K, ln n, rmin and
ln(rmax − rmin) — the free-energy-like coordinates in which they are additive in practice — and
every predicted curve R(D) = rmin + (rmax − rmin)·Dⁿ/(Kⁿ + Dⁿ) is monotone, starts at
R(0) = rmin and saturates at R(∞) = rmax. ``g`` is the identity, or ``ln`` for positive responses
(``positive=True``: fold-changes, fluorescence; then rmin, rmax > 0, effects add in ln rmin and
ln(rmax/rmin) — for an MWC sensor ln leakiness is nearly linear in the operator energy). ``c``
and ``s`` are the centre and scale of g(training responses), so ``z`` lives on unit scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from physics import hill

from .._mlp._net import MLP

__all__ = ["HillNet", "ParamTargets"]

PARAMS = ("rmin", "rmax", "K", "n")


#: sharpness of the smooth clamp, and the bounds of ln((rmax − rmin)/s)
BETA = 5.0
LOG_SPAN = (-12.0, 4.0)


def soft_clamp(z: torch.Tensor, lo: torch.Tensor | float, hi: torch.Tensor | float) -> torch.Tensor:
    """Smooth, monotone map of the real line into (lo, hi); ≈ identity inside, away from the ends."""
    return lo + F.softplus(z - lo, beta=BETA) - F.softplus(z - hi, beta=BETA)


class HillNet(nn.Module):
    """Variant features ``(n, d_in)`` → Hill parameters, and curves on a dose grid.

    Args:
        d_in: width of the encoded variant.
        hidden: hidden widths of the epistatic MLP (empty: purely additive).
        grid: training doses (m,) µM; ``forward`` returns curves on it (for training loops).
        k_bounds, n_bounds: ``(lo, hi)`` of K (µM) and of the Hill coefficient.
        center, scale: centre and scale of the responses (response units).
        increasing: ``rmax ≥ rmin`` when True, ``rmax ≤ rmin`` when False, either (learned
            per variant; each curve still monotone) when None.
        positive: responses are positive; rmin and rmax are modelled in log space.
        init: starting ``(rmin, rmax, K, n)`` of the additive bias (the population curve).
    """

    def __init__(self, d_in: int, hidden: Sequence[int], grid: torch.Tensor,
                 k_bounds: tuple[float, float], n_bounds: tuple[float, float],
                 center: float, scale: float, increasing: bool | None = True,
                 init: tuple[float, float, float, float] | None = None,
                 positive: bool = False) -> None:
        super().__init__()
        self.increasing = None if increasing is None else bool(increasing)
        self.positive = bool(positive)
        self.hidden = [int(h) for h in hidden]
        self.additive = nn.Linear(d_in, 4)
        nn.init.zeros_(self.additive.weight)
        self.epistatic = MLP([d_in, *self.hidden, 4]) if self.hidden else None
        if self.epistatic is not None:
            nn.init.zeros_(self.epistatic.layers[-1].weight)
            nn.init.zeros_(self.epistatic.layers[-1].bias)
        bounds = [math.log(k_bounds[0]), math.log(k_bounds[1]),
                  math.log(n_bounds[0]), math.log(n_bounds[1])]
        self.register_buffer("bounds", torch.tensor(bounds, dtype=torch.float64))
        self.register_buffer("affine", torch.tensor([center, scale], dtype=torch.float64))
        self.register_buffer("grid", torch.as_tensor(grid, dtype=torch.float64).clone())
        if init is not None:
            self._init_bias(*init)

    def to_unit(self, r: np.ndarray) -> np.ndarray:
        """Responses → unit coordinates ``(g(r) − c)/s`` (NaN where ``g`` is undefined)."""
        c, s = self.affine.tolist()
        r = np.asarray(r, dtype=float)
        if self.positive:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(r > 0, np.log(np.where(r > 0, r, 1.0)), np.nan)
        return (r - c) / s

    def _init_bias(self, rmin: float, rmax: float, K: float, n: float) -> None:
        u0, u1 = (float(self.to_unit(max(r, 1e-9) if self.positive else r)) for r in (rmin, rmax))
        if self.increasing is None:
            span = u1 - u0
        else:
            sign = 1.0 if self.increasing else -1.0
            span = max(sign * (u1 - u0), 0.05)
            span = span if self.positive else math.log(span)
        b = [math.log(K), math.log(n), u0, span]
        with torch.no_grad():
            self.additive.bias.copy_(torch.tensor(b))

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """Unconstrained outputs ``z`` (n, 4)."""
        x = x.to(self.additive.weight.dtype)
        z = self.additive(x)  # [n, 4]
        if self.epistatic is not None:
            z = z + self.epistatic(x)
        return z

    def unit_params(self, x: torch.Tensor) -> torch.Tensor:
        """``[(g(rmin)−c)/s, (g(rmax)−c)/s, ln K, ln n]`` (n, 4): the coordinates of
        :meth:`to_unit`, in which parameter losses live."""
        z = self.raw(x)
        b = self.bounds.to(z.dtype)
        log_k = soft_clamp(z[:, 0], b[0], b[1])
        log_n = soft_clamp(z[:, 1], b[2], b[3])
        u_min = z[:, 2]
        if self.increasing is None:
            u_max = u_min + z[:, 3]
        else:
            if self.positive:  # ln(rmax/rmin) itself is additive; kept ≥ 0 softly
                delta = F.softplus(z[:, 3], beta=BETA)
            else:  # ln(rmax − rmin) is additive
                delta = torch.exp(soft_clamp(z[:, 3], *LOG_SPAN))
            u_max = u_min + delta if self.increasing else u_min - delta
        return torch.stack([u_min, u_max, log_k, log_n], dim=1)

    def params(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Hill parameters ``rmin, rmax`` (response units), ``K`` (µM), ``n``; each (n,)."""
        u = self.unit_params(x)
        c, s = self.affine.to(u.dtype)
        r = c + s * u[:, :2]  # [n, 2] g(rmin), g(rmax)
        if self.positive:
            r = torch.exp(r)
        return {"rmin": r[:, 0], "rmax": r[:, 1],
                "K": torch.exp(u[:, 2]), "n": torch.exp(u[:, 3])}

    def curves(self, x: torch.Tensor, doses: torch.Tensor) -> torch.Tensor:
        """Responses (n, m) at ``doses`` (m,) µM."""
        p = self.params(x)
        d = doses.to(p["K"].dtype)[None, :]  # [1, m]
        return hill(d, p["rmin"][:, None], p["rmax"][:, None], p["K"][:, None], p["n"][:, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Curves on the training grid, (n, m)."""
        return self.curves(x, self.grid)


class ParamTargets(nn.Module):
    """Wraps a :class:`HillNet` so that ``forward`` gives its unit-scale parameters (n, 4);
    used to train on fitted Hill parameters instead of curves."""

    def __init__(self, net: HillNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.unit_params(x)
