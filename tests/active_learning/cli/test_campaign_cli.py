"""``scout run/status/report/worker`` invoked as click objects; PoolSampler with study.optimize."""

from __future__ import annotations

import json

import numpy as np
import optuna
from click.testing import CliRunner

from active_learning import PoolSampler
from active_learning._cli._campaign import (
    report_command,
    run_command,
    status_command,
    worker_command,
)
from surrogates import Ensemble
from tests.active_learning import _fakes


def test_run_status_report_end_to_end(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=16, batch_size=4, initial=8, fail_fraction=0.2)
    runner = CliRunner()
    res = runner.invoke(run_command, [str(cfg), "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(status_command, [str(cfg), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["evaluations"] + data["failed"] == 16 and data["rounds"] == 3
    assert {t["state"] for t in data["trials"]} <= {"COMPLETE", "FAIL"}
    assert all(set(t) >= {"id", "value", "state"} for t in data["trials"])
    best = max(t["value"] for t in data["trials"] if t["state"] == "COMPLETE")
    assert data["best"]["value"] == best  # maximise
    res = runner.invoke(status_command, [str(cfg)])
    assert res.exit_code == 0 and "top" in res.output and data["best"]["id"] in res.output
    out = tmp_path / "report"
    res = runner.invoke(report_command, [str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("parity_round_001.png", "learning_curve.png", "best_so_far.png", "index.html"):
        assert (out / name).is_file(), name
    assert "parity_round_002.png" in (out / "index.html").read_text()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    runner = CliRunner()
    res = runner.invoke(run_command, [str(tmp_path / "missing.toml")])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    cfg = _fakes.write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[campaign]", "[campaign]\nbogus = 1"))
    res = runner.invoke(run_command, [str(cfg)])
    assert res.exit_code == 2 and "unknown key campaign.bogus" in res.output
    cfg = _fakes.write_config(tmp_path)  # valid, but never run
    res = runner.invoke(status_command, [str(cfg)])
    assert res.exit_code == 2 and "has not started" in res.output
    res = runner.invoke(worker_command, [str(tmp_path / "nope.toml")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_pool_sampler_with_plain_study_optimize():
    X = np.random.default_rng(0).uniform(0, 1, (300, 2))
    y = _fakes.landscape(X)
    sampler = PoolSampler(X, Ensemble(_fakes.RFFRidge(), 4, random_state=0),
                          n_startup_trials=5, acquisition="ucb", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: float(y[t.suggest_int("index", 0, len(X) - 1)]), n_trials=25)
    picked = [t.params["index"] for t in study.trials]
    assert len(set(picked)) == 25  # never the same candidate twice
    top10 = set(np.argsort(-y)[:10].tolist())
    assert len(top10 & set(picked)) >= 4  # random finds 25/300 * 10 ≈ 0.8 of them
