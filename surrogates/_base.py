"""``Surrogate``: the scikit-learn-style base of every learned model.

Rules (scikit-learn's): ``__init__`` stores its arguments unchanged; validation happens in
``fit``; learned attributes end in ``_``; ``fit`` returns ``self``; ``predict`` returns a
:class:`~surrogates.Prediction`. Then ``get_params``, ``sklearn.base.clone`` and Optuna search
spaces over the constructor arguments work for free.

Persistence: a subclass implements ``_to_state() -> (meta, tensors)`` (JSON-ready dict, named
tensors) and the classmethod ``_from_state(meta, tensors)``; :meth:`save`/:meth:`load` put them
in one safetensors file (``surrogates._io``) that loads without executing code.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch
from sklearn.base import BaseEstimator

from ._io import load_model, write_model_file
from ._prediction import Prediction

__all__ = ["Surrogate"]


class Surrogate(BaseEstimator, ABC):
    """Base class: ``fit(X, y) -> self``, ``predict(X) -> Prediction``, ``save``/``load``."""

    @abstractmethod
    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> Surrogate:
        """Learn from inputs ``X`` and labels ``y``; return ``self``."""

    @abstractmethod
    def predict(self, X: Any) -> Prediction:
        """Predict the configured target for each item of ``X``."""

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Surrogate:
        raise NotImplementedError(f"{cls.__name__} cannot be loaded")

    def save(self, path: str | os.PathLike) -> Path:
        """Write config and weights to one file (safetensors + JSON header)."""
        meta, tensors = self._to_state()
        return write_model_file(path, {"class": type(self).__name__, **meta}, tensors)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Surrogate:
        """Load a model saved by :meth:`save`; never executes code from the file."""
        obj = load_model(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{str(path)!r} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj
