"""Multi-fidelity rounds: the cheap judge pre-screens, its results are cached in the study,
and a restarted coordinator never pays for a cheap calculation twice."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from active_learning._coordinator._campaign import Campaign
from active_learning._ledger._keys import round_key
from active_learning._ledger._session import open_session
from tests.active_learning import _fidelity_fakes as ff

ROOT = Path(__file__).resolve().parents[3]


def _cheap(cfg: Path) -> dict[int, dict]:
    """The cheap ledger as plain dicts: ``value`` is ``None`` for a failure."""
    recs = open_session(cfg, load_pool=False).cheap.records()
    return {i: {"id": r.candidate_id, "value": r.value if r.ok else None, "error": r.error,
                "values": r.values} for i, r in recs.items()}


def _calls(folder: Path) -> list[str]:
    log = folder / "cheaplog" / "calls.log"
    return log.read_text().split() if log.exists() else []


def test_batch_is_the_best_of_the_cheaply_prescreened_set(tmp_path):
    # one model round; use_as_feature = false and greedy: the expensive batch must be the 4
    # best cheap values among the 12 pre-screened candidates
    cfg = ff.write_config(tmp_path, budget=12, initial=8, batch_size=4, per_round=12,
                          use_as_feature=False)
    Campaign.from_toml(cfg, progress=False).run()
    session = open_session(cfg)
    attrs = session.ledger.attrs()
    plan = attrs[round_key(1)]
    cheap = _cheap(cfg)
    ok = {i: r["value"] for i, r in cheap.items() if r["value"] is not None}
    failed = {i for i, r in cheap.items() if r["value"] is None}
    # no training pairs are needed without Δ-learning: only the pre-screen was paid for
    assert plan["fidelity"]["prescreened"] == len(ok) == 12
    assert plan["fidelity"]["cheap_calls"] == len(cheap) == 12 + len(failed)
    assert all("no value for id" in cheap[i]["error"] for i in failed)
    best4 = sorted(ok, key=lambda i: -ok[i])[:4]
    assert sorted(plan["batch"]) == sorted(best4)
    # each cheap calculation ran once, and the parity values are the cheap ones
    assert Counter(_calls(tmp_path)).most_common(1)[0][1] == 1
    assert sorted(plan["mean"], reverse=True) == pytest.approx(sorted(ok[i] for i in best4)[::-1])


def test_delta_learning_finds_the_peak_with_few_expensive_calls(tmp_path):
    cfg = ff.write_config(tmp_path, budget=20, initial=8, batch_size=4, per_round=16)
    summary = Campaign.from_toml(cfg, progress=False).run()
    _, _, truth, _ = ff.write_tables(tmp_path)
    best_true = max(truth.values())
    # 20 expensive calls of 300 find a candidate within 2 % of the landscape's maximum
    assert summary["best"]["value"] >= 0.98 * best_true, summary["best"]
    cheap = _cheap(cfg)
    # the Δ model needs the initial design's cheap values: every expensive candidate has one
    done = [t for t in summary["trials"] if t["state"] == "COMPLETE"]
    ids = {r["id"] for r in cheap.values()}
    assert all(t["id"] in ids for t in done)
    # every model-round pick was pre-screened (it has a finite cheap value)
    picked = [t["id"] for t in done if t["round"] > 0]
    ok_ids = {r["id"] for r in cheap.values() if r["value"] is not None}
    assert set(picked) <= ok_ids
    calls = _calls(tmp_path)
    assert len(calls) == len(set(calls)) == len(cheap)
    fid = summary["fidelity"]  # what `scout status` reports
    assert fid["evaluations"] == len(ok_ids) and fid["failed"] == len(cheap) - len(ok_ids)
    from active_learning._report._html import write_report

    page = write_report(open_session(cfg), tmp_path / "report")
    assert (tmp_path / "report" / "fidelity_parity.png").stat().st_size > 1000
    assert "fidelity_parity.png" in page.read_text()


def test_a_cheap_judge_that_always_fails_is_recorded_and_the_teacher_decides(tmp_path):
    cfg = ff.write_config(tmp_path, budget=12, initial=8, batch_size=4, per_round=6,
                          use_as_feature=False, cheap_missing=1.0)
    summary = Campaign.from_toml(cfg, progress=False).run()
    assert summary["evaluations"] == 12  # the campaign went on without its pre-screen
    attrs = open_session(cfg, load_pool=False).ledger.attrs()
    cheap = _cheap(cfg)
    # per round at most 2 x per_round cheap attempts, each recorded with its reason
    assert len(cheap) == 12 == attrs[round_key(1)]["fidelity"]["cheap_calls"]
    assert all(r["value"] is None and "no value for id" in r["error"] for r in cheap.values())
    assert attrs[round_key(1)]["fidelity"]["prescreened"] == 0
    assert (summary["fidelity"]["evaluations"], summary["fidelity"]["failed"]) == (0, 12)
    assert len(_calls(tmp_path)) == 12


def _run_in_subprocess(cfg: Path) -> subprocess.Popen:
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "import tests.active_learning._fakes, tests.active_learning._fidelity_fakes; "
            "from active_learning._coordinator._campaign import Campaign; "
            f"Campaign.from_toml({str(cfg)!r}, progress=False).run()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


@pytest.mark.slow
def test_killed_inside_the_prescreen_resumes_without_repeating_cheap_calls(tmp_path):
    ref, run = tmp_path / "ref", tmp_path / "run"
    ref.mkdir()
    run.mkdir()
    kw = dict(budget=16, initial=8, batch_size=4, per_round=12, sleep=0.1)
    Campaign.from_toml(ff.write_config(ref, **kw), progress=False).run()
    cfg = ff.write_config(run, **kw)
    proc = _run_in_subprocess(cfg)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # kill once round 1's pre-screen is partly paid for
        time.sleep(0.05)
        n = len(_calls(run))
        if 8 + 3 <= n < 8 + 12:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < len(_calls(run)) < len(_calls(ref)), "the kill missed the pre-screen"
    Campaign.from_toml(cfg, progress=False).run()
    calls = _calls(run)
    # at most the one call in flight at the kill is paid twice (its result was never stored)
    assert len(calls) - len(set(calls)) <= 1
    assert sorted(set(calls)) == sorted(set(_calls(ref)))

    def view(c: Path) -> list[tuple]:
        recs = open_session(c, load_pool=False).ledger.records()
        return sorted((r.candidate_id, r.round, r.state,
                       None if math.isnan(r.value) else round(r.value, 12))
                      for r in recs.values())

    assert view(cfg) == view(ref / "campaign.toml")
    a, b = (_cheap(c) for c in (cfg, ref / "campaign.toml"))
    assert {i: r["value"] for i, r in a.items()} == {i: r["value"] for i, r in b.items()}
    assert np.isfinite([r["value"] for r in a.values() if r["value"] is not None]).all()
