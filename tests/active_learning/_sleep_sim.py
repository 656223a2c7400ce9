"""A sleep-based stand-in for an expensive simulator, importable by worker subprocesses.

``scout-test-sleep`` simulates a design vector ``x = (x0, x1[, fault])`` by sleeping
``seconds`` (CPU-free, so many workers scale even on a 2-core machine) and returning
``y = sin(3 x0) + x1²``. An optional third coordinate injects one fault per candidate:
0 none, 1 the simulator raises ``RuntimeError``, 2 returns NaN, 3 returns +inf, 4 hangs
(sleeps ``hang`` seconds). With ``log_dir`` each process writes

- ``ready_<pid>``: written by ``setup()`` (the worker is up), holding its
  ``CUDA_VISIBLE_DEVICES`` (``-`` when unset);
- ``sim_<pid>.log``: one line ``x0`` per candidate it finished simulating;
- ``busy_<pid>``: present while it sleeps on a candidate (fault injection aims with it).

Importing this module also registers the test surrogate ``scout-test-rff`` (from ``_fakes``).
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from physics import Simulator, register_simulator
from physics._base import SIMULATORS
from tests.active_learning import _fakes  # noqa: F401  (registers scout-test-rff for campaign configs)
from tests.active_learning._toml import write_campaign

FAULTS = {0: "none", 1: "raise", 2: "nan", 3: "inf", 4: "hang"}


def truth(x0: float, x1: float) -> float:
    return math.sin(3.0 * x0) + x1 * x1


class SleepSimulator(Simulator):
    targets = ("y",)

    def __init__(self, seconds: float = 0.5, log_dir: str | None = None,
                 hang: float = 3600.0) -> None:
        self.seconds = seconds
        self.log_dir = log_dir
        self.hang = hang

    def setup(self) -> None:
        if self.log_dir:
            dev = os.environ.get("CUDA_VISIBLE_DEVICES", "-")
            (Path(self.log_dir) / f"ready_{os.getpid()}").write_text(dev)

    def evaluate_one(self, candidate: Any) -> dict[str, Any]:
        x = np.asarray(candidate, dtype=float).reshape(-1)
        fault = int(x[2]) if x.size > 2 else 0
        busy = Path(self.log_dir) / f"busy_{os.getpid()}" if self.log_dir else None
        if busy is not None:
            busy.touch()
        try:
            time.sleep(self.hang if fault == 4 else self.seconds)
        finally:
            if busy is not None:
                busy.unlink(missing_ok=True)
        if fault == 1:
            raise RuntimeError(f"injected simulator crash at x0={x[0]:.6f}")
        y = {2: math.nan, 3: math.inf}.get(fault, truth(x[0], x[1]))
        if self.log_dir:
            with open(Path(self.log_dir) / f"sim_{os.getpid()}.log", "a") as fh:
                fh.write(f"{x[0]:.9f}\n")
        return {"y": y}


if "scout-test-sleep" not in SIMULATORS:
    register_simulator("scout-test-sleep")(SleepSimulator)


def write_pool(folder: Path, n: int, faults: dict[int, int] | None = None, seed: int = 0) -> Path:
    """A designs CSV (id, x0, x1, fault) of ``n`` seeded points; ``faults``: row -> code."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 2))
    faults = faults or {}
    lines = ["id,x0,x1,fault"] + [f"c{i:05d},{a:.9f},{b:.9f},{faults.get(i, 0)}"
                                  for i, (a, b) in enumerate(X)]
    path = folder / "pool.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_config(folder: Path, *, n: int = 40, seconds: float = 0.5, storage: str | None = None,
                 budget: int | None = None, batch_size: int = 8, initial: int | None = None,
                 faults: dict[int, int] | None = None, log_dir: Path | None = None,
                 hang: float = 3600.0, max_retries: int = 2, name: str = "scaleout",
                 more: dict[str, dict[str, Any]] | None = None) -> Path:
    """A campaign TOML on the sleep simulator (surrogate: the cheap RFF ridge); ``more`` adds
    or replaces keys per section (``{"executor": {"kind": "local", "n_workers": 3}}``)."""
    write_pool(folder, n, faults)
    batch_size = min(batch_size, budget or n)
    return write_campaign(folder, {
        "campaign": {"name": name, "objective": "y", "direction": "maximize",
                     "budget": budget or n, "batch_size": batch_size,
                     "initial": initial or batch_size, "seed": 7, "max_retries": max_retries,
                     "storage": storage},
        "pool": {"kind": "designs", "path": "pool.csv", "id_column": "id"},
        "simulator": {"kind": "scout-test-sleep", "seconds": seconds, "hang": hang,
                      "log_dir": None if log_dir is None else str(log_dir)},
        "surrogate": {"kind": "scout-test-rff", "ensemble": 3},
        "acquisition": {"kind": "ucb"},
    }, more)


MODULE = __name__  # what worker processes import to know the test simulator


