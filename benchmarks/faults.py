"""Fault-injection run: random SIGKILLs of workers and of the coordinator during a campaign.

A campaign (60 sleep-simulated designs at 1.5 s each, budget 30 in rounds of 6, two worker
processes and a coordinator that also simulates, heartbeat 1 s / stale after 2 s,
``max_retries = 20``) runs twice: once without
faults, once while a random process is SIGKILLed and restarted ``--kills`` times (20; 3 with
``--quick``), every 1.5-4.5 s; every other kill aims at a process that is simulating right then
(when one is), so kills land mid-simulation as well as in start-up, planning and idling. Counted: kills of workers and of the coordinator, retries (trials beyond one per
candidate, by reason), final evaluations, failed candidates, duplicates (candidates told
COMPLETE more than once: must be 0), and whether the final ledger (id, round, state, value per
candidate) equals the uninterrupted run's. The same procedure is the slow test
``tests/active_learning/test_faults.py::test_random_sigkills_...[20]``.

Run: ``python benchmarks/faults.py [--quick]`` -> ``benchmarks/results/faults.json`` + PNG.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import LoadWatch, print_table, save_figure, write_result  # noqa: E402

from tests.active_learning import _sleep_sim  # noqa: E402  (the simulator workers import)


def plot(row: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["kills_worker", "kills_coordinator", "kills_mid_simulation", "retries", "complete",
            "failed", "duplicates"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.bar([k.replace("_", "\n", 1) for k in keys], [row[k] for k in keys],
                  color=["C3", "C3", "C3", "C1", "C2", "C7", "C0"])
    ax.bar_label(bars)
    same = "equals" if row["same_as_uninterrupted"] else "DIFFERS FROM"
    ax.set(title=f"{row['kills_worker'] + row['kills_coordinator']} random SIGKILLs: final "
                 f"ledger {same} the uninterrupted run", ylabel="count")
    ax.tick_params(axis="x", labelsize=8)
    return save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 kills instead of 20")
    parser.add_argument("--kills", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    n_kills = args.kills or (3 if args.quick else 20)
    load = LoadWatch()
    with tempfile.TemporaryDirectory(prefix="scout-faults-") as tmp:
        out = _sleep_sim.fault_injection_run(Path(tmp), n_kills, seed=args.seed)
    row = {"method": f"{n_kills} SIGKILLs (seed {args.seed})", **out}
    print_table([row], title="fault injection")
    path = write_result("faults", args.quick, [row],
                        targets={"duplicates": 0, "same_as_uninterrupted": True,
                                 "failed": 0},
                        extra={"load_average_1_5_15min": load.record(),
                               "setup": "60 designs, budget 30, rounds of 6, 2 workers + "
                                        "coordinator, 1.5 s sleep simulator, heartbeat 1 s, "
                                        "stale after 2 s, max_retries 20; kills every "
                                        "1.5-4.5 s at random; every other one aimed at a "
                                        "process simulating right then (if any)"})
    print(f"wrote {path} and {plot(row, path)}")
    if out["duplicates"] or not out["same_as_uninterrupted"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
