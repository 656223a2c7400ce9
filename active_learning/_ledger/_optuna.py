"""Every use of Optuna's private internals, in one module, against a tested version range.

The ledger speaks Optuna's public storage API everywhere else. What it needs beyond that, and
why:

- :func:`trial_id` — ``FrozenTrial._trial_id``: storage calls take the storage's trial id, and
  a ``FrozenTrial`` exposes only its ``number`` publicly;
- :func:`waiting_trial_ids` and :func:`claimed_trial` — ``optuna.storages._rdb.models`` and
  ``_create_scoped_session``: on an RDB storage one indexed query of the WAITING ids, and
  three small reads of a claimed trial, instead of building every trial object per pop
  (``get_all_trials`` costs O(queue) per pop with eight workers);
- :func:`set_rdb_heartbeat` — ``RDBStorage.heartbeat_interval`` / ``grace_period``: a study
  keeps the heartbeat it was created with, so a re-opened storage adopts the stored values.

And one rename across the supported range: Optuna 4.9 renamed the stale-trial callback
argument of ``RDBStorage`` (``failed_trial_callback`` → ``heartbeat_stale_trial_callback``,
and its getter); :func:`rdb_storage` and :func:`stale_callback` use the installed version's
name.

Supported range: :data:`SUPPORTED` (the package's requirement; CI runs the ledger tests on the
lowest version and on the newest). An Optuna outside it gets one warning at import.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

import optuna
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

__all__ = ["SUPPORTED", "claimed_trial", "heartbeat_interval", "is_rdb", "rdb_storage",
           "record_heartbeat", "set_rdb_heartbeat", "stale_callback", "supported",
           "trial_id", "waiting_trial_ids"]

#: the Optuna versions the ledger is tested with: (lowest included, first excluded); 4.3 is
#: the first with ``optuna.exceptions.UpdateFinishedTrialError``
SUPPORTED = ((4, 3), (6, 0))

logger = logging.getLogger(__name__)


def _version_tuple(text: str) -> tuple[int, int]:
    """``"4.2.1"`` → ``(4, 2)``; ``"5.0.0rc1"`` → ``(5, 0)``."""
    major, minor = ([int(n) for n in re.findall(r"\d+", text)] + [0, 0])[:2]
    return major, minor


def supported(version: str = optuna.__version__) -> bool:
    """Whether ``version`` lies in :data:`SUPPORTED`."""
    return SUPPORTED[0] <= _version_tuple(version) < SUPPORTED[1]


if not supported():  # pragma: no cover - depends on the installed Optuna
    logger.warning("optuna %s is outside the range scoutlab is tested with (>=%d.%d,<%d.%d); "
                   "the ledger may fail", optuna.__version__, *SUPPORTED[0], *SUPPORTED[1])


#: Optuna >= 4.9 names the stale-trial callback ``heartbeat_stale_trial_callback``
_RENAMED_CALLBACK = _version_tuple(optuna.__version__) >= (4, 9)


def rdb_storage(url: str, engine_kwargs: dict[str, Any], heartbeat_interval: int,
                grace_period: int, callback: Any) -> RDBStorage:
    """An ``RDBStorage`` with Optuna's heartbeat and ``callback`` for stale trials."""
    name = "heartbeat_stale_trial_callback" if _RENAMED_CALLBACK else "failed_trial_callback"
    return RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                      grace_period=grace_period, **{name: callback})


def trial_id(trial: FrozenTrial) -> int:
    """The storage's id of ``trial`` (what every storage call takes)."""
    return int(trial._trial_id)


def is_rdb(storage: BaseStorage) -> bool:
    """True for an SQL (SQLite, PostgreSQL, MySQL) storage."""
    return isinstance(storage, RDBStorage)


def waiting_trial_ids(storage: RDBStorage, study_id: int) -> list[int]:
    """Ids of the study's WAITING trials, oldest first (one indexed query)."""
    from optuna.storages._rdb.models import TrialModel
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(storage.scoped_session) as session:
        rows = (session.query(TrialModel.trial_id)
                .filter(TrialModel.study_id == study_id,
                        TrialModel.state == TrialState.WAITING)
                .order_by(TrialModel.trial_id).all())
    return [int(r[0]) for r in rows]


def claimed_trial(storage: RDBStorage, trial_id_: int) -> FrozenTrial:
    """A trial just set RUNNING, as far as a worker needs it (number and attributes), from
    three small reads instead of ``get_trial``'s full object build."""
    from optuna.storages._rdb.models import (
        TrialModel,
        TrialSystemAttributeModel,
        TrialUserAttributeModel,
    )
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(storage.scoped_session) as session:
        number = session.query(TrialModel.number).filter(
            TrialModel.trial_id == trial_id_).one()[0]
        attrs = [{k: json.loads(v) for k, v in session.query(m.key, m.value_json)
                  .filter(m.trial_id == trial_id_).all()}
                 for m in (TrialUserAttributeModel, TrialSystemAttributeModel)]
    return FrozenTrial(number=int(number), state=TrialState.RUNNING, value=None,
                       datetime_start=datetime.now(), datetime_complete=None, params={},
                       distributions={}, user_attrs=attrs[0], system_attrs=attrs[1],
                       intermediate_values={}, trial_id=trial_id_)


def set_rdb_heartbeat(storage: RDBStorage, interval: int, grace: int) -> None:
    """Use ``interval`` s between beats and fail trials silent for ``grace`` s."""
    storage.heartbeat_interval = int(interval)
    storage.grace_period = int(grace)


def heartbeat_interval(storage: RDBStorage, default: int = 10) -> int:
    """Seconds between heartbeats of an RDB storage."""
    return int(storage.get_heartbeat_interval() or default)


def record_heartbeat(storage: RDBStorage, trial_id_: int) -> None:
    """Record that the worker of ``trial_id_`` is alive (Optuna's heartbeat table)."""
    storage.record_heartbeat(trial_id_)


def stale_callback(storage: RDBStorage) -> Any:
    """The storage's stale-trial callback (a no-op when it has none)."""
    getter = storage.get_heartbeat_stale_trial_callback if _RENAMED_CALLBACK \
        else storage.get_failed_trial_callback
    return getter() or (lambda study, trial: None)
