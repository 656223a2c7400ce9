"""Compression benchmark: teacher ensembles vs distilled / pruned / int8 screeners.

Two halves, one run, one JSON:

- **gnn** (issue 5's main case, ``_compression_gnn.py``): a 3-member EquivariantGNN teacher
  on the GFN2-xTB property set (Enamine molecules, HOMO-LUMO gap) compressed into a smaller
  GNN (distilled, channel-pruned) and into a fingerprint MLP reading SMILES.
- **docking** (``_compression_docking.py``): a fingerprint-MLP ensemble on Enamine10k Vina
  scores compressed into a small MLP (distilled, pruned, int8).

Each row: MAE, Spearman ρ and top-1 % recall against the teacher and against the truth (test
set), top-5 % recall vs truth (k = 1 % of a few hundred molecules is only a handful),
parameters, FLOPs, throughput with and without featurisation, speed-up over its half's
teacher and minutes per 10⁶ candidates once featurised.

Run: ``python benchmarks/compression.py [--quick] [--halves gnn,docking]``; writes
``benchmarks/results/compression.json`` and ``compression.png`` (speed vs top-1 % recall).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import print_table, write_result

HALVES = ("gnn", "docking")


def _relative(rows: list[dict[str, Any]]) -> None:
    """Speed-up and recall gap against the first row of each half (its teacher)."""
    base: dict[str, dict[str, Any]] = {}
    for r in rows:
        b = base.setdefault(r["half"], r)
        r["speedup_vs_teacher"] = r["cand_per_s_no_feat"] / b["cand_per_s_no_feat"]
        r["speedup_vs_teacher_with_feat"] = r["cand_per_s_with_feat"] / b["cand_per_s_with_feat"]
        r["recall_gap_vs_teacher_pts"] = 100 * (b["top1_recall_truth"] - r["top1_recall_truth"])
        r["minutes_per_1e6_featurised"] = 1e6 / r["cand_per_s_no_feat"] / 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke version (a few minutes)")
    ap.add_argument("--halves", default=",".join(HALVES),
                    help=f"comma-separated subset of {HALVES}")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = ap.parse_args()
    halves = [h.strip() for h in args.halves.split(",") if h.strip()]
    bad = [h for h in halves if h not in HALVES]
    if bad or not halves:
        print(f"error: --halves: unknown {bad or 'empty'}; choose from {HALVES}", file=sys.stderr)
        sys.exit(2)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"halves": {}}
    t0 = time.perf_counter()
    for half in halves:
        if half == "gnn":
            from benchmarks._compression_gnn import gnn_half

            r, info = gnn_half(args.quick)
        else:
            from benchmarks._compression_docking import docking_half

            r, info = docking_half(args.quick)
        rows += r
        extra["halves"][half] = info
    _relative(rows)
    extra["wall_s"] = time.perf_counter() - t0
    extra["load_average"] = {"start": load0, "end": os.getloadavg()}
    extra["caveat"] = ("2 CPU cores shared with 3 other jobs during the run: throughputs are "
                       "noisy (best of repeats); ratios are measured within this one run")
    print_table(rows, title=f"compression ({'quick' if args.quick else 'full'})")
    path = write_result("compression", args.quick, rows,
                        {"speedup_vs_teacher": 30.0, "recall_gap_vs_teacher_pts": 5.0,
                         "minutes_per_1e6_featurised": 10.0}, extra=extra)
    _plot(rows, path.with_suffix(".png"))
    print(f"wrote {path}")


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    from matplotlib.figure import Figure

    halves = list(dict.fromkeys(r["half"] for r in rows))
    fig = Figure(figsize=(6 * len(halves), 4.5), layout="constrained")
    for i, half in enumerate(halves):
        ax = fig.add_subplot(1, len(halves), i + 1)
        for r in (r for r in rows if r["half"] == half):
            ax.scatter(r["cand_per_s_no_feat"], r["top1_recall_truth"], label=r["method"])
            ax.scatter(r["cand_per_s_with_feat"], r["top1_recall_truth"], marker="x",
                       color=ax.collections[-1].get_facecolor()[0])
        ax.set_xscale("log")
        ax.set_xlabel("candidates/s (o: featurised beforehand, x: with featurisation)")
        ax.set_ylabel("top-1% recall vs truth (test)")
        ax.set_title(half)
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
