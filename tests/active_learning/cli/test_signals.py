"""``scout run`` stopped by signals, as a real subprocess: the first SIGTERM/SIGINT lets the
simulation in flight finish and be recorded, then exits with code 3 and one line; a second one
stops at once and hands the simulation back; a later run resumes to the end.

The judge is the sleep simulator of ``_sleep_sim`` (a candidate takes ``seconds``; each
process writes ``busy_<pid>`` while it sleeps, which is how the tests aim their signals).
Before the fix, one signal left the coordinator waiting at ``2/6`` for ever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from active_learning._ledger._session import open_session
from tests.active_learning import _sleep_sim

ROOT = Path(__file__).resolve().parents[3]
EXIT_INTERRUPTED = 3
LINE = "interrupted after {} simulations; run again to resume"


def _scout(*args: str, new_session: bool = False) -> subprocess.Popen:
    """``scout ARGS`` in a subprocess, with the test simulator registered (as a plug-in
    package would register it)."""
    code = ("import sys; import tests.active_learning._sleep_sim; "
            "from active_learning.cli import main; "
            f"sys.argv = ['scout', *{list(args)!r}]; main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=new_session)


def _config(tmp_path: Path, seconds: float, workers: int = 1) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    more = {"executor": {"kind": "local", "n_workers": workers}} if workers > 1 else None
    return _sleep_sim.write_config(tmp_path, n=12, seconds=seconds, budget=6, batch_size=2,
                                   log_dir=logs, more=more)


def _wait_busy(tmp_path: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until ``n`` processes are inside a simulation (their ``busy_`` files exist)."""
    deadline = time.monotonic() + timeout
    while len(list((tmp_path / "logs").glob("busy_*"))) < n:
        if proc.poll() is not None:
            raise AssertionError(f"scout run exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {n} simulations in flight after {timeout} s")
        time.sleep(0.05)


def _finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"scout run still running {timeout} s after the signal "
                             f"(the old hang); stderr: {err[-2000:]}") from None
    return proc.returncode, err


def _signal_twice(tmp_path: Path, cfg: Path, workers: int, sig: int, gap: float,
                  timeout: float) -> tuple[int, str, float]:
    """Start ``scout run``, signal it twice ``gap`` s apart once ``workers`` simulations are in
    flight; returns its exit code, stderr and the seconds it took after the first signal."""
    proc = _scout("run", str(cfg))
    _wait_busy(tmp_path, workers, proc)
    t0 = time.monotonic()
    proc.send_signal(sig)
    time.sleep(gap)
    proc.send_signal(sig)
    code, err = _finish(proc, timeout)
    return code, err, time.monotonic() - t0


def _trials(cfg: Path) -> Counter:
    session = open_session(cfg, load_pool=False)
    return Counter(t.state.name for t in session.ledger.trials())


def _told(cfg: Path) -> int:
    recs = open_session(cfg, load_pool=False).ledger.records().values()
    return sum(r.state in ("COMPLETE", "FAIL") for r in recs)


def _resume_to_the_end(cfg: Path) -> None:
    """A second ``scout run`` finishes the campaign: every candidate of the budget exactly
    once, none simulated twice to the end."""
    proc = _scout("-q", "run", str(cfg))
    code, err = _finish(proc, 180)
    assert code == 0, err
    recs = open_session(cfg, load_pool=False).ledger.records()
    assert sum(r.state == "COMPLETE" for r in recs.values()) == 6, recs
    counts = _sleep_sim.simulated(cfg.parent / "logs")
    assert max(counts.values()) == 1, counts


def test_first_sigterm_finishes_the_simulation_in_flight_then_exits_3(tmp_path):
    """One local worker (the coordinator simulates in-process): the issue's hang at 2/6."""
    cfg = _config(tmp_path, seconds=1.0)
    proc = _scout("run", str(cfg))
    _wait_busy(tmp_path, 1, proc)
    proc.send_signal(signal.SIGTERM)
    code, err = _finish(proc, 60)
    assert code == EXIT_INTERRUPTED, err
    n = _told(cfg)
    assert n >= 1 and err.strip().splitlines()[-1] == LINE.format(n)
    states = _trials(cfg)
    # the simulation in flight was finished and told (not released); nothing left running
    assert states["RUNNING"] == 0 and states["FAIL"] == 0 and states["COMPLETE"] == n
    assert not list((tmp_path / "logs").glob("busy_*"))
    _resume_to_the_end(cfg)


@pytest.mark.slow
def test_second_signal_stops_at_once_and_hands_the_simulation_back(tmp_path):
    cfg = _config(tmp_path, seconds=60.0)
    code, err, took = _signal_twice(tmp_path, cfg, 1, signal.SIGINT, 0.5, 30)
    assert took < 20  # not the 60 s the simulation would take
    # the released simulation is not a recorded one: its retry waits in the queue
    assert code == EXIT_INTERRUPTED and err.strip().splitlines()[-1] == LINE.format(0)
    session = open_session(cfg, load_pool=False)
    trials = sorted(session.ledger.trials(), key=lambda t: t.number)
    released = [t for t in trials if t.state.name == "FAIL"]
    assert len(released) == 1
    assert released[0].user_attrs["error"].startswith("released: worker stopped by a signal")
    retry = [t for t in trials if t.system_attrs.get("retry_history") == [released[0].number]]
    assert len(retry) == 1 and retry[0].state.name == "WAITING"


@pytest.mark.slow
def test_separate_workers_finish_their_simulations_on_one_ctrl_c(tmp_path):
    """Two local worker processes; Ctrl-C in a terminal reaches the whole process group: the
    workers (in their own group) get exactly one SIGTERM from the coordinator, finish and
    record their simulations, and nothing is handed back."""
    cfg = _config(tmp_path, seconds=2.0, workers=2)
    proc = _scout("run", str(cfg), new_session=True)
    _wait_busy(tmp_path, 2, proc)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    code, err = _finish(proc, 90)
    assert code == EXIT_INTERRUPTED, err
    states = _trials(cfg)
    assert states["FAIL"] == 0 and states["RUNNING"] == 0
    assert states["COMPLETE"] >= 2  # both simulations in flight were finished and told
    assert err.strip().splitlines()[-1] == LINE.format(_told(cfg))
    _resume_to_the_end(cfg)


@pytest.mark.slow
def test_separate_workers_hand_back_on_a_second_sigterm(tmp_path):
    cfg = _config(tmp_path, seconds=60.0, workers=2)
    code, err, took = _signal_twice(tmp_path, cfg, 2, signal.SIGTERM, 1.0, 45)
    assert took < 30
    assert code == EXIT_INTERRUPTED, err
    states = _trials(cfg)
    assert states["RUNNING"] == 0 and states["FAIL"] == 2 and states["WAITING"] >= 2