def wait_ready(log_dir: Path, n: int, timeout: float = 120.0, alive: Any = None) -> list[str]:
    """Wait until ``n`` workers have run ``setup()``; returns their CUDA_VISIBLE_DEVICES.
    ``alive``: a callable; waiting stops early when it says no worker is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError("every worker process exited before it was ready")
        files = sorted(log_dir.glob("ready_*"))
        if len(files) >= n:
            return [f.read_text() for f in files]
        time.sleep(0.05)
    raise TimeoutError(f"only {len(list(log_dir.glob('ready_*')))} of {n} workers started")


def simulated(log_dir: Path) -> Counter[str]:
    """How many times each x0 was simulated to the end, over every process's log."""
    counts: Counter[str] = Counter()
    for f in log_dir.glob("sim_*.log"):
        counts.update(line for line in f.read_text().splitlines() if line)
    return counts


def run_workers(folder: Path, storage: str, n_workers: int, n: int = 16,
                seconds: float = 0.4, gpus: tuple[str, ...] = (),
                name: str = "scaleout") -> dict[str, Any]:
    """Start ``n_workers`` local worker processes on one study, wait until they are up, then
    enqueue ``n`` candidates and time how long the workers take to finish them all.

    Returns ``wall`` (s, from the first enqueue to the last candidate told), ``records``
    (the ledger's per-candidate view), ``devices`` (each worker's CUDA_VISIBLE_DEVICES),
    ``simulated`` (x0 -> times simulated to the end) and ``pool`` (the design vectors).
    """
    from active_learning._execution._executors import LocalExecutor
    from active_learning._ledger._keys import FINISHED_KEY
    from active_learning._ledger._session import open_session

    log_dir = folder / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cfg = write_config(folder, n=n, seconds=seconds, storage=storage, log_dir=log_dir,
                       name=name)
    session = open_session(cfg, create=True)
    executor = LocalExecutor(n_workers, gpus=gpus, idle_timeout=120.0, imports=[MODULE])
    executor.start(session.config)
    try:
        devices = wait_ready(log_dir, n_workers, alive=executor.alive)
        ledger, ids = session.ledger, session.pool.ids
        t0 = time.perf_counter()
        for i in range(n):
            ledger.enqueue(i, ids[i], 0)
        deadline = time.monotonic() + 30 + 2 * n * seconds
        while ledger.pending():  # the cheap look the coordinator takes (waiting + running)
            if time.monotonic() > deadline:
                states = Counter(r.state for r in ledger.records().values())
                raise TimeoutError(f"workers did not finish: {states}")
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        records = ledger.records()
        ledger.set_attr(FINISHED_KEY, True)
        executor.stop(finished=True, timeout=30)
    finally:
        executor.stop(finished=False, timeout=10)
    X = np.asarray(session.pool.get(np.arange(n), "vector"))
    return {"wall": wall, "records": records, "devices": devices,
            "simulated": simulated(log_dir), "pool": X, "trials": ledger.trials()}


def max_concurrency(trials: list[Any]) -> int:
    """The most trials that were RUNNING at one moment (from their start and end times): a
    measure of parallel work that does not depend on how loaded the machine is."""
    events = sorted([(t.datetime_start, 1) for t in trials]
                    + [(t.datetime_complete, -1) for t in trials])
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


def check_exactly_once(out: dict[str, Any], n: int) -> None:
    """Every candidate told COMPLETE once, with its true value, and simulated exactly once."""
    recs, X = out["records"], out["pool"]
    assert sorted(recs) == list(range(n))
    assert len(out["trials"]) == n  # no trial beyond the enqueued ones, no retries
    for i, r in recs.items():
        assert r.state == "COMPLETE" and r.retries == 0, r
        assert r.value == truth(X[i, 0], X[i, 1])
    counts = out["simulated"]
    assert sorted(counts) == sorted(f"{x:.9f}" for x in X[:, 0])
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1]


def coordinator_main(config_path: str) -> None:
    """A coordinator process for fault-injection tests (heartbeat 1 s, stale after 2 s)."""
    from active_learning._coordinator._campaign import Campaign

    Campaign.from_toml(config_path, progress=False, heartbeat=(1, 2), poll=0.1).run()


def worker_main(config_path: str) -> None:
    """A worker process for fault-injection tests."""
    from active_learning._execution._worker import run_worker

    run_worker(config_path, idle_timeout=60.0)


def ledger_view(config: Path) -> list[tuple]:
    """The final ledger as a comparable list: (id, round, state, value) per candidate."""
    from active_learning._ledger._session import open_session

    recs = open_session(config, load_pool=False).ledger.records()
    return sorted((r.candidate_id, r.round, r.state, r.value if r.state == "COMPLETE" else None)
                  for r in recs.values())


