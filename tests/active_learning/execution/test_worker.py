"""Workers: many processes on one SQLite study, exactly once; SIGTERM; in-process Worker."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter

import pytest
from optuna.trial import TrialState

from active_learning._execution._worker import Worker
from active_learning._ledger._keys import FINISHED_KEY
from active_learning._ledger._session import open_session
from tests.active_learning import _fakes


def _enqueue_all(cfg, n: int):
    session = open_session(cfg, create=True, heartbeat=(1, 5))
    for i in range(n):
        session.ledger.enqueue(i, session.pool.ids[i], 0)
    return session


def test_in_process_worker_tells_values_and_failures(tmp_path):
    cfg = _fakes.write_config(tmp_path, fail_fraction=0.3)
    session = _enqueue_all(cfg, 12)
    sim = session.config.simulator.build()
    stats = Worker(session.ledger, lambda idx: session.pool.get(idx, "simulator"), sim, "y") \
        .run(drain=True)
    assert stats.told == 12 and stats.stop_reason == "queue empty"
    recs = session.ledger.records()
    for rec in recs.values():
        x = session.pool.get([rec.index], "vector")[0]
        if _fakes.fails(x, 0.3):
            assert rec.state == "FAIL" and rec.error.startswith("synthetic failure")
        else:
            assert rec.value == pytest.approx(float(_fakes.landscape(x)[0]))
            assert rec.values["x"] == pytest.approx(list(x))
    assert stats.failed == sum(r.state == "FAIL" for r in recs.values()) > 0


def test_missing_objective_is_a_failure_with_reason(tmp_path):
    cfg = _fakes.write_config(tmp_path)
    session = _enqueue_all(cfg, 2)
    sim = session.config.simulator.build()
    Worker(session.ledger, lambda idx: session.pool.get(idx, "simulator"), sim, "gap") \
        .run(drain=True)
    errors = {r.error for r in session.ledger.records().values()}
    assert errors == {"objective 'gap' missing or not finite (values: x, y)"}


@pytest.mark.slow
def test_four_worker_processes_each_candidate_exactly_once(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    n, sleep = 32, 0.3
    cfg = _fakes.write_config(tmp_path, sleep=sleep, log_dir=str(logs))
    session = _enqueue_all(cfg, n)
    session.ledger.set_attr(FINISHED_KEY, True)  # workers exit once the queue is empty
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_fakes.worker_entry, args=(str(cfg),)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    trials = session.ledger.trials()
    assert len(trials) == n and all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.user_attrs["index"] for t in trials) == list(range(n))
    simulated = [line for f in logs.iterdir() for line in f.read_text().splitlines()]
    assert len(simulated) == n and len(set(simulated)) == n  # nobody simulated twice
    assert len(list(logs.iterdir())) >= 2  # the work was shared
    span = (max(t.datetime_complete for t in trials)
            - min(t.datetime_start for t in trials)).total_seconds()
    assert span < 0.6 * n * sleep, span  # one worker needs n * sleep = 9.6 s


@pytest.mark.slow
def test_sigterm_finishes_the_current_trial_then_exits(tmp_path):
    cfg = _fakes.write_config(tmp_path, sleep=3.0)
    session = _enqueue_all(cfg, 3)
    proc = mp.get_context("spawn").Process(target=_fakes.worker_entry, args=(str(cfg),))
    proc.start()
    deadline = time.monotonic() + 90
    while not session.ledger.trials((TrialState.RUNNING,)) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.terminate()  # SIGTERM mid-simulation
    proc.join(timeout=30)
    assert proc.exitcode == 0
    states = Counter(t.state for t in session.ledger.trials())
    assert states == {TrialState.COMPLETE: 1, TrialState.WAITING: 2}


@pytest.mark.slow
def test_second_sigterm_releases_the_trial_for_a_retry(tmp_path):
    cfg = _fakes.write_config(tmp_path, sleep=20.0)
    session = _enqueue_all(cfg, 1)
    proc = mp.get_context("spawn").Process(target=_fakes.worker_entry, args=(str(cfg),))
    proc.start()
    deadline = time.monotonic() + 90
    while not session.ledger.trials((TrialState.RUNNING,)) and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.terminate()
    time.sleep(0.5)
    proc.terminate()
    proc.join(timeout=30)
    assert proc.exitcode == 0
    trials = sorted(session.ledger.trials(), key=lambda t: t.number)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[0].user_attrs["error"].startswith("released: worker stopped by a signal")
    assert trials[1].user_attrs["index"] == trials[0].user_attrs["index"]
    # the retry is Optuna's bounded one, pointing back at the released trial
    assert trials[1].system_attrs["retry_history"] == [trials[0].number]
    assert trials[1].system_attrs["failed_trial"] == trials[0].number
    assert "error" not in trials[1].user_attrs  # a clean copy: no stale reason carried over
