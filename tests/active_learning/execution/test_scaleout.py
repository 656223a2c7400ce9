"""Scale-out: many worker processes on one study (SQLite, journal file), GPU pinning, Dask."""

from __future__ import annotations

import os
import time

import pytest

from active_learning._config._campaign import CampaignConfig
from active_learning._config._executor import ExecutorConfig
from active_learning._coordinator._campaign import Campaign
from active_learning._execution._executors import DaskExecutor, LocalExecutor, jobqueue_cluster
from active_learning._ledger._session import open_session
from tests.active_learning import _sleep_sim

N, SECONDS = 16, 0.4  # one worker needs N * SECONDS = 6.4 s of simulation


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_four_workers_simulate_each_candidate_once_and_in_parallel(tmp_path, kind):
    url = (f"sqlite:///{tmp_path / 'study.db'}" if kind == "sqlite"
           else f"journal:///{tmp_path / 'study.log'}")
    out = _sleep_sim.run_workers(tmp_path, url, n_workers=4, n=N, seconds=SECONDS)
    _sleep_sim.check_exactly_once(out, N)
    # simulations overlapped in time (sleeps need no CPU, so this holds on a loaded machine)
    assert _sleep_sim.max_concurrency(out["trials"]) >= 2
    assert out["wall"] >= N * SECONDS / 4 - 0.05  # 4 workers can do no better than a quarter


@pytest.mark.slow
def test_four_workers_take_under_half_the_time_of_one(tmp_path):
    """A wall-clock bar (slow set; ``benchmarks/scaling.py`` measures it properly)."""
    out = _sleep_sim.run_workers(tmp_path, f"sqlite:///{tmp_path / 's.db'}", n_workers=4,
                                 n=N, seconds=SECONDS)
    serial = N * SECONDS
    assert out["wall"] < 0.5 * serial, f"{out['wall']:.2f} s for 4 workers vs {serial} s for one"


def test_local_workers_pin_one_gpu_each(tmp_path):
    out = _sleep_sim.run_workers(tmp_path, f"sqlite:///{tmp_path / 's.db'}", n_workers=4,
                                 n=4, seconds=0.05, gpus=("0", "1"))
    assert sorted(out["devices"]) == ["0", "0", "1", "1"]
    _sleep_sim.check_exactly_once(out, 4)