def inject_kills(cfg: Path, n_kills: int, seed: int, n_workers: int = 2,
                 log_dir: Path | None = None) -> Counter:
    """Run a coordinator and workers as processes and SIGKILL a random one ``n_kills`` times
    (restarting it each time); then let the campaign finish. Returns the kill counts
    (``worker``, ``coordinator``, and ``mid_simulation``). The first two kills hit a worker,
    then the coordinator; later ones a random process — with ``log_dir`` (the simulator's),
    every other one a random process that is simulating right then, when there is one."""
    import multiprocessing as mp

    from active_learning._execution._executors import PRELOAD

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([*PRELOAD, MODULE])
    targets = {"coordinator": coordinator_main,
               **{f"worker{i}": worker_main for i in range(n_workers)}}

    def start(name: str) -> Any:
        p = ctx.Process(target=targets[name], args=(str(cfg),))
        p.start()
        return p

    rng = np.random.default_rng(seed)
    procs = {name: start(name) for name in targets}
    kills: Counter = Counter()
    try:
        while kills["worker"] + kills["coordinator"] < n_kills:
            k = kills["worker"] + kills["coordinator"]
            # the first worker and coordinator kills come early, so that even a short
            # campaign (the quick test: ~10 s) gets both before it can finish; later ones
            # leave time to start up and get some work done
            time.sleep(rng.uniform(0.8, 1.6) if k < 2 else rng.uniform(1.5, 4.5))
            if procs["coordinator"].exitcode == 0:
                break  # the campaign finished: restarting exited processes would never end
            busy = _busy(procs, log_dir)
            if k < 2:
                victim = ["worker0", "coordinator"][k]
            elif k % 2 == 0 and busy:
                victim = str(rng.choice(busy))
            else:
                victim = str(rng.choice(sorted(targets)))
            if procs[victim].is_alive():
                procs[victim].kill()
                kills["coordinator" if victim == "coordinator" else "worker"] += 1
                kills["mid_simulation"] += victim in busy
            procs[victim].join()
            procs[victim] = start(victim)
        procs["coordinator"].join(timeout=300)
        if procs["coordinator"].exitcode != 0:
            raise RuntimeError(f"the coordinator did not finish (exit code "
                               f"{procs['coordinator'].exitcode})")
        for name, p in procs.items():
            p.join(timeout=90)
            if p.exitcode != 0:
                raise RuntimeError(f"{name} exit code {p.exitcode}")
    finally:
        for p in procs.values():
            if p.is_alive():
                p.kill()
                p.join()
    return kills


def _busy(procs: dict[str, Any], log_dir: Path | None) -> list[str]:
    """Names of the processes simulating a candidate right now (their ``busy_<pid>`` file)."""
    if log_dir is None:
        return []
    pids = {int(f.name.split("_")[1]) for f in log_dir.glob("busy_*")}
    return sorted(name for name, p in procs.items() if p.pid in pids and p.is_alive())


def fault_injection_run(folder: Path, n_kills: int, seed: int, seconds: float = 1.5,
                        budget: int = 30) -> dict[str, Any]:
    """An uninterrupted campaign and the same one under ``n_kills`` random SIGKILLs of its
    workers and coordinator (:func:`inject_kills`); the counts the issue asks for.
    ``seconds`` per simulation: long enough that kills also land mid-simulation (those show
    as retries with the reason "worker lost (heartbeat stale)")."""
    from active_learning._coordinator._campaign import Campaign
    from active_learning._ledger._session import open_session

    kw = dict(n=60, seconds=seconds, budget=budget, batch_size=6, max_retries=20)
    ref_dir, run_dir = folder / "ref", folder / "run"
    ref_dir.mkdir()
    run_dir.mkdir()
    ref_cfg = write_config(ref_dir, **kw)
    Campaign.from_toml(ref_cfg, progress=False).run()
    log_dir = run_dir / "logs"
    log_dir.mkdir()
    cfg = write_config(run_dir, log_dir=log_dir, **kw)
    t0 = time.monotonic()
    kills = inject_kills(cfg, n_kills, seed=seed, log_dir=log_dir)
    wall = time.monotonic() - t0
    view = ledger_view(cfg)
    trials = open_session(cfg, load_pool=False).ledger.trials()
    complete = Counter(t.user_attrs["candidate_id"] for t in trials if t.state.name == "COMPLETE")
    reasons = Counter(str(t.user_attrs.get("error", "worker lost (heartbeat stale)")).split(":")[0]
                      for t in trials if t.state.name == "FAIL")
    return {"kills_worker": kills["worker"], "kills_coordinator": kills["coordinator"],
            "kills_mid_simulation": kills["mid_simulation"],
            "candidates": len(view), "complete": sum(s == "COMPLETE" for _, _, s, _ in view),
            "failed": sum(s == "FAIL" for _, _, s, _ in view), "trials": len(trials),
            "retries": len(trials) - len(view), "retry_reasons": dict(reasons),
            "duplicates": sum(c - 1 for c in complete.values()),
            "same_as_uninterrupted": view == ledger_view(ref_cfg), "wall_s": round(wall, 1)}
