"""The screening loop: pools, acquisition, the Optuna campaign, workers and the ``scout`` CLI.

Public names are re-exported here; modules starting with ``_`` are private.
"""

from ._acquisition import (
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
from ._batch import initial_design, select_batch
from ._config import CampaignConfig
from ._pool import Pool
from ._pool_designs import DesignPool
from ._pool_molecules import MoleculePool
from ._pool_sequences import SequencePool

#: names imported on first use, so ``import active_learning`` (and ``scout --help``) stays free
#: of torch; ``from active_learning import Campaign`` works as usual
_LAZY = {"Campaign": "._campaign", "PoolSampler": "._sampler", "run_worker": "._worker"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__: list[str] = [
    "ACQUISITIONS",
    "Campaign",
    "CampaignConfig",
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
