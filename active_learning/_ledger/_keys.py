"""The names under which a campaign keeps its bookkeeping in the study: one table of keys.

Study user attributes (JSON values):

==============================  ====================================================================
``scout:config_hash``           what the campaign computes (:func:`._session.config_hash`);
                                written last when a study is set up, so it marks a complete set-up
``scout:config``                the config data that hash was taken of
                                (:func:`._session.config_snapshot`): a change names its keys
``scout:pool_size``             candidates in the pool when the campaign started
``scout:heartbeat``             ``[interval, grace]`` seconds shared by workers and the reaper
``scout:finished``              the coordinator is done; workers exit when they see it
``scout:stop_reason``           why the campaign stopped (budget, rounds, patience, …)
``scout:pool_failures``         ``{id: reason}`` of pool candidates whose needed form (a 3D
                                structure) could not be built before the first design
``round:NNN``                   round NNN's plan (:class:`~.._coordinator._plan.RoundPlan`)
``round:NNN:done``              round NNN's summary (evaluations, best, top-k)
``fidelity:NNNNNNNNN``          the cheap judge's result for pool index N
==============================  ====================================================================

Trial system attribute ``scout:heartbeat`` (same text, another namespace) — wall-clock seconds of the last heartbeat of a trial on
a journal storage (Optuna keeps its own heartbeat table for SQL storages).
"""

from __future__ import annotations

from typing import Any

__all__ = ["BEAT_TIME_KEY", "CONFIG_KEY", "FIDELITY_PREFIX", "FINISHED_KEY", "HASH_KEY",
           "HEARTBEAT_SETTINGS_KEY", "POOL_FAILURES_KEY", "POOL_SIZE_KEY", "STOP_KEY",
           "cheap_records",
           "fidelity_key", "round_key"]

HASH_KEY = "scout:config_hash"
CONFIG_KEY = "scout:config"
POOL_SIZE_KEY = "scout:pool_size"
#: study attribute: ``[interval, grace]`` in seconds
HEARTBEAT_SETTINGS_KEY = "scout:heartbeat"
FINISHED_KEY = "scout:finished"
STOP_KEY = "scout:stop_reason"
POOL_FAILURES_KEY = "scout:pool_failures"
#: prefix of a cached cheap (low-fidelity) result
FIDELITY_PREFIX = "fidelity:"
#: trial system attribute on a journal storage: time of the last heartbeat (s since the epoch)
BEAT_TIME_KEY = "scout:heartbeat"


def round_key(r: int, done: bool = False) -> str:
    """Study user attribute holding round ``r``'s plan (or its summary when ``done``)."""
    return f"round:{r:03d}" + (":done" if done else "")


def fidelity_key(index: int) -> str:
    """Study user attribute holding pool candidate ``index``'s cheap result."""
    return f"{FIDELITY_PREFIX}{int(index):09d}"


def cheap_records(attrs: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Pool index → cached cheap result (``value`` is ``None`` for a failure)."""
    n = len(FIDELITY_PREFIX)
    return {int(k[n:]): v for k, v in attrs.items() if k.startswith(FIDELITY_PREFIX)}
