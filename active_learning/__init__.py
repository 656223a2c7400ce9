"""The screening loop: pools, acquisition, the Optuna campaign, workers and the ``scout`` CLI.

Public names are re-exported here; modules starting with ``_`` are private.
"""

__all__: list[str] = []
