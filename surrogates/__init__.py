"""Learned models and their compression: surrogates that score candidates fast.

Public names are re-exported here; modules starting with ``_`` are private.
"""

from ._base import SURROGATES, Surrogate, register_surrogate
from ._baselines import CurveGP, CurveMLP, CurveRF
from ._ensemble import Ensemble, calibration
from ._gnn import EquivariantGNN
from ._hill_surrogate import HillSurrogate
from ._io import load_model
from ._prediction import Prediction

__all__ = [
    "SURROGATES",
    "CurveGP",
    "CurveMLP",
    "CurveRF",
    "Ensemble",
    "EquivariantGNN",
    "HillSurrogate",
    "Prediction",
    "Surrogate",
    "calibration",
    "load_model",
    "register_surrogate",
]
