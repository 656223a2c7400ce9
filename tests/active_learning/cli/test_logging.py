"""The library logs and changes no global state at import; the CLI decides what reaches the
terminal (-v/-q) and the log file (--log-file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from active_learning.cli import main
from tests.active_learning import _fakes

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_packages_changes_no_global_state():
    """Before: importing the storage module silenced the user's Optuna logs, and the report
    module set the matplotlib backend."""
    code = """
import logging, optuna, matplotlib
optuna.logging.set_verbosity(logging.DEBUG)
backend = dict.__getitem__(matplotlib.rcParams, "backend")
handlers = list(logging.getLogger().handlers)
import active_learning, physics, surrogates
import active_learning._ledger._storage, active_learning._report._html
import active_learning._report._export, active_learning._coordinator._campaign
import active_learning._cli._campaign, active_learning._cli._compress, active_learning.cli
assert optuna.logging.get_verbosity() == logging.DEBUG, optuna.logging.get_verbosity()
assert dict.__getitem__(matplotlib.rcParams, "backend") == backend
assert "matplotlib.pyplot" not in __import__("sys").modules
assert logging.getLogger().handlers == handlers
for name in ("active_learning", "physics", "surrogates"):
    assert not logging.getLogger(name).handlers, name
print("clean")
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0 and "clean" in res.stdout, res.stderr[-2000:]


def test_quiet_terminal_and_a_full_log_file(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=8, batch_size=4, initial=4)
    log = tmp_path / "run.log"
    res = CliRunner().invoke(main, ["-q", "--log-file", str(log), "run", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "round 0:" not in res.stderr  # -q: only warnings reach the terminal
    text = log.read_text()
    assert "INFO active_learning._coordinator._campaign: round 0: 4 evaluations" in text
    assert "round 1:" in text and "done: budget of 8 simulations spent" in text
    res = CliRunner().invoke(main, ["status", str(cfg)])  # a second command: no doubled lines
    assert res.exit_code == 0


def test_default_terminal_shows_the_rounds_and_the_plan(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=8, batch_size=4, initial=4)
    res = CliRunner().invoke(main, ["run", str(cfg), "--quiet"])
    assert res.exit_code == 0
    assert res.stderr.count("round 1: 8 evaluations") == 1  # exactly once, not duplicated
    assert "plan     round 0: 4 candidates" in res.stderr
