"""The SLURM example (``examples/slurm/``) run as written, on a local stand-in for SLURM.

A fake ``sbatch`` on ``PATH`` runs each batch script with bash in the background, as SLURM would
on a node (``SLURM_*`` variables set, an array as one process per task). The scripts find
``scout`` only by activating ``SCOUT_ENV`` (this test's virtualenv is not on ``PATH``); the
storage is chosen once by ``submit.sh`` and reaches the coordinator and every worker; a worker
started on another storage waits, then refuses with one line and exit code 2.

The campaign is a cheap real one: a lookup table judges 24 design vectors, an MLP is the scout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from active_learning._ledger._session import open_session

ROOT = Path(__file__).resolve().parents[3]
SLURM = ROOT / "examples" / "slurm"

FAKE_SBATCH = r"""#!/bin/bash
# stand-in for SLURM's sbatch: run the batch script here, in the background
array=""; parsable=0
while [ $# -gt 0 ]; do
  case "$1" in
    --array=*) array="${1#--array=}" ;;
    --parsable) parsable=1 ;;
    --*) ;;
    *) break ;;
  esac
  shift
done
script="$1"; shift
job=$(( $(ls "$FAKE_SLURM_DIR" | grep -c '^job-') + 100 ))
run() {  # $1: array task id or "-", then the script's arguments
  local task=$1; shift
  ( export SLURM_JOB_ID=$job SLURM_SUBMIT_DIR="$PWD" SLURM_CPUS_PER_TASK=1
    if [ "$task" != "-" ]; then export SLURM_ARRAY_JOB_ID=$job SLURM_ARRAY_TASK_ID=$task; fi
    bash "$script" "$@" > "$FAKE_SLURM_DIR/job-$job-$task.log" 2>&1
    echo $? > "$FAKE_SLURM_DIR/rc-$job-$task" ) &
}
if [ -n "$array" ]; then
  for i in $(seq "${array%-*}" "${array#*-}"); do run "$i" "$@"; done
else
  run - "$@"
fi
if [ $parsable = 1 ]; then echo "$job"; else echo "Submitted batch job $job"; fi
"""


def _campaign(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (24, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    rows = [f"v{i:02d},{a:.6f},{b:.6f},{v:.6f}" for i, ((a, b), v) in enumerate(zip(X, y))]
    (folder / "table.csv").write_text("id,x0,x1,y\n" + "\n".join(rows) + "\n")
    cfg = folder / "campaign.toml"
    cfg.write_text(
        '[campaign]\nname = "slurmdemo"\nobjective = "y"\ndirection = "maximize"\n'
        'budget = 12\nbatch_size = 4\ninitial = 4\nseed = 0\n'
        '[pool]\nkind = "designs"\npath = "table.csv"\nid_column = "id"\n'
        'feature_columns = ["x0", "x1"]\n'
        '[simulator]\nkind = "lookup"\npath = "table.csv"\nvalue_column = "y"\n'
        '[surrogate]\nkind = "mlp"\nensemble = 2\nhidden = [8]\nepochs = 20\n')
    return cfg


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    (fake / "sbatch").write_text(FAKE_SBATCH)
    (fake / "sbatch").chmod(0o755)
    (tmp_path / "slurm").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCOUT_", "VIRTUAL_ENV"))}
    # the virtualenv's bin is NOT on PATH: the scripts must activate SCOUT_ENV to find scout
    env.update({"PATH": f"{fake}:/usr/local/bin:/usr/bin:/bin", "SCOUT_ENV": sys.prefix,
                "FAKE_SLURM_DIR": str(tmp_path / "slurm"), "OMP_NUM_THREADS": "1", **extra})
    return env


def _wait_jobs(folder: Path, n: int, timeout: float = 300) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("rc-*"))) < n:
        if time.monotonic() > deadline:
            logs = {p.name: p.read_text()[-800:] for p in folder.glob("job-*.log")}
            raise AssertionError(f"jobs did not finish in {timeout} s: {logs}")
        time.sleep(0.2)
    return {p.name[3:]: int(p.read_text()) for p in folder.glob("rc-*")}


@pytest.mark.slow
@pytest.mark.skipif(not Path(sys.prefix, "bin", "activate").is_file(),
                    reason="needs a virtualenv with bin/activate (make test makes .venv)")
def test_submit_runs_the_coordinator_and_workers_on_one_storage(tmp_path, monkeypatch):
    cfg = _campaign(tmp_path)
    env = _env(tmp_path)
    res = subprocess.run(["bash", str(SLURM / "submit.sh"), str(cfg), "2"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ok: the campaign can run" in res.stdout  # scout check ran before queueing
    assert "storage: a journal file beside the config" in res.stdout
    codes = _wait_jobs(tmp_path / "slurm", 3)
    logs = {p.name: p.read_text() for p in (tmp_path / "slurm").glob("job-*.log")}
    assert all(c == 0 for c in codes.values()), (codes, logs)
    workers = [t for name, t in logs.items() if not name.endswith("--.log")]
    assert len(workers) == 2
    assert all("(campaign finished)" in t for t in workers), workers  # they joined its study
    # the storage chosen once: the journal beside the config holds the finished campaign
    journal = tmp_path / "campaign.journal"
    assert journal.is_file() and not (tmp_path / "slurmdemo.db").exists()
    monkeypatch.setenv("SCOUT_STORAGE", f"journal:///{journal}")
    records = open_session(cfg, load_pool=False).ledger.records()
    assert sum(r.state == "COMPLETE" for r in records.values()) == 12


@pytest.mark.skipif(not Path(sys.prefix, "bin", "activate").is_file(),
                    reason="needs a virtualenv with bin/activate (make test makes .venv)")
def test_a_worker_on_another_storage_is_refused_with_one_line(tmp_path):
    cfg = _campaign(tmp_path)
    env = _env(tmp_path, SCOUT_STORAGE=f"journal:///{tmp_path / 'elsewhere.journal'}",
               SCOUT_WAIT_FOR_STUDY="1")
    res = subprocess.run(["sbatch", "--array=0-0", str(SLURM / "scout_workers.sbatch"),
                          str(cfg)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    codes = _wait_jobs(tmp_path / "slurm", 1, timeout=120)
    log = next((tmp_path / "slurm").glob("job-*.log")).read_text().strip().splitlines()
    assert list(codes.values()) == [2], log
    errors = [line for line in log if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(log)
    assert "campaign 'slurmdemo'" in errors[0] and "coordinator's storage" in errors[0]


def test_the_scripts_refuse_a_missing_environment(tmp_path):
    cfg = _campaign(tmp_path)
    env = _env(tmp_path, SCOUT_ENV=str(tmp_path / "no-venv"))
    res = subprocess.run(["bash", str(SLURM / "submit.sh"), str(cfg)], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 2 and "no Python environment at SCOUT_ENV=" in res.stderr
