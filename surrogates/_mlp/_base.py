"""``MLPSurrogateBase``: featurise → MLP → (mean, optional std), shared by the MLP surrogates.

A subclass defines how candidates become a float32 feature matrix (:meth:`featurize`) and its
constructor parameters; this base owns training, prediction and persistence, so every MLP model
(fingerprint, plain vector) prunes, quantises, distils and saves the same way.

Featurisation is separate from the network so a huge pool is featurised once (or chunk by
chunk) and reused: ``F = model.featurize(X)`` then ``model.predict_features(F)``. Targets are
standardised with the training mean and scale. With ``fit(..., y_std=s)`` the network gets a
second output, ``log(s / scale)``, so a student distilled from an ensemble keeps a cheap
uncertainty: ``predict`` then returns a ``std``.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
import torch

from physics import resolve_device

from .._base import Surrogate
from .._prediction import Prediction
from ._net import MLP, train_mlp
from ._qstate import is_quantized, mlp_from_tensors, mlp_tensors

__all__ = ["MLPSurrogateBase"]


class MLPSurrogateBase(Surrogate):
    """Base of MLP regressors; subclasses set ``hidden``, ``lr``, ``weight_decay``,
    ``epochs``, ``batch_size``, ``patience``, ``val_fraction``, ``warm_start``, ``device``,
    ``random_state`` (and the deprecated ``max_epochs``) in ``__init__`` and implement
    :meth:`featurize`.

    ``warm_start=True`` on a fitted model makes ``fit`` continue from the current weights and
    scalings (how a pruned model is fine-tuned).
    """

    #: the network reads log1p(features) (count features) when True
    log_input: ClassVar[bool] = False
    #: features are z-scored with the training mean/scale when True (dense vectors)
    standardize_input: ClassVar[bool] = False

    @abstractmethod
    def featurize(self, X: Any, offset: int = 0) -> np.ndarray:
        """Candidates → float32 features ``(n, d)``; ``offset`` shifts indices in errors."""

    def _check_features(self, F: Any) -> np.ndarray:
        F = np.asarray(F, dtype=np.float32)
        width = vars(self).get("n_features_in_")
        if F.ndim != 2 or (width is not None and F.shape[1] != width):
            raise ValueError(f"features must have shape (n, {width or 'd'}), got {F.shape}")
        return F

    def _prep(self, F: np.ndarray) -> np.ndarray:
        if not self.standardize_input:
            return F
        return ((F - self.x_mean_) / self.x_scale_).astype(np.float32)

    # --- training --------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, sample_weight: Any = None,
            y_std: Any = None) -> MLPSurrogateBase:
        """Fit on candidates ``X`` and targets ``y`` ``(n,)``; see :meth:`fit_features`."""
        return self.fit_features(self.featurize(X), y, sample_weight=sample_weight, y_std=y_std)

    def fit_features(self, F: Any, y: Any, *, sample_weight: Any = None,
                     y_std: Any = None) -> MLPSurrogateBase:
        """Fit on precomputed features ``F`` ``(n, d)``.

        Args:
            y: targets, shape ``(n,)``.
            sample_weight: per-row weights ``(n,)`` (e.g. teacher labels vs true labels).
            y_std: optional target spreads ``(n,)`` (an ensemble's std; ``nan`` where unknown)
                learned as a second output so :meth:`predict` returns a ``std``.
        """
        warm = bool(self.warm_start) and self.is_fitted("net_")
        if not warm and self.is_fitted("n_features_in_"):
            del self.n_features_in_
        F = self._check_features(F)
        y = np.asarray(y, dtype=float).reshape(-1)
        if len(y) != len(F):
            raise ValueError(f"got {len(F)} candidates but {len(y)} targets")
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"target {int(bad[0])} is not finite ({y[bad[0]]})")
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        if w.shape != y.shape or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"sample_weight must have shape {y.shape}, be >= 0, not all 0")
        if not warm:
            self.n_features_in_ = int(F.shape[1])
            self.y_mean_ = float(np.average(y, weights=w))
            self.y_scale_ = float(np.std(y)) or 1.0
            self.with_std_ = y_std is not None
            if self.standardize_input:
                self.x_mean_ = F.mean(axis=0)
                self.x_scale_ = np.where(F.std(axis=0) > 0, F.std(axis=0), 1.0).astype(np.float32)
        elif is_quantized(self.net_):
            raise ValueError("a quantised model cannot be trained further; fine-tune first")
        Y, W = ((y - self.y_mean_) / self.y_scale_)[:, None], w[:, None]
        if self.with_std_:
            s = np.full(len(y), np.nan) if y_std is None else np.asarray(y_std, float).reshape(-1)
            known = np.isfinite(s) & (s > 0)
            log_s = np.log(np.where(known, s, self.y_scale_) / self.y_scale_)
            Y, W = np.c_[Y, log_s], np.c_[W, w * known]
        if not warm:
            torch.manual_seed(int(self.random_state))
            self.net_ = MLP(self._sizes(), log_input=self.log_input)
        self.history_ = train_mlp(
            self.net_, self._prep(F), Y, W, lr=self.lr, weight_decay=self.weight_decay,
            max_epochs=self._renamed("epochs", "max_epochs"), batch_size=self.batch_size,
            patience=self.patience,
            val_fraction=self.val_fraction, seed=int(self.random_state),
            device=resolve_device(self.device))
        self.net_.to("cpu")
        return self

    def _sizes(self) -> list[int]:
        return [int(self.n_features_in_), *map(int, self.hidden), 2 if self.with_std_ else 1]

    # --- prediction ------------------------------------------------------------------------
    def predict(self, X: Any) -> Prediction:
        """Predict for candidates ``X``: mean ``(n,)`` (and ``std`` if fitted with ``y_std``)."""
        return self.predict_features(self.featurize(X))

    def predict_features(self, F: Any, batch_size: int = 8192) -> Prediction:
        """Predict from features ``F`` ``(n, d)`` in batches of ``batch_size`` rows."""
        self._require_fitted("net_")
        F = self._prep(self._check_features(F))
        dev = torch.device("cpu") if is_quantized(self.net_) else resolve_device(self.device)
        net = self.net_.to(dev) if isinstance(self.net_, torch.nn.Module) else self.net_
        outs = []
        with torch.inference_mode():
            for s in range(0, len(F), int(batch_size)):
                x = torch.from_numpy(F[s:s + int(batch_size)]).to(dev)  # [b, d]
                outs.append(net(x).float().cpu())  # [b, 1 or 2]
        out = torch.cat(outs).numpy() if outs else np.zeros((0, 2 if self.with_std_ else 1))
        mean = out[:, 0] * self.y_scale_ + self.y_mean_
        std = np.exp(out[:, 1]) * self.y_scale_ if self.with_std_ else None
        return Prediction(mean, std)

    def with_net(self, net: torch.nn.Module) -> MLPSurrogateBase:
        """A copy of this fitted model whose network is ``net`` (same input/output widths);
        ``hidden`` follows the new network's widths."""
        obj = copy.copy(self)
        obj.net_ = net
        if isinstance(net, MLP):
            obj.hidden = tuple(net.sizes[1:-1])
        return obj

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._require_fitted("net_")
        params = self.get_params()
        params["hidden"] = [int(h) for h in params["hidden"]]
        meta = {"params": params, "sizes": self._sizes(), "y_mean": self.y_mean_,
                "y_scale": self.y_scale_, "with_std": bool(self.with_std_),
                "quantized": is_quantized(self.net_)}
        tensors = {f"net.{k}": v for k, v in mlp_tensors(self.net_).items()}
        if self.standardize_input:
            tensors["x_mean"] = torch.from_numpy(np.asarray(self.x_mean_, np.float32))
            tensors["x_scale"] = torch.from_numpy(np.asarray(self.x_scale_, np.float32))
        return meta, tensors

    @classmethod
    def _from_state(cls, meta: dict[str, Any],
                    tensors: dict[str, torch.Tensor]) -> MLPSurrogateBase:
        params = dict(meta["params"])
        params["hidden"] = tuple(params["hidden"])
        obj = cls(**params)
        obj.n_features_in_ = int(meta["sizes"][0])
        obj.y_mean_, obj.y_scale_ = float(meta["y_mean"]), float(meta["y_scale"])
        obj.with_std_ = bool(meta["with_std"])
        if cls.standardize_input:
            obj.x_mean_, obj.x_scale_ = tensors["x_mean"].numpy(), tensors["x_scale"].numpy()
        net_t = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        obj.net_ = mlp_from_tensors(meta["sizes"], cls.log_input, bool(meta["quantized"]), net_t)
        return obj
