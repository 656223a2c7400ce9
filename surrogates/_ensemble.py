"""``Ensemble``: K independently seeded copies of one surrogate → mean and spread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from sklearn.base import clone

from ._base import Surrogate
from ._io import MODELS, prefixed, register_model
from ._prediction import Prediction

__all__ = ["Ensemble", "calibration"]


def _summarise(stack: np.ndarray) -> Prediction:
    """``stack`` has shape (K, n, ...) → Prediction over the member axis (sample std, ddof=1)."""
    ddof = 1 if stack.shape[0] > 1 else 0
    return Prediction(stack.mean(axis=0), stack.std(axis=0, ddof=ddof))


@register_model
class Ensemble(Surrogate):
    """Deep ensemble: ``n_members`` clones of ``estimator`` seeded ``random_state + i``.

    Args:
        estimator: an unfitted surrogate with a ``random_state`` parameter.
        n_members: K, the number of members (≥ 1; a spread needs ≥ 2).
        random_state: seed of member 0; member i uses ``random_state + i``.

    ``fit`` passes all its arguments to every member. ``predict`` returns the mean over members
    and their sample standard deviation. When the estimator has ``warm_start=True`` and this
    ensemble is already fitted, ``fit`` continues each member from its own weights. :meth:`aggregate` does the same for any other member
    method (``predict_params``, ``predict_curve``, …), dict outputs included.
    """

    def __init__(self, estimator: Surrogate, n_members: int = 5, random_state: int = 0) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> Ensemble:
        if int(self.n_members) < 1:
            raise ValueError(f"n_members must be >= 1, got {self.n_members}")
        if "random_state" not in self.estimator.get_params():
            raise ValueError(f"{type(self.estimator).__name__} has no random_state parameter")
        previous = vars(self).get("members_", [])
        warm = bool(self.estimator.get_params().get("warm_start")) and \
            len(previous) == int(self.n_members)
        members = []
        for i in range(int(self.n_members)):
            member = previous[i] if warm else \
                clone(self.estimator).set_params(random_state=int(self.random_state) + i)
            member.fit(X, y, **kwargs) if y is not None else member.fit(X, **kwargs)
            members.append(member)
        self.members_ = members
        return self

    def stopped_by_time(self) -> bool:
        """True when a safety time cap ended any member's fit."""
        return any(m.stopped_by_time() for m in vars(self).get("members_", []))

    def member_outputs(self, method: str, X: Any, **kwargs: Any) -> list[Any]:
        """Call ``member.<method>(X, **kwargs)`` on every member; list of K outputs."""
        self._require_fitted("members_")
        outs = []
        for m in self.members_:
            out = getattr(m, method)(X, **kwargs)
            outs.append(out.mean if isinstance(out, Prediction) else out)
        return outs

    def aggregate(self, method: str, X: Any, **kwargs: Any) -> Prediction | dict[str, Prediction]:
        """Mean and std over members of any method's output (array or dict of arrays)."""
        outs = self.member_outputs(method, X, **kwargs)
        if isinstance(outs[0], Mapping):
            return {k: _summarise(np.stack([np.asarray(o[k], dtype=float) for o in outs]))
                    for k in outs[0]}
        return _summarise(np.stack([np.asarray(o, dtype=float) for o in outs]))

    def predict(self, X: Any) -> Prediction:
        pred = self.aggregate("predict", X)
        assert isinstance(pred, Prediction)
        return pred

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        self._require_fitted("members_")
        members, tensors = [], {}
        for i, m in enumerate(self.members_):
            meta, ts = m._to_state()
            members.append({"class": type(m).__name__, **meta})
            tensors.update({f"member{i}.{k}": v for k, v in ts.items()})
        params = {"n_members": int(self.n_members), "random_state": int(self.random_state)}
        return {"params": params, "members": members}, tensors

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Ensemble:
        members = []
        for i, m_meta in enumerate(meta["members"]):
            m_cls = MODELS.get(m_meta.get("class", ""))
            if m_cls is None:
                raise ValueError(f"ensemble member class {m_meta.get('class')!r} is not known")
            members.append(m_cls._from_state(m_meta, prefixed(tensors, f"member{i}.")))
        obj = cls(clone(members[0]), **meta["params"])
        obj.members_ = members
        return obj


def calibration(pred: Prediction, y_true: np.ndarray) -> dict[str, float]:
    """Fraction of held-out errors inside ±1σ and ±2σ (≈0.683 and ≈0.954 if calibrated).

    Args:
        pred: a prediction with ``std``.
        y_true: true values, same shape as ``pred.mean``.
    """
    if pred.std is None:
        raise ValueError("calibration needs a prediction with std (use an Ensemble)")
    err = np.abs(np.asarray(y_true, dtype=float) - pred.mean)
    std = np.maximum(pred.std, 1e-300)
    return {
        "within_1sigma": float(np.mean(err <= std)),
        "within_2sigma": float(np.mean(err <= 2 * std)),
        "mean_std": float(np.mean(pred.std)),
        "rmse": float(np.sqrt(np.mean(err**2))),
    }
