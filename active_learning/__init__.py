"""The screening loop: pools, acquisition, the Optuna campaign, workers and the ``scout`` CLI.

Public names are re-exported here; modules starting with ``_`` are private.
"""

from ._acquisition._batch import initial_design, select_batch
from ._acquisition._functions import (
    ACQUISITION_OPTIONS,
    ACQUISITIONS,
    acquisition_scores,
    ei,
    greedy,
    pi,
    register_acquisition,
    thompson,
    to_maximization,
    to_maximization_values,
    ucb,
)
from ._config._campaign import CampaignConfig
from ._pool._base import Pool
from ._pool._designs import DesignPool
from ._pool._molecules import MoleculePool
from ._pool._sequences import SequencePool

#: names imported on first use, so ``import active_learning`` (and ``scout --help``) stays free
#: of torch; ``from active_learning import Campaign`` works as usual
_LAZY = {"Campaign": "._coordinator._campaign",
         "CampaignInterrupted": "._coordinator._campaign",
         "PoolSampler": "._coordinator._sampler",
         "run_worker": "._execution._worker"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__: list[str] = [
    "ACQUISITIONS",
    "ACQUISITION_OPTIONS",
    "Campaign",
    "CampaignConfig",
    "CampaignInterrupted",
    "DesignPool",
    "MoleculePool",
    "Pool",
    "PoolSampler",
    "SequencePool",
    "acquisition_scores",
    "ei",
    "greedy",
    "initial_design",
    "pi",
    "register_acquisition",
    "run_worker",
    "select_batch",
    "thompson",
    "to_maximization",
    "to_maximization_values",
    "ucb",
]
