"""``HillSurrogate``: a dose-response model that speaks the Hill equation.

Variants (sequences or design vectors) → constrained Hill parameters (rmin, rmax, K, n) by
:class:`~surrogates._dose_response._hill_net.HillNet` (additive + small epistatic encoder, bounded head), trained
either on measured curves (per-dose squared error weighted by 1/σ², NaN = not measured) or on
fitted Hill parameters with their standard errors (:meth:`HillSurrogate.fit_params`). Because
the curve form is built in, it needs fewer variants than a free curve model, answers
interpretable questions (EC50, dynamic range, leakiness, cooperativity) and extrapolates to
doses it was not trained on.

Example::

    model = HillSurrogate(objective="log10_ec50").fit(seqs, responses, doses)   # doses in µM
    model.predict_params(new_seqs)["K"]       # (n,) µM
    model.predict_curve(new_seqs, doses)      # (n, n_doses)
    Ensemble(HillSurrogate(), 5).fit(seqs, responses, doses=doses).aggregate("predict_params", X)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from physics import resolve_device

from .._base import Compression, Surrogate, register_surrogate
from .._io import prefixed
from .._mlp._net import train_mlp
from .._prediction import Prediction
from ._curves import check_curves, check_doses
from ._encoding import AMINO_ACIDS, InputEncoder
from ._hill_net import PARAMS, HillNet, ParamTargets
from ._objectives import objective_from_params, parse_objective
from ._torch_utils import as_torch_dtype, threads_for

__all__ = ["HillSurrogate"]

#: K may lie this factor beyond the lowest/highest positive training dose (as physics.fit_hill)
K_MARGIN = 100.0


@register_surrogate("hill")
class HillSurrogate(Surrogate):
    """Variants → Hill dose-response curves with built-in monotonicity and limits.

    Args:
        objective: what :meth:`predict` returns: ``"ec50"`` (µM), ``"log10_ec50"``,
            ``"dynamic_range"`` (rmax − rmin), ``"fold_induction"`` (rmax/rmin),
            ``"leakiness"`` (rmin), ``"saturation"`` (rmax),
            ``"hill_n"`` or ``"response@<dose µM>"``.
        increasing: ``True``: rmax ≥ rmin (response rises with dose); ``False``: rmax ≤ rmin;
            ``None``: the direction is learned per variant (for libraries that hold both).
            Every curve is monotone with ``rmin = R(0)`` and ``rmax = R(∞)``.
        positive: responses are positive (fold-changes, fluorescence): rmin and rmax are
            modelled in log space, so both stay > 0 and effects add in ln rmin, ln(rmax/rmin).
        alphabet: letters of a sequence library (ignored for design vectors).
        hidden: hidden widths of the epistatic MLP; ``()`` gives a purely additive model.
        epochs, lr, weight_decay, batch_size, patience, val_fraction: the AdamW training loop
            (early stopping on a held-out ``val_fraction`` of the variants).
        n_bounds: ``(lo, hi)`` of the Hill coefficient.
        K_bounds: ``(lo, hi)`` of K in µM; ``None``: the positive training doses widened by
            100× on each side.
        random_state: seeds initialisation and the training order.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        dtype: ``"float32"`` or ``"float64"``.
    """

    input_kind = "sequence"
    fits = "curves"
    compression = Compression(student="curves", prune="epistatic_units", default_student="half")

    def __init__(self, objective: str = "ec50", increasing: bool | None = True,
                 positive: bool = False,
                 alphabet: str = AMINO_ACIDS, hidden: Sequence[int] = (32,),
                 epochs: int = 800, lr: float = 1e-2, weight_decay: float = 1e-4,
                 batch_size: int = 256, patience: int = 80, val_fraction: float = 0.1,
                 n_bounds: tuple[float, float] = (0.25, 8.0),
                 K_bounds: tuple[float, float] | None = None, random_state: int = 0,
                 device: str = "auto", dtype: str = "float32") -> None:
        self.objective = objective
        self.increasing = increasing
        self.positive = positive
        self.alphabet = alphabet
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.patience = patience
        self.val_fraction = val_fraction
        self.n_bounds = n_bounds
        self.K_bounds = K_bounds
        self.random_state = random_state
        self.device = device
        self.dtype = dtype

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, responses: Any = None, doses: Any = None,
            sigma: Any = None) -> HillSurrogate:
        """Train on measured curves.

        Args:
            X: list of n sequences (str, equal length) or an (n, d) array of design vectors.
            responses: (n, n_doses) responses; NaN where not measured (≥ 4 measured per row).
            doses: (n_doses,) doses in µM (≥ 0, finite, one unit).
            sigma: optional measurement standard deviations, broadcastable to ``responses``;
                the loss per dose is weighted by 1/σ².
        """
        self._check_config()
        if responses is None or doses is None:
            raise ValueError("fit needs responses (n, n_doses) and doses (n_doses,) in µM")
        enc = InputEncoder(self.alphabet).fit(X)
        feats = enc.transform(X)
        data = check_curves(responses, doses, len(feats), sigma)
        y, m = data.responses, data.mask
        col_lo, col_hi = np.argmin(data.doses), np.argmax(data.doses)
        r0 = self._column_mean(y, m, col_lo)
        r1 = self._column_mean(y, m, col_hi)
        y_scale = float(y[m].std()) or max(abs(float(y[m].mean())), 1.0)
        center, scale = self._affine(y[m])
        k_lo, k_hi = self._k_bounds(data.doses[data.doses > 0])
        init = (r0, r1, math.sqrt(k_lo * k_hi), 1.0)
        net = self._build(feats.shape[1], data.doses, (k_lo, k_hi), center, scale, init)
        weights = data.weights * (y_scale**2 if sigma is None else 1.0)
        self._train(net, feats, y, weights)
        self.encoder_, self.net_ = enc, net
        self.train_doses_ = data.doses
        return self

    def fit_params(self, X: Any, params: Any, stderr: Mapping[str, Any] | None = None,
                   doses: Any = None) -> HillSurrogate:
        """Train on fitted Hill parameters instead of curves.

        Args:
            X: variants, as in :meth:`fit`.
            params: a dict of (n,) arrays ``rmin, rmax, K, n`` (K in µM), or a list of
                :class:`physics.HillParams` (their standard errors are then used by default).
            stderr: optional dict of (n,) standard errors of ``rmin, rmax, K, n``; each
                parameter's squared error is weighted by 1/se² (K and n in log space,
                se(ln K) = se(K)/K). NaN entries (or NaN parameters) are left out.
            doses: optional tested doses (µM) setting the K bounds; default the K range.
        """
        self._check_config()
        enc = InputEncoder(self.alphabet).fit(X)
        feats = enc.transform(X)
        values, se = self._param_table(params, stderr, len(feats))
        if self.positive:
            bad = np.argwhere(np.isfinite(values[:, :2]) & (values[:, :2] <= 0))
            if bad.size:
                r, j = bad[0]
                raise ValueError(f"row {r}: {PARAMS[j]} = {values[r, j]} but positive=True "
                                 f"needs responses > 0")
        center, scale = self._affine(values[:, :2][np.isfinite(values[:, :2])])
        K = values[:, 2][np.isfinite(values[:, 2])]
        ref = check_doses(doses) if doses is not None else K
        k_lo, k_hi = self._k_bounds(ref[ref > 0])
        med = np.nanmedian(values, axis=0)
        init = (float(med[0]), float(med[1]), float(np.clip(med[2], k_lo, k_hi)), float(med[3]))
        grid = np.geomspace(k_lo * K_MARGIN, k_hi / K_MARGIN, 8)
        net = self._build(feats.shape[1], grid, (k_lo, k_hi), center, scale, init)
        target = np.column_stack([net.to_unit(values[:, 0]), net.to_unit(values[:, 1]),
                                  np.log(values[:, 2]), np.log(values[:, 3])])
        if se is None:  # unit error on the (g-)response scale and in ln K, ln n
            unit_se = np.ones_like(values)
        else:  # delta method: se(g(r)) = g'(r)·se(r), g' = 1 or 1/r
            dg = 1.0 / values[:, :2] if self.positive else np.ones_like(values[:, :2])
            unit_se = np.column_stack([se[:, :2] * np.abs(dg) / scale,
                                       se[:, 2] / values[:, 2], se[:, 3] / values[:, 3]])
        ok = np.isfinite(target) & np.isfinite(unit_se)
        w = np.where(ok, 1.0 / np.maximum(np.where(ok, unit_se, 1.0), 1e-3) ** 2, 0.0)
        self._train(ParamTargets(net), feats, np.where(ok, target, 0.0), w)
        self.encoder_, self.net_ = enc, net
        self.train_doses_ = grid
        return self

    @staticmethod
    def _param_table(params: Any, stderr: Mapping[str, Any] | None,
                     n_rows: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(values, se), each (n, 4) in the order rmin, rmax, K, n (se ``None`` when not
        given); errors name the row."""
        if not isinstance(params, Mapping):  # a list of HillParams-like records
            items = list(params)
            params = {k: [getattr(p, k) for p in items] for k in PARAMS}
            if stderr is None:
                stderr = {k: [getattr(p, f"{k}_se", math.nan) for p in items] for k in PARAMS}
        missing = [k for k in PARAMS if k not in params]
        if missing:
            raise ValueError(f"params lacks {missing}; give rmin, rmax, K and n")
        values = np.column_stack([np.asarray(params[k], dtype=float).reshape(-1) for k in PARAMS])
        if values.shape[0] != n_rows:
            raise ValueError(f"params has {values.shape[0]} rows but X has {n_rows}")
        se = None
        if stderr is not None:
            unknown = sorted(set(stderr) - set(PARAMS))
            if unknown:
                raise ValueError(f"stderr has unknown keys {unknown}; use rmin, rmax, K, n")
            se = np.column_stack([np.asarray(stderr.get(k, np.full(n_rows, np.nan)),
                                             dtype=float).reshape(-1) for k in PARAMS])
        for row in range(n_rows):
            v = values[row]
            if not np.isfinite(v).any():
                raise ValueError(f"row {row}: every Hill parameter is NaN")
            for j, k in ((2, "K"), (3, "n")):
                if np.isfinite(v[j]) and v[j] <= 0:
                    raise ValueError(f"row {row}: {k} = {v[j]} must be > 0")
        return values, se

    def _check_config(self) -> None:
        parse_objective(self.objective)
        as_torch_dtype(self.dtype)
        lo, hi = self.n_bounds
        if not 0 < lo < hi:
            raise ValueError(f"n_bounds must be 0 < lo < hi, got {self.n_bounds}")
        if self.K_bounds is not None and not 0 < self.K_bounds[0] < self.K_bounds[1]:
            raise ValueError(f"K_bounds must be 0 < lo < hi (µM), got {self.K_bounds}")

    def _affine(self, r: np.ndarray) -> tuple[float, float]:
        """Centre and scale of g(r) (g = identity, or ln for positive responses)."""
        if self.positive:
            r = np.log(r[r > 0]) if np.any(r > 0) else np.zeros(1)
        center = float(r.mean())
        return center, float(r.std()) or max(abs(center), 1.0)

    def _k_bounds(self, positive: np.ndarray) -> tuple[float, float]:
        if self.K_bounds is not None:
            return float(self.K_bounds[0]), float(self.K_bounds[1])
        if positive.size == 0:
            raise ValueError("at least one positive dose is needed to place K")
        lo, hi = float(positive.min()) / K_MARGIN, float(positive.max()) * K_MARGIN
        return lo, hi

    @staticmethod
    def _column_mean(y: np.ndarray, m: np.ndarray, col: int) -> float:
        if m[:, col].any():
            return float(y[m[:, col], col].mean())
        return float(y[m].mean())

    def _build(self, d_in: int, grid: np.ndarray, k_bounds: tuple[float, float],
               center: float, scale: float, init: tuple[float, float, float, float]) -> HillNet:
        lo, hi = self.n_bounds
        init = (init[0], init[1], init[2], float(np.clip(init[3], lo * 1.01, hi / 1.01)))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            net = HillNet(d_in, tuple(self.hidden), torch.as_tensor(grid), k_bounds,
                          (float(lo), float(hi)), center, scale, self._direction(), init,
                          bool(self.positive))
        return net.to(as_torch_dtype(self.dtype))

    def _direction(self) -> bool | None:
        return None if self.increasing is None else bool(self.increasing)

    def _train(self, module: torch.nn.Module, feats: np.ndarray, Y: np.ndarray,
               W: np.ndarray) -> None:
        device = resolve_device(self.device)
        with threads_for(*feats.shape, device):
            self.train_info_ = train_mlp(
                module, feats, Y, W, lr=float(self.lr), weight_decay=float(self.weight_decay),
                max_epochs=int(self.epochs), batch_size=int(self.batch_size),
                patience=int(self.patience), val_fraction=float(self.val_fraction),
                seed=int(self.random_state), device=device)

    # --- prediction ------------------------------------------------------------------------
    def _features(self, X: Any) -> torch.Tensor:
        self._require_fitted("net_")
        feats = self.encoder_.transform(X)
        p = next(self.net_.parameters())
        return torch.as_tensor(feats, dtype=p.dtype, device=p.device)

    def predict_params(self, X: Any) -> dict[str, np.ndarray]:
        """Hill parameters per variant: ``rmin``, ``rmax`` (response units), ``K`` (µM), ``n``;
        each an (n,) float64 array."""
        x = self._features(X)
        with torch.no_grad():
            p = self.net_.params(x)
        return {k: v.double().cpu().numpy() for k, v in p.items()}

    def predict_curve(self, X: Any, doses: Any) -> np.ndarray:
        """Responses (n, n_doses) at ``doses`` (n_doses,) µM, any doses ≥ 0 (extrapolation too)."""
        d = check_doses(doses, max_decades=None)
        x = self._features(X)
        with torch.no_grad():
            out = self.net_.curves(x, torch.as_tensor(d, device=x.device))
        return out.double().cpu().numpy()

    def predict(self, X: Any) -> Prediction:
        """The configured ``objective`` per variant (no spread; use an Ensemble for one)."""
        return Prediction(objective_from_params(self.predict_params(X), self.objective))

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._require_fitted("net_")
        params = self.get_params(deep=False)
        params["hidden"] = [int(h) for h in self.hidden]
        params["n_bounds"] = [float(b) for b in self.n_bounds]
        params["K_bounds"] = None if self.K_bounds is None else [float(b) for b in self.K_bounds]
        params["dtype"] = str(self.dtype).replace("torch.", "")
        params["device"] = str(self.device)
        enc_meta, enc_tensors = self.encoder_.to_state()
        tensors = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        tensors.update({f"enc.{k}": v for k, v in enc_tensors.items()})
        tensors["train_doses"] = torch.tensor(np.array(self.train_doses_))
        meta = {"params": params, "encoder": enc_meta, "d_in": self.encoder_.n_features}
        return meta, tensors

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> HillSurrogate:
        params = dict(meta["params"])
        params["hidden"] = tuple(params["hidden"])
        params["n_bounds"] = tuple(params["n_bounds"])
        if params["K_bounds"] is not None:
            params["K_bounds"] = tuple(params["K_bounds"])
        obj = cls(**params)
        net_t = prefixed(tensors, "net.")
        b = net_t["bounds"].tolist()
        c, s = net_t["affine"].tolist()
        net = HillNet(int(meta["d_in"]), obj.hidden, net_t["grid"], (math.exp(b[0]), math.exp(b[1])),
                      (math.exp(b[2]), math.exp(b[3])), c, s, obj._direction(),
                      positive=bool(obj.positive))
        net = net.to(as_torch_dtype(obj.dtype))
        net.load_state_dict(net_t)
        obj.net_ = net.to(resolve_device(obj.device)).eval()
        obj.encoder_ = InputEncoder.from_state(meta["encoder"], prefixed(tensors, "enc."))
        obj.train_doses_ = tensors["train_doses"].double().numpy()
        return obj
