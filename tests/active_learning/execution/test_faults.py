"""Faults: simulator exceptions, NaN/inf, time-outs, a locked storage, SIGKILLed workers and
coordinators — each ends with the campaign complete and the ledger consistent."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from active_learning._cli._campaign import run_command, status_command
from active_learning._coordinator._campaign import Campaign
from active_learning._execution._timeout import TimeoutSimulator
from active_learning._execution._worker import Worker
from active_learning._ledger._session import open_session
from physics import make_simulator
from tests.active_learning import _sleep_sim


def _worker_for(cfg: Path, simulator) -> tuple[Worker, object]:
    session = open_session(cfg, create=True)
    pool = session.pool
    worker = Worker(session.ledger, lambda idx: pool.get(idx, "vector"), simulator, "y")
    return worker, session


def test_exceptions_nan_inf_and_time_out_are_failures_with_reasons(tmp_path):
    faults = {1: 1, 2: 2, 3: 3, 4: 4}  # raise, NaN, inf, hang
    cfg = _sleep_sim.write_config(tmp_path, n=6, seconds=0.01, faults=faults)
    sim = TimeoutSimulator(make_simulator("scout-test-sleep", seconds=0.01, hang=60.0), 1.5)
    worker, session = _worker_for(cfg, sim)
    for i in range(6):
        session.ledger.enqueue(i, session.pool.ids[i], 0)
    t0 = time.perf_counter()
    stats = worker.run(drain=True)
    assert time.perf_counter() - t0 < 40  # the hang was cut off, not waited for
    assert (stats.completed, stats.failed) == (2, 4)
    recs = session.ledger.records()
    X = session.pool.get(np.arange(6), "vector")
    assert recs[1].error.startswith("RuntimeError: injected simulator crash at x0=")
    assert recs[2].error == recs[3].error == "non-finite value for y"
    assert recs[4].error == "timed out after 1.5 s" and 1.5 <= recs[4].seconds < 5
    sim.teardown()
    assert sim._proc is None  # no child left behind
    for i in (0, 5):  # the child restarted after the time-out and simulates correctly
        assert recs[i].state == "COMPLETE" and recs[i].value == _sleep_sim.truth(*X[i, :2])
    assert {r.state for i, r in recs.items() if i in faults} == {"FAIL"}
    assert len(session.ledger.trials()) == 6  # failures are final: no retry of a bad candidate


def test_locked_sqlite_storage_is_waited_out(tmp_path):
    cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.01, budget=8, batch_size=4)
    db = tmp_path / "scaleout.db"
    Campaign.from_toml(cfg, progress=False)  # nothing yet; the campaign creates the study
    open_session(cfg, create=True)
    released = threading.Event()

    def hold_lock() -> None:  # another process's long write transaction
        con = sqlite3.connect(db, timeout=30)
        con.execute("BEGIN EXCLUSIVE")
        time.sleep(2.0)
        con.rollback()
        con.close()
        released.set()

    locker = threading.Thread(target=hold_lock)
    locker.start()
    time.sleep(0.2)
    summary = Campaign.from_toml(cfg, progress=False).run()
    locker.join()
    assert released.is_set()
    assert summary["finished"] and summary["evaluations"] == 8 and summary["failed"] == 0
    assert len({t["id"] for t in summary["trials"]}) == len(summary["trials"]) == 8


@pytest.mark.parametrize("n_kills, seconds, budget, min_kills",
                         [(3, 0.3, 12, 2), pytest.param(20, 1.5, 48, 20, marks=pytest.mark.slow)])
def test_random_sigkills_leave_every_candidate_once_and_the_same_result(tmp_path, n_kills,
                                                                        seconds, budget,
                                                                        min_kills):
    out = _sleep_sim.fault_injection_run(tmp_path, n_kills, seed=n_kills, seconds=seconds,
                                         budget=budget)
    # the quick campaign may finish before its third kill lands (then the run stops there)
    assert min_kills <= out["kills_worker"] + out["kills_coordinator"] <= n_kills
    assert out["kills_coordinator"] >= 1 and out["kills_worker"] >= 1
    assert out["same_as_uninterrupted"]  # same batches, same values, same rounds
    assert out["candidates"] == out["complete"] == budget and out["failed"] == 0
    assert out["duplicates"] == 0  # told exactly once each; kills cost only retries
    assert out["trials"] == budget + out["retries"]
    if out["kills_mid_simulation"]:  # a simulation killed mid-way is retried, not lost
        assert out["retries"] >= 1 and "worker lost (heartbeat stale)" in out["retry_reasons"]
    print(f"fault injection: {out}")


# --- security and bad input ---------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[3]


def test_no_shell_strings_anywhere_in_the_packages():
    """Subprocesses get argument lists, never a shell: no ``shell=True``, ``os.system`` or
    ``os.popen`` in the packages, so no candidate string can become a shell command."""
    pattern = re.compile(r"shell\s*=\s*True|os\.system\s*\(|os\.popen\s*\("
                         r"|(?<![.\w])eval\s*\(|(?<![.\w])exec\s*\(")
    offenders = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
                 for pkg in ("physics", "surrogates", "active_learning")
                 for f in sorted((ROOT / pkg).rglob("*.py"))
                 for n, line in enumerate(f.read_text().splitlines(), 1)
                 if pattern.search(line.split("#", 1)[0])]
    assert offenders == []


def _one_line_error(res) -> None:
    assert res.exit_code in (0, 2), (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    if res.exit_code == 2:
        lines = [ln for ln in res.output.split("\n") if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), res.output


_CELLS = st.one_of(st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True).map(str),
                   st.integers().map(str), st.sampled_from(["", "nan", "1e999", '"', ",", "\x00"]))


@pytest.fixture(scope="module")
def finished_campaign(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    cfg = _sleep_sim.write_config(folder, n=8, seconds=0.0, budget=4, batch_size=4)
    Campaign.from_toml(cfg, progress=False).run()
    return folder


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_pool_files_never_crash_scout_run_nor_touch_the_study(finished_campaign, data):
    folder = finished_campaign
    cfg = folder / "campaign.toml"
    before = _sleep_sim.ledger_view(cfg)
    pool = folder / "pool.csv"
    original = pool.read_bytes()
    lines = pool.read_text().splitlines()
    kind = data.draw(st.sampled_from(["cell", "drop", "dup", "bytes", "header"]))
    if kind == "cell":
        i = data.draw(st.integers(1, len(lines) - 1))
        cells = lines[i].split(",")
        cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(_CELLS)
        lines[i] = ",".join(cells)
    elif kind == "drop":
        del lines[data.draw(st.integers(1, len(lines) - 1))]
    elif kind == "dup":
        lines.append(lines[data.draw(st.integers(1, len(lines) - 1))])
    elif kind == "header":
        lines[0] = data.draw(st.text(max_size=20))
    try:
        if kind == "bytes":
            pool.write_bytes(data.draw(st.binary(max_size=200)))
        else:
            pool.write_text("\n".join(lines) + "\n")
        for command in (run_command, status_command):
            _one_line_error(CliRunner().invoke(command, [str(cfg), "--quiet"]
                                               if command is run_command else [str(cfg)]))
    finally:
        pool.write_bytes(original)
    # bad input never changes the ledger (read with the original pool: an edited pool file
    # changes the campaign's config hash, so the study cannot be opened against it)
    assert _sleep_sim.ledger_view(cfg) == before


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_config_files_give_one_line_errors(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzzcfg")
    cfg = _sleep_sim.write_config(folder, n=8, seconds=0.0, budget=4, batch_size=4)
    text = cfg.read_text()
    pos = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 12))
    insert = data.draw(st.text(alphabet=st.sampled_from('=[]"\'#\n-0123456789abz.:/\\ {}'),
                               max_size=12))
    cfg.write_text(text[:pos] + insert + text[pos + cut:])
    _one_line_error(CliRunner().invoke(status_command, [str(cfg)]))
    for db in folder.glob("*.db"):  # status never creates a study
        raise AssertionError(f"status created a study file {db.name}")
