"""``Campaign``: the coordinator loop — plan a round, enqueue it, wait for the workers, repeat.

Round 0 is the initial design; every later round trains the teacher on all completed trials,
screens the pool and enqueues the acquisition's batch (:mod:`._plan`). The loop keeps its
bookkeeping in the study's user attributes, written in an order that makes every step
idempotent:

1. ``round:NNN`` — the plan (batch, teacher predictions, time split) — is written *before*
   any of its trials is enqueued; a restarted coordinator that finds the plan enqueues only
   the batch members missing from the ledger, so a half-enqueued round is completed, never
   re-drawn;
2. the round is awaited until each of its candidates is COMPLETE or FAIL (stale trials are
   reaped and retried meanwhile);
3. ``round:NNN:done`` records evaluations, best so far and the top-k.

Stopping: the budget (simulations in all, initial design included), ``rounds`` (rounds in all,
round 0 included), or the top-k unchanged for ``stop_patience`` rounds.

Workers: the config's ``[executor]`` (:mod:`._executors`) starts them — local processes, a Dask
cluster, or SLURM/PBS jobs. With one local worker (the default) the coordinator simulates
in-process between its looks at the ledger; it does the same whenever every started worker
has gone (idle, killed), after restarting them once if they had been running a while.

Signals (:mod:`.._execution._signals`): the first SIGTERM/SIGINT lets the simulations in flight
finish and be told (the in-process one, or each worker's: they get one SIGTERM), then
:meth:`Campaign.run` raises :class:`CampaignInterrupted`; planning or an idle wait is simply
abandoned (nothing is lost: a plan is written before its trials, and a resumed run redoes
what was not written). A second signal stops at once: the simulation in flight is handed back
to the queue (told FAIL and re-enqueued, a bounded retry). Run again to resume.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from .._acquisition._functions import to_maximization_values
from .._config._campaign import CampaignConfig
from .._execution._signals import Interrupted, StopSignals
from .._execution._worker import Worker, make_worker
from .._ledger._keys import FINISHED_KEY, STOP_KEY, round_key
from .._ledger._ledger import Record
from .._ledger._session import Session, load_config, open_session
from ._plan import RoundPlan, plan_initial, plan_round

if TYPE_CHECKING:
    from .._execution._executors import Executor

__all__ = ["Campaign", "CampaignInterrupted", "round_key"]

logger = logging.getLogger(__name__)

#: seconds workers must have run before the coordinator restarts them when all have left
RESTART_AFTER = 60.0
#: seconds separate workers get to release their trials after a second stop signal
HARD_STOP_WAIT = 10.0


class CampaignInterrupted(BaseException):
    """A stop signal ended :meth:`Campaign.run` early; every simulation that finished is
    recorded and a later ``run()`` resumes. (A ``BaseException``, like ``KeyboardInterrupt``.)

    Attributes:
        simulations: simulations recorded in the study (completed or failed) when it stopped.
        signal: the first signal's name (``"SIGTERM"``, ``"SIGINT"``).
    """

    def __init__(self, simulations: int, signal: str) -> None:
        super().__init__(f"interrupted after {simulations} simulations; run again to resume")
        self.simulations = int(simulations)
        self.signal = signal



class Campaign:
    """A screening campaign driven from Python (``scout run`` does the same).

    Args:
        config: a :class:`CampaignConfig` (or use :meth:`from_toml`).
        heartbeat: ``(interval, grace)`` seconds for a new study's worker heartbeats.
        progress: show a progress bar while simulations run (a line per round goes to the
            ``active_learning`` logger at INFO; ``scout run`` shows it, ``-q`` hides it).
        poll: seconds between looks at the ledger while waiting for workers.
        executor: an :class:`~._executors.Executor` to start the workers with, instead of the
            one the config's ``[executor]`` section describes.
        check: check a new campaign (pool, simulator, options, storage) before its study is
            created (:func:`~._preflight.preflight`, what ``scout check`` prints).
        restart: start the study afresh when it exists but no simulation has completed
            (after a config change); refused when any has.

    Example::

        campaign = Campaign.from_toml("examples/molecules/campaign.toml")
        summary = campaign.run()        # resumable: run again after a kill
        summary["top"][:3]              # best candidates with their simulated values
    """

    def __init__(self, config: CampaignConfig, *, heartbeat: tuple[int, int] = (10, 30),
                 progress: bool = True, poll: float = 0.2, executor: Executor | None = None,
                 check: bool = True, restart: bool = False) -> None:
        self.config = load_config(config)
        self.heartbeat = heartbeat
        self.progress = progress
        self.poll = float(poll)
        self.executor = executor
        self.check = bool(check)
        self.restart = bool(restart)
        self._started = math.inf  # monotonic time the workers were last started
        self._worker: Worker | None = None

    @classmethod
    def from_toml(cls, path: str | os.PathLike, **kwargs: Any) -> Campaign:
        return cls(CampaignConfig.from_toml(path), **kwargs)

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run (or resume) the campaign to its end; returns :func:`summarize`'s dictionary.

        Raises:
            CampaignInterrupted: a SIGTERM/SIGINT stopped it (see the module docstring).
            ValueError: the config, pool, simulator or storage cannot run (checked before the
                study is created, so nothing is spent on a campaign that cannot run).
        """
        from .._report._status import summarize

        cfg = self.config
        signals = StopSignals()
        with signals.installed_handlers():
            try:
                with signals.mode("interruptible"):
                    session = self._open()
            except Interrupted:
                raise CampaignInterrupted(0, signals.name) from None
            ledger = session.ledger
            logger.info("campaign %s: pool %d, budget %d, storage %s", cfg.name,
                        len(session.pool), cfg.campaign.budget, cfg.redacted_storage)
            if ledger.attrs().get(FINISHED_KEY):
                logger.info("already finished (%s)", ledger.attrs().get(STOP_KEY))
                return summarize(session)
            try:
                self._loop(session, signals)
            except Interrupted:
                pass  # a signal abandoned planning or an idle wait: nothing was in flight
            finally:
                self._stop_workers(bool(ledger.attrs().get(FINISHED_KEY)), signals)
            if signals.requested and not ledger.attrs().get(FINISHED_KEY):
                told = sum(r.state in ("COMPLETE", "FAIL") for r in ledger.records().values())
                raise CampaignInterrupted(told, signals.name or "stop request")
        summary = summarize(session)
        logger.info("done: %s; %d evaluations, %d failed", ledger.attrs().get(STOP_KEY),
                    summary["evaluations"], summary["failed"])
        return summary

    def _open(self) -> Session:
        """Check a new campaign before its study exists (:func:`._preflight.preflight`), then
        open (or create) the study."""
        from ._preflight import preflight

        cfg = self.config
        if self.check:
            report = preflight(cfg, restart=self.restart)
            report.raise_for_problems()
            if report.study != "resume":
                for key, text in report.lines:
                    logger.info("%-8s %s", key, text)
        return open_session(cfg, create=True, heartbeat=self.heartbeat, restart=self.restart)

    def _loop(self, session: Session, signals: StopSignals) -> None:
        """Plan, enqueue and await rounds until a stop criterion (or a stop signal)."""
        ledger = session.ledger
        self._start_workers(session)
        r = 0
        while not signals.requested:
            attrs = ledger.attrs()
            if round_key(r, done=True) in attrs:
                r += 1
                continue
            if round_key(r) in attrs:
                plan = RoundPlan.from_attr(attrs[round_key(r)])
            else:
                records = ledger.records()
                reason = self._stop_reason(session, r, records, attrs)
                if reason:
                    ledger.set_attr(STOP_KEY, reason)
                    ledger.set_attr(FINISHED_KEY, True)
                    return
                with signals.mode("interruptible"):  # nothing written yet: safe to abandon
                    plan = self._plan(session, r, records)
                ledger.set_attr(round_key(r), plan.to_attr())
            self._enqueue(session, plan)
            records = self._wait(session, plan, signals)
            if records is None:
                return
            ledger.set_attr(round_key(r, done=True), self._round_summary(session, records))
            self._print_round(session, plan, records)
            r += 1

    def _stop_reason(self, session: Session, r: int, records: dict[int, Record],
                     attrs: dict[str, Any]) -> str:
        camp = self.config.campaign
        if len(records) >= camp.budget:
            return f"budget of {camp.budget} simulations spent"
        if camp.rounds is not None and r >= camp.rounds:
            return f"{camp.rounds} rounds done"
        if len(records) >= len(session.pool):
            return "every pool candidate evaluated"
        if camp.stop_patience is not None and r > camp.stop_patience:
            tops = [attrs[round_key(q, done=True)]["topk"] for q in range(r - camp.stop_patience - 1, r)]
            if all(sorted(t) == sorted(tops[-1]) for t in tops):
                return f"top-{camp.top_k} unchanged for {camp.stop_patience} rounds"
        return ""

    def _plan(self, session: Session, r: int, records: dict[int, Record]) -> RoundPlan:
        camp = self.config.campaign
        left = min(camp.budget - len(records), len(session.pool) - len(records))
        if r == 0:
            return plan_initial(session, min(camp.initial, left))
        return plan_round(session, r, records, min(camp.batch_size, left),
                          artifacts=self.config.artifacts_dir)

    def _enqueue(self, session: Session, plan: RoundPlan) -> None:
        """Enqueue the plan's candidates that have no trial yet (idempotent)."""
        ledger = session.ledger
        present = set(ledger.records())
        ids = session.pool.ids
        for i in plan.batch:
            if i not in present:
                ledger.enqueue(i, ids[i], plan.round)

    def _wait(self, session: Session, plan: RoundPlan, signals: StopSignals
              ) -> dict[int, Record] | None:
        """Until every candidate of the plan is COMPLETE or FAIL (``None`` when a stop signal
        came first); simulate in-process when there are no worker processes (or they all
        died)."""
        ledger = session.ledger
        bar = tqdm(total=len(plan.batch), desc=f"round {plan.round}", unit="sim",
                   disable=not self.progress, leave=False, file=sys.stderr)
        batch = set(plan.batch)
        try:
            while not signals.requested:
                # a cheap look (only the waiting and running trials), then the full records
                final = len(batch) - len(batch & ledger.pending())
                bar.update(final - bar.n)
                if final == len(batch):
                    records = ledger.records()
                    if all(records[i].state in ("COMPLETE", "FAIL") for i in batch):
                        return records  # (else a retry was being enqueued: look again)
                if not self._workers_alive():
                    if self._in_process(session, signals).run(drain=True).told:
                        continue  # progress made: look again at once
                ledger.reap_stale()
                with signals.mode("interruptible"):
                    time.sleep(self.poll)
            return None
        finally:
            bar.close()

    def _in_process(self, session: Session, signals: StopSignals) -> Worker:
        if self._worker is None or self._worker.signals is not signals:
            self._worker = make_worker(session, signals=signals)
        return self._worker

    # --- bookkeeping -------------------------------------------------------------------
    def _round_summary(self, session: Session, records: dict[int, Record]) -> dict[str, Any]:
        camp = self.config.campaign
        done = [r for r in records.values() if r.state == "COMPLETE"]
        failed = sum(r.state == "FAIL" for r in records.values())
        out: dict[str, Any] = {"evaluations": len(done), "failed": failed, "time": time.time(),
                               "best": None, "best_id": None, "topk": []}
        if done:
            score = to_maximization_values([r.value for r in done], camp.direction, camp.target)
            order = np.argsort(-score, kind="stable")
            out["best"] = done[int(order[0])].value
            out["best_id"] = done[int(order[0])].candidate_id
            out["topk"] = [done[int(j)].index for j in order[:camp.top_k]]
        return out

    def _print_round(self, session: Session, plan: RoundPlan, records: dict[int, Record]) -> None:
        s = session.ledger.attrs()[round_key(plan.round, done=True)]
        t = " ".join(f"{k} {v:.2f}s" for k, v in plan.times.items())
        best = "—" if s["best"] is None else f"{s['best']:.4g} ({s['best_id']})"
        logger.info("round %d: %d evaluations, %d failed, best %s | %s", plan.round,
                    s["evaluations"], s["failed"], best, t)

    # --- workers ----------------------------------------------------------------------
    def _start_workers(self, session: Session) -> None:
        """Start the workers the config's ``[executor]`` describes (none for one local
        worker: the coordinator simulates in-process)."""
        from .._execution._executors import make_executor, plugin_modules

        ex = self.config.executor
        if self.executor is None:
            if ex.kind == "local" and ex.n_workers <= 1:
                return
            self.executor = make_executor(ex, imports=plugin_modules(self.config))
        self.executor.start(self.config)
        self._started = time.monotonic()
        logger.info("started %d workers (%s)", self.executor.n_workers,
                    type(self.executor).__name__)

    def _workers_alive(self) -> bool:
        """Whether workers are running (or queued). Workers that all left after running a
        while (idle time-out, a node lost) are started once more; ones that die at once are
        not restarted, and the coordinator simulates in-process instead."""
        if self.executor is None:
            return False
        if self.executor.alive():
            return True
        if time.monotonic() - self._started > RESTART_AFTER:
            logger.warning("every worker has left; starting them again")
            self.executor.stop(finished=False, timeout=10.0)
            self.executor.start(self.config)
            self._started = time.monotonic()
            return True
        return False

    def _stop_workers(self, finished: bool, signals: StopSignals) -> None:
        """Finished: workers see the flag and exit. Stopped by a signal: each worker gets one
        SIGTERM and finishes its simulation (waited for without a limit); a second signal
        sends the second SIGTERM, which hands the simulations back, and waits
        :data:`HARD_STOP_WAIT` s. Otherwise (an error) stop them as after one signal, for at
        most a minute."""
        if self.executor is None:
            return
        if finished or not signals.requested:
            self.executor.stop(finished)
            return
        try:
            with signals.mode("stopping"):
                logger.warning("stopping: %d workers finish their simulations (a second signal "
                               "hands them back)", self.executor.n_workers)
                self.executor.stop(False, timeout=None)
        except Interrupted:
            self.executor.stop(False, timeout=HARD_STOP_WAIT)
