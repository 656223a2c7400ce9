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
from ._mwc import (
    OPERATOR_ENERGIES,
    mwc_ec50,
    mwc_effective_hill,
    mwc_fold_change,
    mwc_leakiness,
    mwc_saturation,
)
from ._sensor import AllostericSensor

__all__ = [
    "OPERATOR_ENERGIES",
    "SIMULATORS",
    "AllostericSensor",
    "CandidateError",
    "HillParams",
    "SimulationError",
    "SimulationResult",
    "Simulator",
    "fit_hill",
    "hill",
    "make_simulator",
    "mwc_ec50",
    "mwc_effective_hill",
    "mwc_fold_change",
    "mwc_leakiness",
    "mwc_saturation",
    "register_simulator",
    "resolve_device",
]
