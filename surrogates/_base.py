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
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch
from sklearn.base import BaseEstimator

from physics._plugins import PluginRegistry

from ._io import load_model, register_model, write_model_file
from ._prediction import Prediction

__all__ = ["SURROGATES", "Surrogate", "register_surrogate"]

#: the kinds of input a surrogate reads; a pool hands candidates over in this form
INPUT_KINDS = ("atoms", "smiles", "sequence", "vector")


class Surrogate(BaseEstimator, ABC):
    """Base class: ``fit(X, y) -> self``, ``predict(X) -> Prediction``, ``save``/``load``.

    ``input_kind`` says what ``X`` holds: ``"atoms"`` (list of ``ase.Atoms``), ``"smiles"``
    (list of str, or Atoms carrying ``atoms.info["smiles"]``), ``"sequence"`` (list of str of
    equal length) or ``"vector"`` (an (n, d) array).
    """

    input_kind: ClassVar[str] = "vector"
    #: True when ``predict`` returns a posterior ``std`` by itself (a GP): no ensemble needed,
    #: and a campaign's ``[surrogate] ensemble`` defaults to 1 instead of 5
    native_std: ClassVar[bool] = False

    def _require_fitted(self, attribute: str) -> None:
        """Raise ``RuntimeError`` unless ``fit`` has set ``attribute``."""
        if not hasattr(self, attribute):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit() first")

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


def _adopt_surrogate(kind: str, obj: Any) -> None:
    """Register a class an entry point of ``scoutlab.surrogates`` names."""
    if not (isinstance(obj, type) and issubclass(obj, Surrogate)):
        raise TypeError(f"entry point {kind!r} names {obj!r}, not a Surrogate subclass")
    register_surrogate(kind)(obj)


#: registry of surrogate kinds (config ``[surrogate] kind``); the CLI's choices come from here.
#: Plug-ins join through the entry point group ``scoutlab.surrogates`` (``physics._plugins``).
SURROGATES: PluginRegistry = PluginRegistry("scoutlab.surrogates", "surrogate",
                                            _adopt_surrogate)


def register_surrogate(kind: str) -> Callable[[type[Surrogate]], type[Surrogate]]:
    """Class decorator: register ``cls`` under a config ``kind`` and as a loadable model."""

    def deco(cls: type[Surrogate]) -> type[Surrogate]:
        if cls.input_kind not in INPUT_KINDS:
            raise ValueError(f"{cls.__name__}.input_kind must be one of {INPUT_KINDS}")
        SURROGATES.add(kind, cls)
        return register_model(cls)

    return deco
