"""Compression benchmark: teacher ensembles vs distilled / pruned / int8 screeners.

Two halves, one run, one JSON:

- **gnn** (issue 5's main case, ``_compression_gnn.py``): a 3-member EquivariantGNN teacher
  on the GFN2-xTB property set (Enamine molecules, HOMO-LUMO gap) compressed into a smaller
  GNN (distilled, channel-pruned) and into a fingerprint MLP reading SMILES.
- **docking** (``_compression_docking.py``): a fingerprint-MLP ensemble on Enamine10k Vina
  scores compressed into a small MLP (distilled, pruned, int8).
- **hill** (``_compression_hill.py``): a HillSurrogate ensemble on a simulated allosteric
  sensor landscape compressed into a narrower HillSurrogate (curve distillation, pruning).

Each row: MAE, Spearman ρ and top-1 % recall against the teacher and against the truth (test
set), top-5 % recall vs truth (k = 1 % of a few hundred molecules is only a handful),
parameters, FLOPs, throughput with and without featurisation, speed-up over its half's
teacher and minutes per 10⁶ candidates once featurised.

Run: ``python benchmarks/compression.py [--quick] [--halves gnn,docking,hill]``; writes
``benchmarks/results/compression.json`` and ``compression.png`` (speed vs top-1 % recall). A
run of some halves keeps the other halves' rows from the previous run of the same mode (each
half's run date and machine load are recorded under ``halves``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, LoadWatch, print_table, write_result

HALVES = ("gnn", "docking", "hill")


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
    ap.add_argument("--plot", action="store_true", help="only redraw the PNG from the JSON")
    args = ap.parse_args()
    if args.plot:
        _plot(json.loads(RESULTS.joinpath("compression.json").read_text())["rows"],
              RESULTS / "compression.png")
        return
    halves = [h.strip() for h in args.halves.split(",") if h.strip()]
    bad = [h for h in halves if h not in HALVES]
    if bad or not halves:
        print(f"error: --halves: unknown {bad or 'empty'}; choose from {HALVES}", file=sys.stderr)
        sys.exit(2)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    load = LoadWatch()
    rows: list[dict[str, Any]] = []
    extra: dict[str, Any] = {"halves": {}}
    t0 = time.perf_counter()
    for half in halves:
        if half == "gnn":
            from benchmarks._compression_gnn import gnn_half

            r, info = gnn_half(args.quick)
        elif half == "docking":
            from benchmarks._compression_docking import docking_half

            r, info = docking_half(args.quick)
        else:
            from benchmarks._compression_hill import hill_half

            r, info = hill_half(args.quick)
        rows += r
        extra["halves"][half] = info
    _relative(rows)
    stamp = {"wall_s": time.perf_counter() - t0, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                       time.gmtime()),
             "load_average": load.record()}
    for half in halves:
        extra["halves"][half]["run"] = stamp
    rows, extra = _merge_previous(rows, extra, halves, args.quick)
    extra["caveat"] = ("2 CPU cores shared with 3 other jobs during the run: throughputs are "
                       "noisy (best of repeats); ratios are measured within this one run")
    print_table(rows, title=f"compression ({'quick' if args.quick else 'full'})")
    path = write_result("compression", args.quick, rows,
                        {"speedup_vs_teacher": 30.0, "recall_gap_vs_teacher_pts": 5.0,
                         "minutes_per_1e6_featurised": 10.0}, extra=extra)
    _plot(rows, path.with_suffix(".png"))
    print(f"wrote {path}")


def _merge_previous(rows: list[dict[str, Any]], extra: dict[str, Any], halves: list[str],
                    quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Keep the other halves' rows of an earlier run of the same mode (``--halves`` subset):
    each half's ratios are against its own teacher, measured within one run of that half."""
    path = RESULTS / "compression.json"
    if set(halves) == set(HALVES) or not path.exists():
        return rows, extra
    old = json.loads(path.read_text())
    if bool(old.get("quick")) != bool(quick):
        return rows, extra
    kept = {h: info for h, info in old.get("halves", {}).items() if h not in halves}
    names = {r["half"] for r in rows}
    old_rows = [r for r in old.get("rows", []) if r.get("half") not in names]
    return old_rows + rows, {**extra, "halves": {**kept, **extra["halves"]}}


#: (row key, axis label) of the trade-off plot's rows of panels
_PLOT_METRICS = (("top1_recall_truth", "top-1% recall vs truth (test)"),
                 ("spearman_vs_teacher", "Spearman ρ vs teacher (test)"))


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Speed vs ranking quality, one column per half: top-1 % recall against the truth (the
    target; coarse when the test set's top 1 % is a handful of candidates) and Spearman ρ
    against the teacher (continuous, so the cost of each compression step shows)."""
    from matplotlib.figure import Figure

    halves = list(dict.fromkeys(r["half"] for r in rows))
    fig = Figure(figsize=(6 * len(halves), 8), layout="constrained")
    for j, (key, label) in enumerate(_PLOT_METRICS):
        for i, half in enumerate(halves):
            ax = fig.add_subplot(len(_PLOT_METRICS), len(halves), j * len(halves) + i + 1)
            for r in (r for r in rows if r["half"] == half):
                ax.scatter(r["cand_per_s_no_feat"], r[key], label=r["method"])
                ax.scatter(r["cand_per_s_with_feat"], r[key], marker="x",
                           color=ax.collections[-1].get_facecolor()[0])
            ax.set_xscale("log")
            ax.set_xlabel("candidates/s (o: featurised beforehand, x: with featurisation)")
            ax.set_ylabel(label)
            ax.set_title(half)
            if j == 0:
                ax.legend(fontsize=7)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
