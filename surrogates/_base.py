"""``Surrogate``: the scikit-learn-style base of every learned model.

Rules (scikit-learn's): ``__init__`` stores its arguments unchanged; validation happens in
``fit``; learned attributes end in ``_``; ``fit`` returns ``self``; ``predict`` returns a
:class:`~surrogates.Prediction`. Then ``get_params``, ``sklearn.base.clone`` and Optuna search
spaces over the constructor arguments work for free.

Declared, not sniffed: a subclass states at class level what it reads (``input_kind``), what
``fit`` learns from (``fits``: values or dose-response curves), whether it has a posterior
spread of its own (``native_std``) and how compression may shrink it (``compression``, a
:class:`Compression`). The campaign loop, the config and compression read these
declarations; nothing branches on ``hasattr`` or ``inspect``.

Persistence: a subclass implements ``_to_state() -> (meta, tensors)`` (JSON-ready dict, named
tensors) and the classmethod ``_from_state(meta, tensors)``; :meth:`save`/:meth:`load` put them
in one safetensors file (``surrogates._io``) that loads without executing code.

A model used before ``fit`` raises scikit-learn's ``NotFittedError`` (a ``ValueError``), one
exception type for every surrogate.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from physics._plugins import PluginRegistry, constructor_option_types, constructor_options

from ._io import Saveable, register_model
from ._prediction import Prediction

__all__ = ["FITS", "INPUT_KINDS", "SURROGATES", "Compression", "NotFittedError", "Surrogate",
           "register_surrogate"]

#: the kinds of input a surrogate reads; a pool hands candidates over in this form
INPUT_KINDS = ("atoms", "smiles", "sequence", "vector")
#: what ``fit`` learns from: ``"values"`` — ``fit(X, y)`` with y (n,) or (n, k);
#: ``"curves"`` — ``fit(X, responses, doses, sigma=None)`` with responses (n, n_doses)
FITS = ("values", "curves")
#: where the default value of a renamed parameter says "not given" (scikit-learn's convention)
DEPRECATED = "deprecated"


@dataclass(frozen=True)
class Compression:
    """How compression treats a surrogate class (declared once, read by ``surrogates._compress``).

    Attributes:
        student: how the model learns from a teacher when it is the student —
            ``"features"`` (an MLP on precomputed features, with per-row weights and an
            optional std output), ``"structures"`` (a model of ``ase.Atoms``: the teacher's
            values, and forces for energy models; labelled structures repeated to carry
            weight), ``"curves"`` (a curve model: the teacher's curves on a dose grid) or
            ``"values"`` (``fit(X, teacher mean)``).
        prune: what :func:`~surrogates.prune` removes — ``"mlp_units"`` (hidden units of
            the ``net_`` MLP), ``"epistatic_units"`` (hidden units of the epistatic MLP of a
            Hill network), ``"irrep_channels"`` (irrep channels of an e3nn network) or
            ``None`` (not prunable).
        quantize: ``"mlp"`` when :func:`~surrogates.quantize` can make the ``net_`` MLP int8.
        sample_weight: ``fit`` takes ``sample_weight=`` (per-row weights).
        default_student: the student :meth:`Screener.from_teacher` distils a teacher of this
            class into when none is given — ``"fingerprint"`` (Morgan-count MLP on SMILES),
            ``"mlp"`` (vector MLP), ``"half"`` (the same model with half the hidden units) or
            ``None`` (the user must choose).
    """

    student: str = "values"
    prune: str | None = None
    quantize: str | None = None
    sample_weight: bool = False
    default_student: str | None = None


class Surrogate(Saveable, BaseEstimator, ABC):
    """Base class: ``fit(X, y) -> self``, ``predict(X) -> Prediction``, ``save``/``load``.

    ``input_kind`` says what ``X`` holds: ``"atoms"`` (list of ``ase.Atoms``), ``"smiles"``
    (list of str, or Atoms carrying ``atoms.info["smiles"]``), ``"sequence"`` (list of str of
    equal length) or ``"vector"`` (an (n, d) array).
    """

    input_kind: ClassVar[str] = "vector"
    #: what ``fit`` learns from, one of :data:`FITS`
    fits: ClassVar[str] = "values"
    #: True when ``predict`` returns a posterior ``std`` by itself (a GP): no ensemble needed,
    #: and a campaign's ``[surrogate] ensemble`` defaults to 1 instead of 5
    native_std: ClassVar[bool] = False
    #: how distillation, pruning and quantisation treat this class
    compression: ClassVar[Compression] = Compression()
    #: constructor options a campaign fills from the whole candidate pool before the first
    #: fit, unless the config sets them (``("elements",)``: every element of the pool)
    pool_options: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def option_names(cls) -> tuple[frozenset[str], bool]:
        """Constructor parameters (what a config table may set), and whether ``**kwargs``."""
        return constructor_options(cls)

    @classmethod
    def option_types(cls) -> dict[str, Any]:
        """The type each parameter must have (a config checks its values against them); by
        default the constructor's annotations. Override to declare them otherwise."""
        return constructor_option_types(cls)

    def is_fitted(self, attribute: str) -> bool:
        """Whether ``fit`` (or ``load``) has set the learned ``attribute``."""
        return attribute in vars(self)

    def _require_fitted(self, attribute: str) -> None:
        """Raise ``NotFittedError`` unless ``fit`` has set ``attribute``."""
        if not self.is_fitted(attribute):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() "
                                 "first")

    def _renamed(self, new: str, old: str) -> Any:
        """The value of parameter ``new``, or of its deprecated old name ``old`` when that was
        given (with a ``FutureWarning``; the old name goes in the next release)."""
        value = getattr(self, old)
        if isinstance(value, str) and value == DEPRECATED:
            return getattr(self, new)
        warnings.warn(f"{type(self).__name__}({old}=...) is deprecated; use {new}=",
                      FutureWarning, stacklevel=3)
        return value

    def training_log(self) -> list[dict[str, Any]]:
        """One dict per training epoch (the learned ``history_``); empty for a model that is
        not trained by epochs, or not fitted."""
        return list(vars(self).get("history_", []))

    def stopped_by_time(self) -> bool:
        """True when a wall-clock (or CPU-time) safety cap, not the epoch budget, ended the
        last fit: the model then depends on the machine's speed and load."""
        return any(row.get("stopped_by") == "max_time" for row in self.training_log())

    def predicts_forces(self) -> bool:
        """True when this (fitted) model gives forces −∂E/∂x through ``predict_forces``."""
        return False

    @abstractmethod
    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> Surrogate:
        """Learn from inputs ``X`` and labels ``y``; return ``self``."""

    @abstractmethod
    def predict(self, X: Any) -> Prediction:
        """Predict the configured target for each item of ``X``."""

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
        if cls.fits not in FITS:
            raise ValueError(f"{cls.__name__}.fits must be one of {FITS}")
        SURROGATES.add(kind, cls)
        return register_model(cls)

    return deco
