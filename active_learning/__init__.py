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
from ._config import CampaignConfig

__all__: list[str] = [
    "ACQUISITIONS",
    "CampaignConfig",
    "acquisition_scores",
    "ei",
    "greedy",
    "pi",
    "register_acquisition",
    "thompson",
    "to_maximization",
    "to_maximization_values",
    "ucb",
]
