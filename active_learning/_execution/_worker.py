"""Workers: stateless processes that pull enqueued trials from the ledger, simulate and tell.

A worker joins a campaign through its storage only. Loop: claim one WAITING trial
(:meth:`Ledger.pop`, atomic), beat a heartbeat while the simulator runs, tell the result,
repeat. It never creates a trial (no ``study.ask()``), so a candidate is only ever simulated
because the coordinator enqueued it, or as the bounded retry of a stale trial.

Signals (:mod:`._signals`): the first SIGTERM (or SIGINT) lets the current simulation finish
and be told, then the worker exits; a second one interrupts the simulation and *releases* the
trial (told FAIL and re-enqueued, bounded by ``max_retries``), so a scheduler's hard deadline
loses nothing. A coordinator that runs a worker in-process shares its :class:`StopSignals`
with it, so one signal stops both.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial

from physics import SimulationResult, Simulator

from .._ledger._keys import FINISHED_KEY
from .._ledger._ledger import Ledger
from ._signals import Interrupted, StopSignals

__all__ = ["FINISHED_KEY", "Worker", "WorkerStats", "make_worker", "run_worker"]

logger = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """What one worker did: trials told complete / failed / released, and why it stopped."""

    completed: int = 0
    failed: int = 0
    released: int = 0
    stop_reason: str = ""
    #: the stop signal's name (``"SIGTERM"``) when one ended the loop, else ``""``
    signal: str = ""

    @property
    def told(self) -> int:
        return self.completed + self.failed


class Worker:
    """Simulate the ledger's enqueued trials one at a time.

    Args:
        ledger: the campaign's :class:`Ledger`.
        candidates: ``indices -> list of simulator inputs`` (``pool.get(indices, "simulator")``).
        simulator: any :class:`physics.Simulator`.
        objective: the name of the simulator value told as the trial's objective.
        signals: the :class:`StopSignals` to obey (a coordinator passes its own); default a
            new one, installed while :meth:`run` runs in the main thread.
    """

    def __init__(self, ledger: Ledger, candidates: Callable[[list[int]], list[Any]],
                 simulator: Simulator, objective: str, signals: StopSignals | None = None
                 ) -> None:
        self.ledger = ledger
        self.candidates = candidates
        self.simulator = simulator
        self.objective = objective
        self.signals = signals if signals is not None else StopSignals()

    def request_stop(self) -> None:
        """Finish the current trial, then stop (what the first SIGTERM does)."""
        self.signals.request()

    # --- one trial -----------------------------------------------------------------------
    def simulate(self, trial: FrozenTrial) -> SimulationResult:
        """Run the simulator on the trial's candidate; any exception becomes a failure."""
        index = int(trial.user_attrs["index"])
        t0 = time.perf_counter()
        try:
            cand = self.candidates([index])[0]
            result = self.simulator.evaluate([cand])[0]
        except Interrupted:
            raise
        except Exception as exc:  # a mis-configured simulator or a pool read error
            return SimulationResult.failure(f"{type(exc).__name__}: {exc}",
                                            time.perf_counter() - t0)
        return result

    def tell(self, trial: FrozenTrial, result: SimulationResult) -> bool:
        """Record ``result`` for ``trial``; True when it completed with a finite objective."""
        if not result.ok:
            self.ledger.fail(trial, result.error or "unknown failure", result.seconds)
            return False
        value = result.value(self.objective)
        if not math.isfinite(value):
            have = ", ".join(sorted(result.values)) or "none"
            self.ledger.fail(trial, f"objective {self.objective!r} missing or not finite "
                                    f"(values: {have})", result.seconds)
            return False
        self.ledger.complete(trial, value, result.to_json()["values"], result.seconds)
        return True

    def process(self, trial: FrozenTrial, stats: WorkerStats) -> None:
        """Simulate a claimed trial under a heartbeat and tell it (or release it)."""
        try:
            with self.ledger.heartbeat_thread(trial), self.signals.mode("simulating"):
                result = self.simulate(trial)
        except Interrupted:
            self.ledger.release(trial, "worker stopped by a signal mid-simulation")
            stats.released += 1
            self.signals.request()
            logger.info("released trial %d (candidate %s) for another worker", trial.number,
                        trial.user_attrs.get("candidate_id"))
            return
        try:
            ok = self.tell(trial, result)
        except UpdateFinishedTrialError:
            # reaped as stale meanwhile (heartbeats lost, e.g. a storage outage): its retry
            # is already enqueued and will be told instead; nothing to record twice
            stats.released += 1
            return
        if ok:
            stats.completed += 1
        else:
            stats.failed += 1

    # --- the loop ------------------------------------------------------------------------
    def run(self, max_trials: int | None = None, idle_timeout: float | None = 60.0,
            poll: float = 0.2, drain: bool = False) -> WorkerStats:
        """Pull and simulate trials until told to stop.

        Args:
            max_trials: stop after this many trials (``None``: no limit).
            idle_timeout: stop after this many seconds without a waiting trial (``None``:
                wait for ever, until the campaign is marked finished).
            poll: seconds between looks at an empty queue.
            drain: stop as soon as the queue is empty (in-process use by the coordinator).

        Returns:
            counts of completed, failed and released trials, and the stop reason.
        """
        stats = WorkerStats()
        with self.signals.installed_handlers():
            self.simulator.setup()
            try:
                self._loop(stats, max_trials, idle_timeout, poll, drain)
            finally:
                self.simulator.teardown()
        return stats

    def _loop(self, stats: WorkerStats, max_trials: int | None, idle_timeout: float | None,
              poll: float, drain: bool) -> None:
        idle_since = time.monotonic()
        while True:
            if self.signals.requested:
                stats.signal = self.signals.name
                stats.stop_reason = f"stopped by {self.signals.name}" if self.signals.name \
                    else "stop requested"
                break
            if max_trials is not None and stats.told + stats.released >= max_trials:
                stats.stop_reason = "max_trials reached"
                break
            trial = self.ledger.pop()
            if trial is None:
                if drain:
                    stats.stop_reason = "queue empty"
                    break
                if self.ledger.attrs().get(FINISHED_KEY):
                    stats.stop_reason = "campaign finished"
                    break
                if idle_timeout is not None and time.monotonic() - idle_since > idle_timeout:
                    stats.stop_reason = f"idle for {idle_timeout:g} s"
                    break
                self.signals.event.wait(poll)
                continue
            self.process(trial, stats)
            idle_since = time.monotonic()


