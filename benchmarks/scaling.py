"""Scale-out benchmark: simulations per second vs workers per storage; coordinator overhead.

1. Throughput: 1, 2, 4, 8 local worker processes (``LocalExecutor``) on one study, each
   simulating a sleep-based stand-in for DFT (0.5 s per candidate; 0.25 s with ``--quick``),
   on SQLite, a journal file and PostgreSQL (when ``SCOUT_TEST_POSTGRES_URL`` is set). The
   clock runs from the first enqueue to the last result told, after every worker is up.
   Ideal throughput is ``workers / seconds``; efficiency is measured / ideal.
2. Coordinator overhead per round as the pool grows 10^4 -> 10^5 -> 10^6 design vectors
   (``--quick``: up to 10^5): train a cheap surrogate ensemble on 32 results, screen the whole
   pool, select a batch of 32 by UCB and enqueue it.

Run: ``python benchmarks/scaling.py [--quick]`` -> table + ``benchmarks/results/scaling.json``.
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

from _common import print_table, write_result  # noqa: E402

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
    from active_learning._plan import plan_round
    from active_learning._session import open_session

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke version (~2 min)")
    args = parser.parse_args()
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
        print("throughput (sleep-based simulator):", flush=True)
        rows = throughput(storages, workers, seconds, per_worker, Path(tmp))
        print("coordinator overhead per round:", flush=True)
        over = coordinator_overhead(sizes, Path(tmp))
    print_table(rows, title=f"simulations per second ({seconds} s per simulation)")
    print_table(over, title="coordinator overhead per round (train + screen + select + enqueue)")
    path = write_result("scaling", args.quick, rows + over,
                        targets={"efficiency": 0.8, "round_overhead_s": 60.0},
                        extra={"seconds_per_simulation": seconds,
                               "postgresql": bool(pg)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
