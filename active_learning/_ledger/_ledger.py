"""The campaign ledger: one Optuna study per campaign, used as record, work queue and resume point.

Each simulation is one trial. The coordinator enqueues a trial per chosen candidate with
``user_attrs = {"candidate_id", "round", "index"}``; a worker pops it, records the pool index as
the trial parameter ``index`` (an ``IntDistribution(0, pool_size - 1)``, never a categorical of
ids), simulates and tells: the objective value via ``study.tell``, every simulator value
(``result.to_json()["values"]``, what retraining needs) and the cost in seconds as user
attributes. A failed simulation is told ``FAIL`` with ``user_attrs["error"]``.

Storages (SQLite, PostgreSQL, a journal file), retries and redaction: :mod:`._storage`;
the few Optuna internals the ledger needs: :mod:`._optuna`; study attribute keys: :mod:`._keys`.

Race-free pop. ``study.ask()`` pops a waiting trial when there is one and otherwise *samples a
new one*; a worker must never create unenqueued trials, so workers never call ``ask()``. They
call :meth:`Ledger.pop`, which lists WAITING trials and tries the storage's compare-and-set
``set_trial_state_values(id, RUNNING)`` on each: RDBStorage reads the row ``FOR UPDATE``
(SQLite serialises writers) and returns ``False`` unless the row is still WAITING; the journal
storage decides by log order and answers ``True`` only to the process whose RUNNING record
came first. Exactly one process wins a trial; the others move on to the next.
"""

from __future__ import annotations

import math
import random
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import IntDistribution
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from . import _optuna
from ._keys import BEAT_TIME_KEY
from ._optuna import trial_id
from ._storage import (
    _HeartbeatJournal,
    journal_path,
    make_storage,
    reading,
    redact_url,
    retrying,
)

#: storage helpers re-exported: ``from ._ledger import make_storage`` keeps working
__all__ = ["Ledger", "Record", "journal_path", "make_storage", "reading", "redact_url",
           "retrying"]

STALE_REASON = "worker lost (heartbeat stale)"


@dataclass(frozen=True)
class Record:
    """The current state of one candidate in the ledger (its latest trial).

    ``value`` is the objective told for a COMPLETE trial (``nan`` otherwise); ``values`` every
    simulator value; ``retries`` how many earlier trials of this candidate went stale.
    """

    index: int
    candidate_id: str
    round: int
    state: str
    value: float
    error: str | None
    number: int
    retries: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    seconds: float = math.nan


def _index_of(t: FrozenTrial) -> int | None:
    idx = t.user_attrs.get("index", t.params.get("index"))
    return None if idx is None else int(idx)


