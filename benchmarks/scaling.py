"""Scale-out benchmark: simulations per second vs workers per storage; coordinator overhead.

1. Throughput: 1, 2, 4, 8 local worker processes (``LocalExecutor``) on one study, each
   simulating a sleep-based stand-in for DFT (0.5 s per candidate; 0.25 s with ``--quick``),
   on SQLite, a journal file and PostgreSQL (when ``SCOUT_TEST_POSTGRES_URL`` is set). The
   clock runs from the first enqueue to the last result told, after every worker is up.
   Ideal throughput is ``workers / seconds``; efficiency is measured / ideal.
2. Coordinator overhead per round as the pool grows 10^4 -> 10^5 -> 10^6 design vectors
   (``--quick``: up to 10^5): train a cheap surrogate ensemble on 32 results, screen the whole
   pool, select a batch of 32 by UCB and enqueue it.
3. Where a worker's time goes: CPU and wall milliseconds per ledger operation in one process
   (claim a trial with 64 waiting, tell a result, the coordinator's look at a round), each
   next to the way the ledger did it before (scan every waiting trial; ``study.tell``; the
   full ``records()``), measured in the same run.

Run: ``python benchmarks/scaling.py [--quick]`` -> tables, ``benchmarks/results/scaling.json``
and ``scaling.png``. ``--plot`` redraws the PNG from the JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import RESULTS, LoadWatch, print_table, save_figure, write_result  # noqa: E402

from tests.active_learning import _sleep_sim  # noqa: E402  (the sleep simulator workers import)


def throughput(storages: dict[str, str], workers: list[int], seconds: float,
               per_worker: int, tmp: Path) -> list[dict]:
    rows = []
    for name, url_of in storages.items():
        for n in workers:
            folder = tmp / f"{name}_{n}"
            folder.mkdir()
            sims = per_worker * n
            url = url_of(folder)
            out = _sleep_sim.run_workers(folder, url, n_workers=n, n=sims, seconds=seconds,
                                         name=f"bench-{name}-{n}-{os.getpid()}")
            _sleep_sim.check_exactly_once(out, sims)
            rate = sims / out["wall"]
            rows.append({"method": f"{name} x{n}", "storage": name, "workers": n,
                         "simulations": sims, "wall_s": round(out["wall"], 3),
                         "sims_per_s": round(rate, 3), "ideal_sims_per_s": n / seconds,
                         "efficiency": round(rate * seconds / n, 3)})
            print(f"  {rows[-1]['method']}: {rate:.2f} sims/s ({rows[-1]['efficiency']:.0%})",
                  flush=True)
    return rows


def coordinator_overhead(sizes: list[int], tmp: Path, k: int = 32) -> list[dict]:
    from active_learning._coordinator._plan import plan_round
    from active_learning._ledger._session import open_session

    rows = []
    for size in sizes:
        folder = tmp / f"pool_{size}"
        folder.mkdir()
        X = np.random.default_rng(0).uniform(0, 1, (size, 4))
        np.save(folder / "pool.npy", X)
        cfg = _sleep_sim.write_config(folder, n=8, seconds=0.0, budget=10**7, batch_size=k,
                                      name=f"overhead{size}")
        cfg.write_text(cfg.read_text().replace('path = "pool.csv"\nid_column = "id"',
                                               'path = "pool.npy"'))
        session = open_session(cfg, create=True)
        ledger = session.ledger
        for i in range(k):  # a finished round 0 to train on
            ledger.enqueue(i, str(i), 0)
            t = ledger.pop()
            ledger.complete(t, float(_sleep_sim.truth(X[i, 0], X[i, 1])), {}, 0.0)
        records = ledger.records()
        t0 = time.perf_counter()
        plan = plan_round(session, 1, records, k)
        t_plan = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in plan.batch:
            ledger.enqueue(i, session.pool.ids[i], 1)
        t_enq = time.perf_counter() - t0
        total = t_plan + t_enq
        rows.append({"method": f"coordinator pool {size:.0e}", "pool": size,
                     "train_s": round(plan.times["train"], 4),
                     "screen_s": round(plan.times["screen"], 4),
                     "select_s": round(plan.times["select"], 4),
                     "enqueue_s": round(t_enq, 4), "round_overhead_s": round(total, 3),
                     "us_per_candidate": round(1e6 * total / size, 3)})
        print(f"  pool {size}: {total:.2f} s per round", flush=True)
    return rows


def _timed(fn, repeat: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of ``fn`` over ``repeat`` calls."""
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        fn()
    return (1e3 * (time.process_time() - c0) / repeat,
            1e3 * (time.perf_counter() - w0) / repeat)


