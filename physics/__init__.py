"""Ground truth and physical priors: simulators, the Hill equation, molecule building.

Public names are re-exported here; modules starting with ``_`` are private.
"""

from ._ase_sim import ASESimulator
from ._base import (
    INPUT_KINDS,
    SIMULATORS,
    TARGETS,
    CandidateError,
    SimulationError,
    SimulationResult,
    Simulator,
    TargetInfo,
    make_simulator,
    register_simulator,
)
from ._device import resolve_device
from ._dft import DFT
from ._hill import HillParams, fit_hill, hill
from ._lookup import LookupSimulator
from ._molecules import read_structures, smiles_to_atoms, to_atoms, write_structures
from ._mwc import (
    OPERATOR_ENERGIES,
    mwc_ec50,
    mwc_effective_hill,
    mwc_fold_change,
    mwc_leakiness,
    mwc_saturation,
)
from ._sensor import AllostericSensor
from ._xtb import XTB

__all__ = [
    "DFT",
    "INPUT_KINDS",
    "OPERATOR_ENERGIES",
    "SIMULATORS",
    "TARGETS",
    "XTB",
    "ASESimulator",
    "AllostericSensor",
    "CandidateError",
    "HillParams",
    "LookupSimulator",
    "SimulationError",
    "SimulationResult",
    "Simulator",
    "TargetInfo",
    "fit_hill",
    "hill",
    "make_simulator",
    "mwc_ec50",
    "mwc_effective_hill",
    "mwc_fold_change",
    "mwc_leakiness",
    "mwc_saturation",
    "read_structures",
    "register_simulator",
    "resolve_device",
    "smiles_to_atoms",
    "to_atoms",
    "write_structures",
]