class Ledger:
    """One campaign's study: enqueue, pop, tell, and the per-candidate view of the trials.

    Args:
        storage: a storage from :func:`make_storage`.
        name: the study name (the campaign name); created when absent, loaded otherwise.
        pool_size: number of candidates (upper bound of the ``index`` distribution).
        direction: ``"minimize"`` or ``"maximize"`` (Optuna's; a target window is minimised
            as a distance elsewhere, the raw objective is what the trials hold).
    """

    def __init__(self, storage: BaseStorage, name: str, pool_size: int,
                 direction: str = "minimize") -> None:
        if direction not in ("minimize", "maximize"):
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        self.storage = storage
        self.name = name
        self.pool_size = int(pool_size)
        self.study = retrying(optuna.create_study, storage=storage, study_name=name,
                              direction=direction, load_if_exists=True,
                              sampler=optuna.samplers.RandomSampler(seed=0))
        self.study_id = retrying(storage.get_study_id_from_name, name)
        self._rng = random.Random()  # claim order only (see pop); seeded from the OS

    @property
    def distribution(self) -> IntDistribution:
        """The ``index`` parameter's distribution: every pool index."""
        return IntDistribution(0, max(self.pool_size - 1, 0))

    # --- study attributes -----------------------------------------------------------------
    def attrs(self) -> dict[str, Any]:
        """The study's user attributes (config hash, pool size, round bookkeeping)."""
        return reading(self.storage.get_study_user_attrs, self.study_id)

    def set_attr(self, key: str, value: Any) -> None:
        retrying(self.storage.set_study_user_attr, self.study_id, key, value)

    def name_objective(self, name: str) -> None:
        """Give the study's objective its name (``study.set_metric_names``), so
        optuna-dashboard shows ``gap`` instead of "Objective 0"."""
        with warnings.catch_warnings():  # experimental in Optuna 4.x
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retrying(self.study.set_metric_names, [str(name)])

    # --- the queue ------------------------------------------------------------------------
    def trials(self, states: Iterable[TrialState] | None = None) -> list[FrozenTrial]:
        st = tuple(states) if states is not None else None
        return reading(self.storage.get_all_trials, self.study_id, deepcopy=False, states=st)

    def enqueue(self, index: int, candidate_id: str, round_: int) -> None:
        """Add a WAITING trial for pool ``index`` (the caller checks it is not already there)."""
        if not 0 <= int(index) < self.pool_size:
            raise ValueError(f"pool index {index} is outside 0..{self.pool_size - 1}")
        attrs = {"candidate_id": str(candidate_id), "round": int(round_), "index": int(index)}
        retrying(self.study.enqueue_trial, {"index": int(index)}, user_attrs=attrs)

    def _waiting_ids(self) -> list[int]:
        """Trial ids of the WAITING trials, oldest first. On an RDB storage one indexed
        query of ids (building every waiting trial, as ``get_all_trials`` does, costs
        O(queue) per pop); the journal storage holds its trials in memory anyway."""
        if not _optuna.is_rdb(self.storage):
            return [trial_id(t) for t in self.trials((TrialState.WAITING,))]
        return reading(_optuna.waiting_trial_ids, self.storage, self.study_id)

    def pop(self) -> FrozenTrial | None:
        """Atomically claim one WAITING trial (now RUNNING) or return ``None`` if none waits.

        Each process tries the waiting trials in its own random order: workers that all went
        for the oldest one would lose compare-and-set after compare-and-set to each other
        (every try is a write transaction); which worker simulates which candidate does not
        change any result."""
        ids = self._waiting_ids()
        self._rng.shuffle(ids)
        for tid in ids:
            try:
                won = retrying(self.storage.set_trial_state_values, tid,
                               state=TrialState.RUNNING)
            except UpdateFinishedTrialError:
                continue
            if won:
                self.heartbeat(tid)
                t = self._claimed(tid)
                index = _index_of(t)
                retrying(self.storage.set_trial_param, tid, "index", float(index),
                         self.distribution)
                t.distributions = {"index": self.distribution}  # as stored (no re-read)
                t.params = {"index": index}
                return t
        return None

    def _claimed(self, tid: int) -> FrozenTrial:
        """The trial just claimed, as far as a worker needs it (number, attributes)."""
        if not _optuna.is_rdb(self.storage):
            return reading(self.storage.get_trial, tid)
        return reading(_optuna.claimed_trial, self.storage, tid)

    def _finish(self, trial: FrozenTrial, state: TrialState, value: float | None,
                attrs: dict[str, Any]) -> None:
        """Write ``attrs`` to the trial, then set its final state (straight on the storage:
        ``study.tell`` re-reads the trial twice; a trial finished meanwhile — reaped as
        stale — raises ``UpdateFinishedTrialError``)."""
        for key, val in attrs.items():
            retrying(self.storage.set_trial_user_attr, trial_id(trial), key, val)
        retrying(self.storage.set_trial_state_values, trial_id(trial), state,
                 None if value is None else [float(value)])

    def complete(self, trial: FrozenTrial, value: float, values: dict[str, Any],
                 seconds: float) -> None:
        """Tell a finished simulation: objective ``value`` plus all ``values`` and the cost."""
        if not math.isfinite(float(value)):
            raise ValueError(f"trial {trial.number}: objective {value} is not finite")
        self._finish(trial, TrialState.COMPLETE, value,
                     {"values": values, "seconds": float(seconds)})

    def fail(self, trial: FrozenTrial, error: str, seconds: float = 0.0) -> None:
        """Tell a failed simulation, keeping its reason in ``user_attrs["error"]``."""
        self._finish(trial, TrialState.FAIL, None,
                     {"error": str(error), "seconds": float(seconds)})

    def pending(self) -> set[int]:
        """Pool indices with a WAITING or RUNNING trial (cheap: reads only those trials)."""
        return {i for t in self.trials((TrialState.WAITING, TrialState.RUNNING))
                if (i := _index_of(t)) is not None}

    def release(self, trial: FrozenTrial, reason: str) -> None:
        """Give a claimed trial back (worker stopping): fail it and enqueue a bounded retry."""
        self.fail(trial, f"released: {reason}")
        self._stale_callback()(self.study, retrying(self.storage.get_trial, trial_id(trial)))

    # --- heartbeats -----------------------------------------------------------------------
    def _journal(self) -> _HeartbeatJournal | None:
        return self.storage if isinstance(self.storage, _HeartbeatJournal) else None

    def _stale_callback(self) -> Callable[[optuna.Study, FrozenTrial], None]:
        jh = self._journal()
        if jh is not None:
            return jh.scout_callback
        return _optuna.stale_callback(self.storage)

    def set_heartbeat(self, interval: int, grace: int) -> None:
        """Use ``interval`` s between beats and fail trials silent for ``grace`` s."""
        if not 1 <= int(interval) < int(grace):
            raise ValueError(f"heartbeat needs 1 <= interval < grace, got {interval}, {grace}")
        jh = self._journal()
        if jh is not None:
            jh.scout_heartbeat_interval, jh.scout_grace_period = int(interval), int(grace)
        else:
            _optuna.set_rdb_heartbeat(self.storage, int(interval), int(grace))

    @property
    def heartbeat_interval(self) -> int:
        jh = self._journal()
        if jh is not None:
            return jh.scout_heartbeat_interval
        return _optuna.heartbeat_interval(self.storage)

    def heartbeat(self, tid: int) -> None:
        """Record that the worker simulating trial id ``tid`` is alive."""
        if self._journal() is not None:
            retrying(self.storage.set_trial_system_attr, tid, BEAT_TIME_KEY, time.time())
        else:
            retrying(_optuna.record_heartbeat, self.storage, tid)

    def heartbeat_thread(self, trial: FrozenTrial) -> _Heartbeat:
        """Context manager beating for ``trial`` while its simulation runs."""
        return _Heartbeat(self, trial_id(trial))

    def reap_stale(self) -> int:
        """Fail RUNNING trials whose worker stopped beating; re-enqueue them (bounded).

        Returns the number of trials failed now.
        """
        jh = self._journal()
        if jh is None:
            before = len(self.trials((TrialState.FAIL,)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                retrying(fail_stale_trials, self.study)
            return len(self.trials((TrialState.FAIL,))) - before
        grace, callback = jh.scout_grace_period, jh.scout_callback
        now, n = time.time(), 0
        for t in self.trials((TrialState.RUNNING,)):
            started = t.datetime_start.timestamp() if t.datetime_start else now
            last = max(float(t.system_attrs.get(BEAT_TIME_KEY, 0.0)), started)
            if now - last <= grace:
                continue
            try:
                retrying(self.storage.set_trial_state_values, trial_id(t), state=TrialState.FAIL)
            except UpdateFinishedTrialError:
                continue
            callback(self.study, retrying(self.storage.get_trial, trial_id(t)))
            n += 1
        return n

    # --- the per-candidate view -----------------------------------------------------------
    def records(self) -> dict[int, Record]:
        """Pool index → the candidate's current :class:`Record` (its latest trial)."""
        by_index: dict[int, list[FrozenTrial]] = {}
        for t in sorted(self.trials(), key=lambda t: t.number):
            idx = _index_of(t)
            if idx is not None:
                by_index.setdefault(idx, []).append(t)
        out = {}
        for idx, ts in by_index.items():
            t = ts[-1]
            error = None
            if t.state == TrialState.FAIL:
                error = t.user_attrs.get("error", STALE_REASON)
            value = float(t.value) if t.state == TrialState.COMPLETE and t.value is not None \
                else math.nan
            out[idx] = Record(index=idx, candidate_id=str(t.user_attrs.get("candidate_id", idx)),
                              round=int(t.user_attrs.get("round", -1)), state=t.state.name,
                              value=value, error=error, number=t.number, retries=len(ts) - 1,
                              values=dict(t.user_attrs.get("values", {})),
                              seconds=float(t.user_attrs.get("seconds", math.nan)))
        return out


class _Heartbeat:
    """Context manager: a daemon thread beating for one trial every ``heartbeat_interval`` s."""

    def __init__(self, ledger: Ledger, tid: int) -> None:
        self._ledger, self._tid = ledger, tid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._ledger.heartbeat_interval):
            try:
                self._ledger.heartbeat(self._tid)
            except Exception:  # a missed beat is not fatal; the next one may succeed
                pass

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
