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

__all__: list[str] = [
    "ACQUISITIONS",
    "CampaignConfig",
    "DesignPool",
    "MoleculePool",
    "Pool",
    "SequencePool",
    "acquisition_scores",
    "ei",
    "greedy",
    "initial_design",
    "pi",
    "register_acquisition",
    "select_batch",
    "thompson",
    "to_maximization",
    "to_maximization_values",
    "ucb",
]