def _alternate(now, before, repeat: int) -> tuple:
    """``_timed`` of two operations called in turn (so both see the same queue length)."""
    t_now, t_before = [0.0, 0.0], [0.0, 0.0]
    for _ in range(repeat):
        for fn, acc in ((now, t_now), (before, t_before)):
            c, w = _timed(fn, 1)
            acc[0] += c / repeat
            acc[1] += w / repeat
    return tuple(t_now), tuple(t_before)


def _op_costs(ledger, ids, queue: int) -> dict:
    """{op: ((cpu ms, wall ms) now, (cpu ms, wall ms) before)} on one open ledger."""
    from optuna.trial import TrialState

    from active_learning._ledger._optuna import trial_id

    for i in range(2 * queue):
        ledger.enqueue(i, ids[i], 0)
    claimed = []

    def pop_before() -> None:  # the old pop(): build every waiting trial, then claim one
        from active_learning._ledger._ledger import _index_of

        for t in ledger.trials((TrialState.WAITING,)):
            if ledger.storage.set_trial_state_values(trial_id(t), state=TrialState.RUNNING):
                ledger.heartbeat(trial_id(t))
                ledger.storage.set_trial_param(trial_id(t), "index", float(_index_of(t)),
                                               ledger.distribution)
                claimed.append(ledger.storage.get_trial(trial_id(t)))
                return

    cost = {"claim a trial (pop)": _alternate(lambda: claimed.append(ledger.pop()),
                                              pop_before, queue // 2)}
    done = iter(claimed)

    def tell_before() -> None:  # the old path: two attrs, then study.tell
        t = next(done)
        ledger.storage.set_trial_user_attr(trial_id(t), "values", {"y": 1.0})
        ledger.storage.set_trial_user_attr(trial_id(t), "seconds", 0.0)
        ledger.study.tell(t.number, 1.0, skip_if_finished=True)

    cost["tell a result"] = _alternate(
        lambda: ledger.complete(next(done), 1.0, {"y": 1.0}, 0.0), tell_before, queue // 2)
    cost["coordinator's look at a round"] = _alternate(ledger.pending, ledger.records, 10)
    running = ledger.pop()
    cost["heartbeat"] = (_timed(lambda: ledger.heartbeat(trial_id(running)), 20), (None, None))
    return cost


def ledger_costs(storages: dict, tmp: Path, queue: int = 64) -> list[dict]:
    """Per-operation cost on each storage: now vs the way the ledger did it before
    (``queue`` trials waiting when claiming; the look at a round sees 2 x ``queue``)."""
    from active_learning._ledger._session import open_session

    rows = []
    for name, url_of in storages.items():
        folder = tmp / f"ops_{name}"
        folder.mkdir()
        cfg = _sleep_sim.write_config(folder, n=4 * queue, seconds=0.0, storage=url_of(folder),
                                      name=f"ops-{name}-{os.getpid()}")
        session = open_session(cfg, create=True)
        cost = _op_costs(session.ledger, session.pool.ids, queue)
        for op, ((c_now, w_now), (c_old, w_old)) in cost.items():
            row = {"method": f"{name}: {op}", "storage": name, "op": op,
                   "cpu_ms": round(c_now, 2), "wall_ms": round(w_now, 2)}
            if c_old is not None:
                row.update(cpu_ms_before=round(c_old, 2), wall_ms_before=round(w_old, 2),
                           cpu_speedup=round(c_old / max(c_now, 1e-6), 1))
            rows.append(row)
    return rows


def plot(path: Path) -> Path:
    """Efficiency vs workers per storage, and coordinator overhead vs pool size."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(path.read_text())
    rows = data["rows"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for st in sorted({r["storage"] for r in rows if "efficiency" in r}):
        rs = sorted((r for r in rows if r.get("storage") == st and "efficiency" in r),
                    key=lambda r: r["workers"])
        a.plot([r["workers"] for r in rs], [r["efficiency"] for r in rs], "o-", label=st)
    a.axhline(1.0, color="grey", lw=0.8)
    a.axhline(data["targets"]["efficiency"], color="red", ls="--", lw=0.8, label="target")
    a.set(xscale="log", xlabel="worker processes", ylabel="throughput / ideal",
          title=f"{data.get('seconds_per_simulation')} s sleep simulator, "
                f"{data['machine']['cpu_count']} cores", ylim=(0, 1.1))
    a.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
    a.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    a.legend()
    over = sorted((r for r in rows if "pool" in r), key=lambda r: r["pool"])
    for key in ("train_s", "screen_s", "select_s", "enqueue_s", "round_overhead_s"):
        b.plot([r["pool"] for r in over], [r[key] for r in over], "o-", label=key[:-2])
    b.set(xscale="log", yscale="log", xlabel="pool size", ylabel="seconds per round",
          title="coordinator overhead per round")
    b.legend()
    return save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke version (~2 min)")
    parser.add_argument("--plot", action="store_true", help="only redraw the PNG from the JSON")
    args = parser.parse_args()
    if args.plot:
        print(f"wrote {plot(RESULTS / 'scaling.json')}")
        return
    load = LoadWatch()
    seconds = 0.25 if args.quick else 0.5
    workers = [1, 2, 4, 8]
    per_worker = 3 if args.quick else 8
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    storages = {"sqlite": lambda f: f"sqlite:///{f / 'study.db'}",
                "journal": lambda f: f"journal:///{f / 'study.log'}"}
    pg = os.environ.get("SCOUT_TEST_POSTGRES_URL")
    if pg:
        storages["postgresql"] = lambda f: pg
    else:
        print("postgresql: skipped (SCOUT_TEST_POSTGRES_URL not set; source .ci/postgres.sh)")
    with tempfile.TemporaryDirectory(prefix="scout-scaling-") as tmp:
        print("ledger operation costs:", flush=True)
        ops = ledger_costs(storages, Path(tmp))
        print("throughput (sleep-based simulator):", flush=True)
        rows = throughput(storages, workers, seconds, per_worker, Path(tmp))
        print("coordinator overhead per round:", flush=True)
        over = coordinator_overhead(sizes, Path(tmp))
    print_table(rows, title=f"simulations per second ({seconds} s per simulation)")
    print_table(over, title="coordinator overhead per round (train + screen + select + enqueue)")
    print_table(ops, title="ledger operations: ms per call, now vs before (one process)")
    path = write_result("scaling", args.quick, rows + over + ops,
                        targets={"efficiency": 0.8, "round_overhead_s": 60.0},
                        extra={"seconds_per_simulation": seconds,
                               "postgresql": bool(pg),
                               "load_average_1_5_15min": load.record(),
                               "caveat": "2-core machine shared with other jobs (load average "
                                         "above); the sleep-based simulator uses no CPU, so "
                                         "lost efficiency is ledger/Python CPU contention and "
                                         "worker start-up latency"})
    print(f"wrote {path} and {plot(path)}")


if __name__ == "__main__":
    main()
