"""Free-form curve baselines for the Hill benchmark, in the same API as ``HillSurrogate``.

Each maps the same variant encoding (:class:`~surrogates._dose_response._encoding.InputEncoder`) to the
responses at the training doses, with no curve shape built in:

- :class:`CurveMLP`: a torch MLP with one output per training dose (masked, σ-weighted loss);
- :class:`CurveGP`: scikit-learn Gaussian process (constant × RBF + white noise, shared
  across doses);
- :class:`CurveRF`: scikit-learn random forest (multi-output).

Responses are standardised per dose. Scikit-learn models cannot take NaN targets, so for the GP
and the forest a missing response is filled by interpolating its own row over log-dose.
Derived quantities come from the predicted curve by interpolation
(:func:`~surrogates._dose_response._objectives.params_from_curves`), and :meth:`predict_curve` at other
doses interpolates over log-dose and holds the end values beyond the training grid — a free
curve model has nothing better to say there, which the benchmark's extrapolation column shows.
Only :class:`CurveMLP` can be saved; the scikit-learn baselines raise ``NotImplementedError``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from physics import resolve_device

from .._base import Compression, Surrogate
from .._io import prefixed, register_model
from .._mlp._net import MLP, train_mlp
from .._prediction import Prediction
from ._curves import check_curves, check_doses
from ._encoding import AMINO_ACIDS, InputEncoder
from ._objectives import objective_from_params, params_from_curves, parse_objective
from ._torch_utils import CastInput, as_torch_dtype, threads_for

__all__ = ["CurveGP", "CurveMLP", "CurveRF"]


def _log_axis(doses: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """log10 dose, with zero dose placed one decade below the smallest positive ``ref`` dose."""
    floor = ref[ref > 0].min() / 10.0 if np.any(ref > 0) else 1.0
    return np.log10(np.maximum(doses, floor))


def _fill_rows(y: np.ndarray, mask: np.ndarray, doses: np.ndarray) -> np.ndarray:
    """Fill unmeasured entries of each row by interpolation over log-dose (ends held)."""
    x = _log_axis(doses, doses)
    order = np.argsort(x)
    out = y.copy()
    for i in np.flatnonzero(~mask.all(axis=1)):
        m = mask[i, order]
        out[i, order] = np.interp(x[order], x[order][m], y[i, order][m])
    return out


class _CurveBaseline(Surrogate):
    """Shared fit/predict logic; subclasses implement :meth:`_fit_matrix`/:meth:`_predict_matrix`
    on standardised features ``F`` (n, d) and standardised responses (n, n_doses)."""

    input_kind = "sequence"
    fits = "curves"
    compression = Compression(student="curves")

    @abstractmethod
    def _fit_matrix(self, F: np.ndarray, Y: np.ndarray, W: np.ndarray, mask: np.ndarray) -> None:
        """Learn ``F → Y``; ``W`` are per-entry weights (0 where not measured)."""

    @abstractmethod
    def _predict_matrix(self, F: np.ndarray) -> np.ndarray:
        """Standardised responses (n, n_doses) on the training grid."""

    def fit(self, X: Any, responses: Any = None, doses: Any = None,
            sigma: Any = None) -> _CurveBaseline:
        """Train on curves: ``X`` variants, ``responses`` (n, n_doses) with NaN allowed,
        ``doses`` (n_doses,) µM, optional ``sigma`` (loss weights 1/σ² where the model uses them)."""
        parse_objective(self.objective)
        if responses is None or doses is None:
            raise ValueError("fit needs responses (n, n_doses) and doses (n_doses,) in µM")
        enc = InputEncoder(self.alphabet).fit(X)
        F = enc.transform(X)
        data = check_curves(responses, doses, len(F), sigma)
        y = np.where(data.mask, data.responses, np.nan)
        self.y_mean_ = np.nanmean(y, axis=0)
        scale = np.nanstd(y, axis=0)
        self.y_scale_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.y_mean_ = np.where(np.isfinite(self.y_mean_), self.y_mean_, np.nanmean(y))
        Y = (data.responses - self.y_mean_) / self.y_scale_
        W = data.weights * (self.y_scale_**2 if sigma is not None else 1.0)
        self.encoder_, self.train_doses_ = enc, data.doses
        self._fit_matrix(F, np.where(data.mask, Y, 0.0), W, data.mask)
        return self

    def _grid_curves(self, X: Any) -> np.ndarray:
        self._require_fitted("encoder_")
        F = self.encoder_.transform(X)
        return self._predict_matrix(F) * self.y_scale_ + self.y_mean_

    def predict_curve(self, X: Any, doses: Any) -> np.ndarray:
        """Responses (n, n_doses) at ``doses`` µM: log-dose interpolation of the training-grid
        prediction, end values held outside the grid."""
        d = check_doses(doses, max_decades=None)
        grid = self._grid_curves(X)
        x = _log_axis(self.train_doses_, self.train_doses_)
        order = np.argsort(x)
        xq = _log_axis(d, self.train_doses_)
        return np.stack([np.interp(xq, x[order], row[order]) for row in grid])

    def predict_params(self, X: Any) -> dict[str, np.ndarray]:
        """Hill-like parameters read off the predicted training-grid curve by interpolation."""
        return params_from_curves(self._grid_curves(X), self.train_doses_)

    def predict(self, X: Any) -> Prediction:
        kind, dose = parse_objective(self.objective)
        if kind == "response":
            return Prediction(self.predict_curve(X, [dose])[:, 0])
        return Prediction(objective_from_params(self.predict_params(X), self.objective))


@register_model
class CurveMLP(_CurveBaseline):
    """Unconstrained MLP: encoded variant → the responses at the training doses.

    Args: ``objective`` and ``alphabet`` as :class:`~surrogates.HillSurrogate`; ``hidden`` MLP
    widths; the AdamW loop's ``epochs, lr, weight_decay, batch_size, patience, val_fraction``;
    ``random_state``; ``device``; ``dtype`` (``"float32"`` or ``"float64"``).
    """

    compression = Compression(student="curves", default_student="half")

    def __init__(self, objective: str = "ec50", alphabet: str = AMINO_ACIDS,
                 hidden: Sequence[int] = (64, 64), epochs: int = 800, lr: float = 3e-3,
                 weight_decay: float = 1e-4, batch_size: int = 256, patience: int = 80,
                 val_fraction: float = 0.1, random_state: int = 0, device: str = "auto",
                 dtype: str = "float32") -> None:
        self.objective = objective
        self.alphabet = alphabet
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.patience = patience
        self.val_fraction = val_fraction
        self.random_state = random_state
        self.device = device
        self.dtype = dtype

    def _fit_matrix(self, F: np.ndarray, Y: np.ndarray, W: np.ndarray, mask: np.ndarray) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.random_state))
            net = MLP([F.shape[1], *[int(h) for h in self.hidden], Y.shape[1]])
        net = net.to(as_torch_dtype(self.dtype))
        device = resolve_device(self.device)
        with threads_for(*F.shape, device):
            self.train_info_ = train_mlp(
                CastInput(net), F, Y, W, lr=float(self.lr), weight_decay=float(self.weight_decay),
                max_epochs=int(self.epochs), batch_size=int(self.batch_size),
                patience=int(self.patience), val_fraction=float(self.val_fraction),
                seed=int(self.random_state), device=device)
        self.net_ = net

    def _predict_matrix(self, F: np.ndarray) -> np.ndarray:
        p = next(self.net_.parameters())
        with torch.no_grad():
            out = self.net_(torch.as_tensor(F, dtype=p.dtype, device=p.device))
        return out.double().cpu().numpy()

    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._require_fitted("net_")
        params = {**self.get_params(deep=False), "hidden": [int(h) for h in self.hidden],
                  "device": str(self.device), "dtype": str(self.dtype).replace("torch.", "")}
        enc_meta, enc_t = self.encoder_.to_state()
        tensors = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        tensors.update({f"enc.{k}": v for k, v in enc_t.items()})
        for name in ("y_mean_", "y_scale_", "train_doses_"):
            tensors[name] = torch.tensor(np.array(getattr(self, name)))
        return {"params": params, "encoder": enc_meta, "sizes": self.net_.sizes}, tensors

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> CurveMLP:
        params = {**meta["params"], "hidden": tuple(meta["params"]["hidden"])}
        obj = cls(**params)
        net = MLP(meta["sizes"]).to(as_torch_dtype(obj.dtype))
        net.load_state_dict(prefixed(tensors, "net."))
        obj.net_ = net.to(resolve_device(obj.device)).eval()
        obj.encoder_ = InputEncoder.from_state(meta["encoder"], prefixed(tensors, "enc."))
        for name in ("y_mean_", "y_scale_", "train_doses_"):
            setattr(obj, name, tensors[name].double().numpy())
        return obj


class _SklearnCurve(_CurveBaseline):
    """A scikit-learn multi-output regressor on the encoding; NaN responses are row-filled."""

    @abstractmethod
    def _make(self) -> Any:
        """The unfitted scikit-learn regressor."""

    def _fit_matrix(self, F: np.ndarray, Y: np.ndarray, W: np.ndarray, mask: np.ndarray) -> None:
        filled = _fill_rows(np.where(mask, Y, np.nan), mask, self.train_doses_)
        self.model_ = self._make().fit(F, filled)

    def _predict_matrix(self, F: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(F), dtype=float).reshape(len(F), -1)


class CurveGP(_SklearnCurve):
    """Gaussian process (constant × RBF + white noise, hyper-parameters by marginal likelihood)
    predicting the standardised responses at the training doses. Not saveable."""

    def __init__(self, objective: str = "ec50", alphabet: str = AMINO_ACIDS,
                 length_scale: float = 3.0, n_restarts: int = 1, random_state: int = 0) -> None:
        self.objective = objective
        self.alphabet = alphabet
        self.length_scale = length_scale
        self.n_restarts = n_restarts
        self.random_state = random_state

    def _make(self) -> Any:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(self.length_scale, (1e-2, 1e3))
                  + WhiteKernel(1e-2, (1e-6, 1e1)))
        return GaussianProcessRegressor(kernel, n_restarts_optimizer=int(self.n_restarts),
                                        random_state=int(self.random_state))


class CurveRF(_SklearnCurve):
    """Random forest (multi-output) predicting the standardised responses at the training
    doses. Not saveable."""

    def __init__(self, objective: str = "ec50", alphabet: str = AMINO_ACIDS,
                 n_estimators: int = 300, min_samples_leaf: int = 1, max_features: float = 0.5,
                 random_state: int = 0, n_jobs: int = 1) -> None:
        self.objective = objective
        self.alphabet = alphabet
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _make(self) -> Any:
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=int(self.n_estimators),
                                     min_samples_leaf=int(self.min_samples_leaf),
                                     max_features=self.max_features,
                                     random_state=int(self.random_state), n_jobs=int(self.n_jobs))
