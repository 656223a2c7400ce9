"""Workers: stateless processes that pull enqueued trials from the ledger, simulate and tell.

A worker joins a campaign through its storage only. Loop: claim one WAITING trial
(:meth:`Ledger.pop`, atomic), beat a heartbeat while the simulator runs, tell the result,
repeat. It never creates a trial (no ``study.ask()``), so a candidate is only ever simulated
because the coordinator enqueued it, or as the bounded retry of a stale trial.

Signals: the first SIGTERM (or SIGINT) lets the current simulation finish and be told, then
the worker exits; a second one interrupts the simulation and *releases* the trial (told FAIL
and re-enqueued, bounded by ``max_retries``), so a scheduler's hard deadline loses nothing.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial

from physics import SimulationResult, Simulator

from .._ledger._keys import FINISHED_KEY
from .._ledger._ledger import Ledger

__all__ = ["FINISHED_KEY", "Worker", "WorkerStats", "make_worker", "run_worker"]


class _Interrupted(BaseException):
    """Raised in the main thread by a second stop signal during a simulation (a BaseException,
    so the simulator's per-candidate ``except Exception`` does not swallow it)."""


@dataclass
class WorkerStats:
    """What one worker did: trials told complete / failed / released, and why it stopped."""

    completed: int = 0
    failed: int = 0
    released: int = 0
    stop_reason: str = ""

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
    """

    def __init__(self, ledger: Ledger, candidates: Callable[[list[int]], list[Any]],
                 simulator: Simulator, objective: str) -> None:
        self.ledger = ledger
        self.candidates = candidates
        self.simulator = simulator
        self.objective = objective
        self._stop = threading.Event()
        self._busy = False
        self._signals = 0

    def request_stop(self) -> None:
        """Finish the current trial, then stop (what the first SIGTERM does)."""
        self._stop.set()

    # --- one trial -----------------------------------------------------------------------
    def simulate(self, trial: FrozenTrial) -> SimulationResult:
        """Run the simulator on the trial's candidate; any exception becomes a failure."""
        index = int(trial.user_attrs["index"])
        t0 = time.perf_counter()
        try:
            cand = self.candidates([index])[0]
            result = self.simulator.evaluate([cand])[0]
        except _Interrupted:
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
        self._busy = True
        try:
            with self.ledger.heartbeat_thread(trial):
                result = self.simulate(trial)
        except _Interrupted:
            self.ledger.release(trial, "worker stopped by a signal mid-simulation")
            stats.released += 1
            self._stop.set()
            return
        finally:
            self._busy = False
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
        restore = self._install_signals()
        self.simulator.setup()
        try:
            idle_since = time.monotonic()
            while True:
                if self._stop.is_set():
                    stats.stop_reason = "stop requested"
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
                    self._stop.wait(poll)
                    continue
                self.process(trial, stats)
                idle_since = time.monotonic()
        finally:
            self.simulator.teardown()
            restore()
        return stats

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: Any) -> None:
            self._signals += 1
            self._stop.set()
            if self._busy and self._signals >= 2:
                raise _Interrupted(signal.Signals(signum).name)

        old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for s, h in old.items():
                signal.signal(s, h)

        return restore


def make_worker(session: Any) -> Worker:
    """The worker of an open campaign session: its pool, its simulator — run in a child
    process killed after ``[campaign] timeout`` seconds when one is set (a timed-out
    candidate is told FAIL, "timed out after N s") — and its objective."""
    from ._timeout import with_timeout

    cfg, pool = session.config, session.pool
    simulator = with_timeout(cfg.simulator.build(), cfg.campaign.timeout)
    return Worker(session.ledger, lambda idx: pool.get(idx, "simulator"), simulator,
                  cfg.campaign.objective)


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
    while True:
        try:
            session = open_session(cfg, create=False)
            break
        except ValueError as exc:
            if "start it with" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(1.0)
    return make_worker(session).run(max_trials=max_trials, idle_timeout=idle_timeout)
