"""Ground truth and physical priors: simulators, the Hill equation, molecule building.

Public names are re-exported here; modules starting with ``_`` are private.
"""

from ._base import (
    SIMULATORS,
    CandidateError,
    SimulationError,
    SimulationResult,
    Simulator,
    make_simulator,
    register_simulator,
)
from ._device import resolve_device
from ._hill import HillParams, fit_hill, hill

__all__ = [
    "SIMULATORS",
    "CandidateError",
    "HillParams",
    "SimulationError",
    "SimulationResult",
    "Simulator",
    "fit_hill",
    "hill",
    "make_simulator",
    "register_simulator",
    "resolve_device",
]
