"""The Hill equation and its fitting, in numpy and torch.

    R(D) = rmin + (rmax − rmin) · Dⁿ / (Kⁿ + Dⁿ)

``D`` is the dose (µM in this project, any unit works as long as ``K`` shares it), ``rmin`` the
response at zero dose, ``rmax`` the response at saturating dose, ``K`` the dose of the
half-maximal response (the EC50) and ``n > 0`` the Hill coefficient. A decreasing curve simply
has ``rmax < rmin``; ``n`` stays positive.

The saturation fraction is evaluated in log space as a logistic function,
Dⁿ / (Kⁿ + Dⁿ) = σ(n · (ln D − ln K)), which neither overflows for large ``n`` nor loses
precision far from ``K``; ``D = 0`` is special-cased so that ``R(0) = rmin`` exactly and
gradients with respect to ``K`` and ``n`` stay finite there.

:func:`fit_hill` fits the four parameters by weighted least squares (``scipy.optimize.least_squares``)
in the parameterisation (rmin, rmax, ln K, ln n), multi-started from values read off the data,
with ``K`` bounded to [D_min/100, 100·D_max] of the positive tested doses and ``n`` to
[0.05, 20]. Standard errors come from the Jacobian at the optimum (delta method back to K, n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from scipy import optimize, special, stats

__all__ = ["HillParams", "fit_hill", "hill"]

ArrayLike = TypeVar("ArrayLike", np.ndarray, torch.Tensor)

#: bounds of the Hill coefficient searched by :func:`fit_hill`
N_BOUNDS = (0.05, 20.0)
#: K may lie this factor beyond the lowest/highest positive tested dose
K_MARGIN = 100.0
#: significance level of the F-test that flags a flat curve
FLAT_ALPHA = 0.05


def hill(D: Any, rmin: Any, rmax: Any, K: Any, n: Any) -> Any:
    """Hill response ``R(D)``; numpy in → numpy out, any torch tensor in → torch out.

    Args:
        D: doses (≥ 0, same unit as ``K``), any shape; broadcast against the parameters.
        rmin: response at ``D = 0``.
        rmax: response as ``D → ∞`` (``rmax < rmin`` gives a decreasing curve).
        K: half-maximal dose (> 0).
        n: Hill coefficient (> 0).

    Returns:
        The broadcast response, a ``torch.Tensor`` if any argument is one (on its device and
        dtype), else a ``numpy.ndarray`` of floats.
    """
    args = (D, rmin, rmax, K, n)
    ref = next((a for a in args if isinstance(a, torch.Tensor)), None)
    if ref is not None:
        dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
        D, rmin, rmax, K, n = (torch.as_tensor(a, dtype=dtype, device=ref.device) for a in args)
        positive = D > 0
        safe_d = torch.where(positive, D, torch.ones_like(D))
        z = n * (torch.log(safe_d) - torch.log(K))
        frac = torch.where(positive, torch.sigmoid(z), torch.zeros_like(z))
        return rmin + (rmax - rmin) * frac
    D, rmin, rmax, K, n = (np.asarray(a, dtype=float) for a in args)
    positive = D > 0
    safe_d = np.where(positive, D, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = n * (np.log(safe_d) - np.log(K))
    frac = np.where(positive, special.expit(z), 0.0)
    return rmin + (rmax - rmin) * frac


@dataclass(frozen=True)
class HillParams:
    """Result of :func:`fit_hill`.

    Attributes:
        rmin, rmax: fitted responses at zero and saturating dose (response units).
        K: fitted half-maximal dose (dose units), equal to the EC50.
        n: fitted Hill coefficient (dimensionless, > 0).
        rmin_se, rmax_se, K_se, n_se: standard errors (``K_se = K · se(ln K)``, likewise ``n``);
            ``nan`` when the fit is not identifiable.
        log_K_se, log_n_se: standard errors of ``ln K`` and ``ln n`` (the fitted coordinates;
            :meth:`interval` uses them for log-symmetric intervals).
        r2: coefficient of determination (weighted by ``1/σ²`` when ``sigma`` was given).
        n_points: number of (dose, response) points fitted.
        censored_low: ``K`` below the lowest positive tested dose.
        censored_high: ``K`` above the highest tested dose.
        failed: the optimiser did not converge to finite values.
        flat: a constant explains the data as well (F-test, p ≥ 0.05).
        flat_pvalue: p-value of the F-test of the Hill curve against a constant.
        message: optimiser message or why the fit was flagged.
        t_dof: degrees of freedom of the Student t quantile :meth:`interval` uses: N − 4 when
            the standard errors were scaled by the residual variance (no ``sigma``), ``inf``
            (the normal quantile) when ``sigma`` gave absolute errors.
    """

    rmin: float
    rmax: float
    K: float
    n: float
    rmin_se: float
    rmax_se: float
    K_se: float
    n_se: float
    log_K_se: float
    log_n_se: float
    r2: float
    n_points: int
    censored_low: bool
    censored_high: bool
    failed: bool
    flat: bool
    flat_pvalue: float
    message: str = ""
    t_dof: float = math.inf

    @property
    def ec50(self) -> float:
        """Dose of the half-maximal response (= ``K`` for the Hill curve), dose units."""
        return self.K

    @property
    def censored(self) -> bool:
        """``K`` lies outside the tested dose range."""
        return self.censored_low or self.censored_high

    @property
    def dynamic_range(self) -> float:
        """``rmax − rmin``, in response units (Razo-Mejia et al. 2018; < 0 for a decreasing
        curve). The same definition as :class:`physics.AllostericSensor`'s target."""
        return self.rmax - self.rmin

    @property
    def fold_induction(self) -> float:
        """``rmax / rmin`` (< 1 for a decreasing curve, ``inf`` if rmin = 0)."""
        if self.rmin == 0.0:
            return math.inf if self.rmax > 0 else (-math.inf if self.rmax < 0 else math.nan)
        return self.rmax / self.rmin

    @property
    def effective_slope(self) -> float:
        """Slope at the EC50 on a log-dose axis, ``dR/d ln D = n · (rmax − rmin) / 4``.

        Response units per e-fold of dose; negative for a decreasing curve.
        """
        return self.n * (self.rmax - self.rmin) / 4.0

    def predict(self, doses: Any) -> Any:
        """The fitted curve at ``doses`` (numpy or torch, as :func:`hill`)."""
        return hill(doses, self.rmin, self.rmax, self.K, self.n)

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Wald confidence interval of ``name`` in {"rmin", "rmax", "K", "n"}.

        Symmetric for ``rmin``/``rmax``; symmetric in log space for ``K``/``n`` (the fitted
        coordinates), so it never includes non-positive values. The quantile is Student's t
        with ``t_dof`` degrees of freedom.
        """
        z = float(stats.t.ppf(0.5 + level / 2.0, self.t_dof))
        if name in ("rmin", "rmax"):
            value, se = getattr(self, name), getattr(self, f"{name}_se")
            return value - z * se, value + z * se
        if name in ("K", "n"):
            value, se = getattr(self, name), getattr(self, f"log_{name}_se")
            return value * math.exp(-z * se), value * math.exp(z * se)
        raise ValueError(f"unknown Hill parameter {name!r}; choose rmin, rmax, K or n")

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of every field plus the derived quantities."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(ec50=self.ec50, dynamic_range=self.dynamic_range,
                   fold_induction=self.fold_induction,
                   effective_slope=self.effective_slope)
        return out


def fit_hill(doses: Any, responses: Any, sigma: Any = None) -> HillParams:
    """Fit the Hill equation to one dose-response curve.

    Args:
        doses: (N,) doses ≥ 0, any order, replicates and zero dose allowed; at least 3 distinct
            values, of which at least 2 positive.
        responses: (N,) measured responses (finite).
        sigma: optional (N,) absolute standard deviations of the responses (> 0); weights are
            ``1/σ²`` and the standard errors use them as they are (no rescaling by the
            residual variance). Without ``sigma`` all points weigh the same and the standard
            errors are scaled by the residual variance.

    Returns:
        A :class:`HillParams`. A fit that does not converge is returned with ``failed=True``
        rather than raised.

    Raises:
        ValueError: naming the index of a NaN/infinite/negative dose, a non-finite response,
            a non-positive sigma, mismatched lengths or too few points.
    """
    d, r, s = _validate(doses, responses, sigma)
    order = np.argsort(d, kind="stable")
    d, r, s = d[order], r[order], s[order]
    n_pts = d.size
    positive = d[d > 0]
    d_lo, d_hi = float(positive.min()), float(positive.max())
    bounds_lo = [-np.inf, -np.inf, math.log(d_lo / K_MARGIN), math.log(N_BOUNDS[0])]
    bounds_hi = [np.inf, np.inf, math.log(d_hi * K_MARGIN), math.log(N_BOUNDS[1])]

    w = 1.0 / s
    const = float(np.sum(r * w**2) / np.sum(w**2))
    rss0 = float(np.sum(((r - const) * w) ** 2))

    logd = np.log(np.where(d > 0, d, 1.0))

    def frac(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = math.exp(p[3]) * (logd - p[2])
        return np.where(d > 0, special.expit(z), 0.0), z

    def residuals(p: np.ndarray) -> np.ndarray:
        return (p[0] + (p[1] - p[0]) * frac(p)[0] - r) * w

    def jacobian(p: np.ndarray) -> np.ndarray:
        f, z = frac(p)
        g = (p[1] - p[0]) * f * (1.0 - f)  # dR/dz
        return np.stack([1.0 - f, f, -math.exp(p[3]) * g, z * g], axis=1) * w[:, None]

    if rss0 == 0.0:  # every response identical: the flat curve, nothing to fit
        mid = math.sqrt(d_lo * d_hi)
        return HillParams(const, const, mid, 1.0, *([math.nan] * 6), r2=math.nan,
                          n_points=n_pts, censored_low=False, censored_high=False, failed=False,
                          flat=True, flat_pvalue=1.0, message="all responses are identical")

    best = None
    for p0 in _starts(d, r, bounds_lo, bounds_hi):
        try:
            sol = optimize.least_squares(residuals, p0, jac=jacobian, bounds=(bounds_lo, bounds_hi),
                                         method="trf", x_scale="jac", max_nfev=2000)
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - scipy edge cases
            continue
        if np.all(np.isfinite(sol.x)) and (best is None or sol.cost < best.cost):
            best = sol
    if best is None or best.status <= 0:
        msg = "least-squares fit did not converge" if best is None else best.message
        return HillParams(*([math.nan] * 10), r2=math.nan, n_points=n_pts, censored_low=False,
                          censored_high=False, failed=True, flat=False,
                          flat_pvalue=math.nan, message=msg)

    p = best.x
    rss1 = float(np.sum(best.fun**2))
    dof = n_pts - 4
    se = _standard_errors(best.jac, rss1, dof, absolute=sigma is not None)
    K, n = math.exp(p[2]), math.exp(p[3])
    if dof > 0 and rss1 > 0:
        F = ((rss0 - rss1) / 3.0) / (rss1 / dof)
        pval = float(stats.f.sf(F, 3, dof))
    elif rss1 == 0:
        pval = 0.0
    else:  # 4 points, 4 parameters: no residual degrees of freedom to test with
        pval = math.nan
    flat = bool(pval >= FLAT_ALPHA) if math.isfinite(pval) else False
    return HillParams(
        rmin=float(p[0]), rmax=float(p[1]), K=K, n=n,
        rmin_se=se[0], rmax_se=se[1], K_se=K * se[2], n_se=n * se[3],
        log_K_se=se[2], log_n_se=se[3],
        r2=1.0 - rss1 / rss0, n_points=n_pts,
        censored_low=K < d_lo, censored_high=K > d_hi, failed=False,
        flat=flat, flat_pvalue=pval, message=str(best.message),
        t_dof=math.inf if sigma is not None else float(dof),
    )


def _validate(doses: Any, responses: Any, sigma: Any) -> tuple[np.ndarray, ...]:
    d = _as_1d(doses, "doses")
    r = _as_1d(responses, "responses")
    if d.size != r.size:
        raise ValueError(f"doses has {d.size} values but responses has {r.size}")
    for i, x in enumerate(d):
        if not math.isfinite(x):
            raise ValueError(f"dose at index {i} is {x}: doses must be finite")
        if x < 0:
            raise ValueError(f"dose at index {i} is negative ({x}): concentrations must be ≥ 0")
    bad = np.flatnonzero(~np.isfinite(r))
    if bad.size:
        raise ValueError(f"response at index {bad[0]} is {r[bad[0]]}: responses must be finite")
    if sigma is None:
        s = np.ones_like(d)
    else:
        s = _as_1d(sigma, "sigma")
        if s.size != d.size:
            raise ValueError(f"sigma has {s.size} values but doses has {d.size}")
        bad = np.flatnonzero(~(np.isfinite(s) & (s > 0)))
        if bad.size:
            raise ValueError(f"sigma at index {bad[0]} is {s[bad[0]]}: must be finite and > 0")
    if d.size < 4:
        raise ValueError(f"fit_hill needs at least 4 points for 4 parameters, got {d.size}")
    if np.unique(d).size < 3 or np.unique(d[d > 0]).size < 2:
        raise ValueError("fit_hill needs at least 3 distinct doses, at least 2 of them positive; "
                         f"got doses {np.unique(d).tolist()}")
    return d, r, s


def _as_1d(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _starts(d: np.ndarray, r: np.ndarray, lo: list[float], hi: list[float]) -> list[np.ndarray]:
    """Starting points read off the (sorted) data: plateaus from the extreme doses, K from the
    half-way crossing on a log-dose axis, then a few spread-out alternatives."""
    doses = np.unique(d)
    means = np.array([r[d == x].mean() for x in doses])
    r0, r1 = float(means[0]), float(means[-1])
    positive = doses > 0
    logd = np.log(doses[positive])
    half = 0.5 * (r0 + r1)
    above = (means[positive] - half) * np.sign(r1 - r0 or 1.0) >= 0
    k_guess = float(logd[np.argmax(above)]) if above.any() else float(logd.mean())
    k_grid = [k_guess, float(np.quantile(logd, 0.25)), float(np.quantile(logd, 0.75))]
    starts = []
    for lk in k_grid:
        for ln_n in (0.0, math.log(2.5)):
            p0 = np.array([r0, r1, lk, ln_n])
            starts.append(np.clip(p0, np.array(lo) + 1e-9, np.array(hi) - 1e-9))
    return starts


def _standard_errors(jac: np.ndarray, rss: float, dof: int, absolute: bool) -> list[float]:
    """Standard errors of the fitted coordinates from the Jacobian of the weighted residuals."""
    jtj = jac.T @ jac
    try:
        if np.linalg.cond(jtj) > 1e14:
            raise np.linalg.LinAlgError("singular")
        cov = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        return [math.nan] * 4
    if not absolute:
        cov = cov * (rss / dof if dof > 0 else math.nan)
    diag = np.diag(cov)
    return [math.sqrt(v) if v >= 0 else math.nan for v in diag]
