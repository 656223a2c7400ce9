"""The MWC model of allosteric induction of a simple repression motif, in numpy and torch.

Razo-Mejia et al., Cell Systems 6, 456 (2018); Chure et al., PNAS 116, 18275 (2019).
A repressor (R copies per cell, counted as dimers, i.e. DNA-binding heads) is active or
inactive; the inducer (IPTG, concentration c in µM) binds each of its n = 2 sites with
dissociation constants Ka (active state) and Ki (inactive state), and ε_AI (kBT) is the free
energy of the inactive state relative to the active one. The probability of being active is

    p_act(c) = (1 + c/Ka)ⁿ / ((1 + c/Ka)ⁿ + e^{−ε_AI} (1 + c/Ki)ⁿ)
             = σ(ε_AI − n·[ln(1 + c/Ki) − ln(1 + c/Ka)])

and active repressors bind the operator with energy ε_RA (kBT, relative to the N_NS = 4.6·10⁶
non-specific sites of the genome), giving the fold-change in gene expression

    F(c) = [1 + p_act(c) · (R/N_NS) · e^{−ε_RA}]⁻¹ = σ(−ln p_act − ln(R/N_NS) + ε_RA)

(σ the logistic function; the log forms are what is evaluated, so no overflow at large
|ε| and F = 1 exactly when R = 0).

Closed forms (derived here; Razo-Mejia 2018, eqs. 6–9, give the same):

* leakiness F(0): p_act(0) = σ(ε_AI);  saturation F(∞): p_act(∞) = σ(ε_AI − n ln(Ka/Ki));
* EC50 x, where F(x) = (F(0) + F(∞))/2: with p_m = (1/F_m − 1)/r, r = (R/N_NS)e^{−ε_RA} and
  q = [e^{ε_AI} (1 − p_m)/p_m]^{1/n}, solving (1 + x/Ki)/(1 + x/Ka) = q gives
  x = Ka (q − 1)/(Ka/Ki − q);
* effective Hill coefficient h = 2 · d ln[(F − F(0))/(F(∞) − F(0))]/d ln c at c = x, i.e.
  h = 4 x F'(x)/(F(∞) − F(0)) with F' = −r F² p_act', p_act' = n p_act (1 − p_act)
  (1/(Ka + c) − 1/(Ki + c)). For a pure Hill curve h equals its Hill coefficient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import special

__all__ = [
    "N_NS",
    "OPERATOR_ENERGIES",
    "mwc_ec50",
    "mwc_effective_hill",
    "mwc_fold_change",
    "mwc_leakiness",
    "mwc_saturation",
]

#: number of non-specific binding sites on the E. coli genome
N_NS = 4.6e6
#: DNA binding energies ε_RA (kBT) of wild-type LacI to the native operators (Garcia & Phillips
#: 2011, used by Razo-Mejia 2018); Oid from the same source
OPERATOR_ENERGIES: dict[str, float] = {"Oid": -17.0, "O1": -15.3, "O2": -13.9, "O3": -9.7}


class _Ops:
    """The few elementwise operations the model needs, for one array library."""

    def __init__(self, args: tuple[Any, ...]):
        ref = next((a for a in args if isinstance(a, torch.Tensor)), None)
        self.torch = ref is not None
        if self.torch:
            self.dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
            self.device = ref.device

    def arrays(self, *args: Any) -> tuple[Any, ...]:
        if self.torch:
            return tuple(torch.as_tensor(a, dtype=self.dtype, device=self.device) for a in args)
        return tuple(np.asarray(a, dtype=float) for a in args)

    def log1p(self, x: Any) -> Any:
        return torch.log1p(x) if self.torch else np.log1p(x)

    def log(self, x: Any) -> Any:
        if self.torch:
            return torch.log(x)
        with np.errstate(divide="ignore"):
            return np.log(x)

    def exp(self, x: Any) -> Any:
        return torch.exp(x) if self.torch else np.exp(x)

    def sigmoid(self, x: Any) -> Any:
        return torch.sigmoid(x) if self.torch else special.expit(x)

    def logsigmoid(self, x: Any) -> Any:
        return torch.nn.functional.logsigmoid(x) if self.torch else -np.logaddexp(0.0, -x)


def _log_r(ops: _Ops, ep_ra: Any, repressors: Any, n_ns: float) -> Any:
    """ln[(R/N_NS) e^{−ε_RA}] (−inf when R = 0)."""
    return ops.log(repressors) - math.log(n_ns) - ep_ra


def _p_act_logit(ops: _Ops, c: Any, Ka: Any, Ki: Any, ep_ai: Any, n: float) -> Any:
    return ep_ai - n * (ops.log1p(c / Ki) - ops.log1p(c / Ka))


def mwc_fold_change(c: Any, Ka: Any, Ki: Any, ep_ai: Any, ep_ra: Any, repressors: Any,
                    n: float = 2, n_ns: float = N_NS) -> Any:
    """Fold-change in expression at inducer concentration ``c`` (µM); see the module docstring.

    Args:
        c: inducer concentrations (µM, ≥ 0), any shape; every argument broadcasts.
        Ka, Ki: inducer dissociation constants of the active/inactive repressor (µM, > 0).
        ep_ai: ε_AI, inactive-minus-active free energy (kBT).
        ep_ra: ε_RA, repressor-operator binding energy (kBT, e.g. −13.9 for O2).
        repressors: repressor dimers per cell (≥ 0).
        n: inducer binding sites per repressor (2 for LacI).
        n_ns: non-specific binding sites.

    Returns:
        Fold-change in (0, 1], torch if any argument is a tensor, else numpy.
    """
    ops = _Ops((c, Ka, Ki, ep_ai, ep_ra, repressors))
    c, Ka, Ki, ep_ai, ep_ra, repressors = ops.arrays(c, Ka, Ki, ep_ai, ep_ra, repressors)
    log_pact = ops.logsigmoid(_p_act_logit(ops, c, Ka, Ki, ep_ai, n))
    return ops.sigmoid(-(log_pact + _log_r(ops, ep_ra, repressors, n_ns)))


def mwc_leakiness(Ka: Any, Ki: Any, ep_ai: Any, ep_ra: Any, repressors: Any,
                  n: float = 2, n_ns: float = N_NS) -> Any:
    """Fold-change without inducer, F(0) (independent of Ka, Ki)."""
    ops = _Ops((Ka, Ki, ep_ai, ep_ra, repressors))
    _, _, ep_ai, ep_ra, repressors = ops.arrays(Ka, Ki, ep_ai, ep_ra, repressors)
    return ops.sigmoid(-(ops.logsigmoid(ep_ai) + _log_r(ops, ep_ra, repressors, n_ns)))


def mwc_saturation(Ka: Any, Ki: Any, ep_ai: Any, ep_ra: Any, repressors: Any,
                   n: float = 2, n_ns: float = N_NS) -> Any:
    """Fold-change at saturating inducer, F(∞) = lim F(c), c → ∞."""
    ops = _Ops((Ka, Ki, ep_ai, ep_ra, repressors))
    Ka, Ki, ep_ai, ep_ra, repressors = ops.arrays(Ka, Ki, ep_ai, ep_ra, repressors)
    log_pact = ops.logsigmoid(ep_ai - n * ops.log(Ka / Ki))
    return ops.sigmoid(-(log_pact + _log_r(ops, ep_ra, repressors, n_ns)))


def mwc_ec50(Ka: Any, Ki: Any, ep_ai: Any, ep_ra: Any, repressors: Any,
             n: float = 2, n_ns: float = N_NS) -> Any:
    """Inducer concentration (µM) of the half-way response (F(0) + F(∞))/2, closed form.

    ``nan`` where the curve is flat (Ka = Ki or no repressor).
    """
    ops = _Ops((Ka, Ki, ep_ai, ep_ra, repressors))
    Ka, Ki, ep_ai, ep_ra, repressors = ops.arrays(Ka, Ki, ep_ai, ep_ra, repressors)
    f_mid = 0.5 * (mwc_leakiness(Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns)
                   + mwc_saturation(Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns))
    log_r = _log_r(ops, ep_ra, repressors, n_ns)
    # p_m = (1/F_m − 1)/r ; ln[(1 − p_m)/p_m] = ln(1 − p_m) − ln p_m, kept in logs
    log_pm = ops.log(1.0 / f_mid - 1.0) - log_r
    log_odds = ops.log(1.0 - ops.exp(log_pm)) - log_pm
    q = ops.exp((ep_ai + log_odds) / n)
    return Ka * (q - 1.0) / (Ka / Ki - q)


def mwc_effective_hill(Ka: Any, Ki: Any, ep_ai: Any, ep_ra: Any, repressors: Any,
                       n: float = 2, n_ns: float = N_NS) -> Any:
    """Effective Hill coefficient h = 2 d ln[(F − F(0))/(F(∞) − F(0))]/d ln c at the EC50."""
    ops = _Ops((Ka, Ki, ep_ai, ep_ra, repressors))
    Ka, Ki, ep_ai, ep_ra, repressors = ops.arrays(Ka, Ki, ep_ai, ep_ra, repressors)
    x = mwc_ec50(Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns)
    span = (mwc_saturation(Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns)
            - mwc_leakiness(Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns))
    return 4.0 * x * mwc_fold_change_slope(x, Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns) / span


def mwc_fold_change_slope(c: Any, Ka: Any, Ki: Any, ep_ai: Any, ep_ra: Any, repressors: Any,
                          n: float = 2, n_ns: float = N_NS) -> Any:
    """dF/dc (per µM) at ``c``, analytic: F' = −r F² p_act', p_act' = n p(1−p)(1/(Ka+c) − 1/(Ki+c))."""
    ops = _Ops((c, Ka, Ki, ep_ai, ep_ra, repressors))
    c, Ka, Ki, ep_ai, ep_ra, repressors = ops.arrays(c, Ka, Ki, ep_ai, ep_ra, repressors)
    p = ops.sigmoid(_p_act_logit(ops, c, Ka, Ki, ep_ai, n))
    dp = n * p * (1.0 - p) * (1.0 / (Ka + c) - 1.0 / (Ki + c))
    F = mwc_fold_change(c, Ka, Ki, ep_ai, ep_ra, repressors, n, n_ns)
    r = repressors / n_ns * ops.exp(-ep_ra)
    return -r * F * F * dp