def make_worker(session: Any, signals: StopSignals | None = None) -> Worker:
    """The worker of an open campaign session: its pool, its simulator — run in a child
    process killed after ``[campaign] timeout`` seconds when one is set (a timed-out
    candidate is told FAIL, "timed out after N s") — and its objective. ``signals``: a
    coordinator's :class:`StopSignals` to share (default: the worker's own)."""
    from ._timeout import with_timeout

    cfg, pool = session.config, session.pool
    simulator = with_timeout(cfg.simulator.build(), cfg.campaign.timeout)
    return Worker(session.ledger, lambda idx: pool.get(idx, "simulator"), simulator,
                  cfg.campaign.objective, signals=signals)


def run_worker(config: Any, max_trials: int | None = None, idle_timeout: float | None = 60.0,
               wait_for_study: float = 60.0) -> WorkerStats:
    """Join a campaign through its storage and simulate enqueued trials (``scout worker``).

    Args:
        config: a ``CampaignConfig`` or the path of its TOML file.
        max_trials: stop after this many trials (``None``: no limit).
        idle_timeout: stop after this many seconds with nothing to do (``None``: only when
            the campaign is marked finished).
        wait_for_study: seconds to wait for the coordinator to create the study.

    Returns:
        the worker's :class:`WorkerStats`.
    """
    from .._ledger._session import load_config, open_session

    cfg = load_config(config)
    deadline = time.monotonic() + float(wait_for_study)
    waited = False
    while True:
        try:
            session = open_session(cfg, create=False)
            break
        except ValueError as exc:
            if "start it with" not in str(exc):
                raise  # a study of another config, an unreachable storage: refuse at once
            if time.monotonic() > deadline:
                raise ValueError(
                    f"{exc} (this worker waited {wait_for_study:g} s for it in storage "
                    f"{cfg.redacted_storage}; a worker must use its coordinator's storage: "
                    f"the same [campaign] storage or SCOUT_STORAGE)") from None
            if not waited:
                logger.info("waiting up to %g s for campaign %r to be started by `scout run` "
                            "in storage %s", wait_for_study, cfg.name, cfg.redacted_storage)
                waited = True
            time.sleep(1.0)
    logger.info("worker joined campaign %r (storage %s)", cfg.name, cfg.redacted_storage)
    return make_worker(session).run(max_trials=max_trials, idle_timeout=idle_timeout)
