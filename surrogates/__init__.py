"""Learned models and their compression: surrogates that score candidates fast.

Public names are re-exported here; modules starting with ``_`` are private.
"""

from ._base import SURROGATES, Surrogate, register_surrogate
from ._compress import Screener, distill, prune, quantize
from ._dose_response._baselines import CurveGP, CurveMLP, CurveRF
from ._dose_response._hill_surrogate import HillSurrogate
from ._ensemble import Ensemble, calibration
from ._gnn import EquivariantGNN
from ._gp._molecule_gp import MoleculeGP
from ._io import load_model
from ._mlp._fingerprint import FingerprintSurrogate, MLPSurrogate
from ._prediction import Prediction

__all__ = [
    "SURROGATES",
    "CurveGP",
    "CurveMLP",
    "CurveRF",
    "Ensemble",
    "EquivariantGNN",
    "FingerprintSurrogate",
    "HillSurrogate",
    "MLPSurrogate",
    "MoleculeGP",
    "Prediction",
    "Screener",
    "Surrogate",
    "calibration",
    "distill",
    "load_model",
    "prune",
    "quantize",
    "register_surrogate",
]