@pytest.mark.parametrize("processes", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_dask_local_cluster_runs_a_campaign_to_completion(tmp_path, processes):
    pytest.importorskip("distributed")
    cfg_path = _sleep_sim.write_config(tmp_path, n=30, seconds=0.05, budget=12, batch_size=4,
                                       log_dir=tmp_path)
    cfg = CampaignConfig.from_toml(cfg_path)
    executor = DaskExecutor(2, idle_timeout=60.0, imports=[_sleep_sim.MODULE],
                            processes=processes)
    summary = Campaign(cfg, executor=executor, progress=False).run()
    assert summary["finished"] and summary["evaluations"] == 12 and summary["rounds"] == 3
    ids = [t["id"] for t in summary["trials"]]
    assert len(ids) == len(set(ids)) == 12
    # the Dask workers did the simulating (the coordinator only plans while they live)
    stats = executor.results()
    assert len(stats) == 2 and sum(s["completed"] for s in stats) == 12
    assert all(s["stop_reason"] == "campaign finished" for s in stats)
    assert sum(_sleep_sim.simulated(tmp_path).values()) == 12


def test_campaign_starts_the_workers_its_executor_section_names(tmp_path):
    cfg_path = _sleep_sim.write_config(tmp_path, n=30, seconds=0.2, budget=12, batch_size=6,
                                       log_dir=tmp_path,
                                       more={"executor": {"kind": "local", "n_workers": 3}})
    cfg = CampaignConfig.from_toml(cfg_path)
    assert cfg.executor.kind == "local" and cfg.executor.n_workers == 3
    campaign = Campaign(cfg, progress=False)
    summary = campaign.run()  # `scout run` does the same: one code path for every executor
    assert summary["evaluations"] == 12 and summary["finished"]
    assert isinstance(campaign.executor, LocalExecutor)
    # the worker processes (the test simulator module imported for them) did the simulating:
    # the coordinator's own pid never simulated
    logs = {int(f.stem.split("_")[1]) for f in tmp_path.glob("sim_*.log")}
    assert len(logs) >= 2 and os.getpid() not in logs
    assert sum(_sleep_sim.simulated(tmp_path).values()) == 12
    assert campaign.executor.exitcodes == [] and not campaign.executor.alive()
    # the campaign the executor ran is the same study plain `scout status` reads
    assert open_session(cfg, load_pool=False).ledger.attrs()["scout:finished"] is True


def test_executor_config_checks_and_resolves(tmp_path):
    ex = ExecutorConfig.from_dict({"kind": "slurm", "n_workers": 8, "cores": 4,
                                   "memory": "16GB", "walltime": "02:00:00", "queue": "gpu",
                                   "account": "chem42", "gpus_per_worker": 1,
                                   "job_extra": ["--constraint=a100"],
                                   "local_directory": "scratch"}, tmp_path)
    assert ex.local_directory == str(tmp_path / "scratch")
    bad = [({"kind": "kubernetes"}, "executor.kind"),
           ({"n_workers": 0}, "executor.n_workers must be >= 1"),
           ({"gpus": ["0; rm -rf /"]}, r"executor.gpus\[0\]"),
           ({"job_extra": ["--x\n#SBATCH --y"]}, r"executor.job_extra\[0\]"),
           ({"job_extra": ["$(reboot)"]}, r"executor.job_extra\[0\]"),
           ({"walltime": "forever"}, "executor.walltime"),
           ({"memory": "lots"}, "executor.memory"),
           ({"queue": "a b"}, "executor.queue"),
           ({"address": "http://x"}, "executor.address"),
           ({"cores": 2.5}, "executor.cores must be an integer"),
           ({"workers": 2}, "unknown key executor.workers")]
    for data, msg in bad:
        with pytest.raises(ValueError, match=msg):
            ExecutorConfig.from_dict(data, tmp_path)
    with pytest.raises(FileNotFoundError, match=r"executor\.python"):
        ExecutorConfig.from_dict({"python": "venv/bin/python"}, tmp_path)


def test_slurm_and_pbs_job_scripts_from_config(tmp_path):
    pytest.importorskip("dask_jobqueue")
    ex = ExecutorConfig.from_dict({"kind": "slurm", "n_workers": 2, "cores": 4,
                                   "memory": "16GB", "walltime": "02:00:00", "queue": "gpu",
                                   "account": "chem42", "gpus_per_worker": 1,
                                   "job_extra": ["--constraint=a100"]}, tmp_path)
    cluster = jobqueue_cluster(ex, scale=False)  # build the job script, submit nothing
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p gpu", "#SBATCH -A chem42", "#SBATCH -t 02:00:00",
                 "#SBATCH --gres=gpu:1", "#SBATCH --constraint=a100", "#SBATCH --cpus-per-task=4"):
        assert line in script, script
    assert "--resources scout-worker=1" in script and "--nthreads 1" in script
    pbs = ExecutorConfig.from_dict({"kind": "pbs", "cores": 8, "memory": "32GB",
                                    "gpus_per_worker": 2, "queue": "workq"}, tmp_path)
    cluster = jobqueue_cluster(pbs, scale=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#PBS -l select=1:ncpus=8:mem=32GB:ngpus=2" in script and "#PBS -q workq" in script


def test_local_executor_stop_terminates_idle_workers(tmp_path):
    cfg = _sleep_sim.write_config(tmp_path, n=4, seconds=0.05, log_dir=tmp_path)
    session = open_session(cfg, create=True)
    executor = LocalExecutor(2, idle_timeout=600.0, imports=[_sleep_sim.MODULE])
    executor.start(session.config)
    _sleep_sim.wait_ready(tmp_path, 2, alive=executor.alive)
    t0 = time.monotonic()
    executor.stop(finished=False, timeout=20)
    assert time.monotonic() - t0 < 15 and not executor.alive()
