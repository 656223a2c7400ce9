"""The quantum-chemistry campaign: DFT as the expensive judge, GFN2-xTB as the cheap one.

MolPAL's protocol on QM9 (``../shared/data/qm9``: B3LYP HOMO-LUMO gaps, eV): a seeded, shuffled
pool of 10,000 molecules (``--quick``: 2,000); a random 1 % first, then 5 rounds of 1 %; the
fraction of the true top-1 % found after every round (ids, and values as a multiset for ties);
minimising the gap (the hard tail: conjugated, strained, charge-transfer molecules) and, in a
second run, maximising it. The DFT gap hides behind a lookup judge. GFN2-xTB runs on the pool's
own RDKit structures (:mod:`benchmarks._qm9_data`: computed once, cached; every campaign is
charged the CPU seconds of the cheap calls it asked for). Every arm but the peers is a real
:class:`~active_learning.Campaign` (SQLite ledger, in-process worker, ``plan_round``):

- ``random``; ``xtb-rank``: the cheap value alone, no learning (what xTB knows);
- ``gp``: :class:`~surrogates.MoleculeGP` on SMILES (Tanimoto + RDKit descriptors), UCB;
- ``fingerprint``: a Morgan-count MLP, greedy (MolPAL's own baseline family);
- ``chemprop``: chemprop's D-MPNN, greedy (MolPAL's model; own venv, :mod:`benchmarks._peers`);
- ``gnn``: the equivariant GNN teacher as the issue measured it (RDKit structures, ensemble of
  3, UCB, a fingerprint screener);
- ``gnn-mf``: the GNN with the cheap judge swept over the pool and Δ-learning (it learns
  DFT − xTB on the structures xTB saw); ``gnn-mf-warm``: the same, each round starting from
  the last round's weights; ``gnn-mf-pre``: warm start plus pre-training on the xTB energies
  and forces of its training molecules;
- ``gp-mf``: the GP with the cheap sweep, Δ-learning and xTB's gap, HOMO, LUMO and dipole as
  inputs; ``gp-delta`` and ``gp-inputs`` take one of the two away, and ``gp-mf-sp`` uses
  xTB single points on the RDKit geometry instead of the xTB-relaxed one (the ablation).

The cheap judge of the multi-fidelity arms relaxes each structure with GFN2-xTB before its
single point (``[fidelity] kind = "xtb"``, ``relax = true``): the judge's own geometry.

Each (arm, direction, seed) run is cached as JSON under ``benchmarks/data/qm9_campaign/runs``
so heavy arms can run in background processes (``--arms gnn --seeds 1 --only-run``); the plain
command runs what is missing and writes ``benchmarks/results/qm9_campaign.json`` and ``.png``.

Run: ``python benchmarks/qm9_campaign.py [--quick] [--arms ...] [--seeds ...] [--directions
...] [--fresh] [--only-run | --collect]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, LoadWatch, print_table, save_figure, write_result
from benchmarks._pool_metrics import TopK, recall_curve
from benchmarks._qm9_data import DATA, CachedXTB, qm9_pool, xtb_sweep

NAME = "qm9_campaign"
ROUNDS = 6
ARMS = ("random", "xtb-rank", "gp", "fingerprint", "chemprop", "gnn", "gnn-mf", "gnn-mf-warm",
        "gnn-mf-pre", "gp-mf", "gp-delta", "gp-inputs", "gp-mf-sp")
#: arms that use 3D structures and the cheap judge (the target's subject)
THREE_D_CHEAP = ("gnn-mf", "gnn-mf-warm", "gnn-mf-pre", "gp-mf", "gp-delta", "gp-inputs",
                 "gp-mf-sp")
INPUTS = ["gap", "homo", "lumo", "dipole"]
GNN = {"kind": "gnn", "ensemble": 3, "target": "gap", "extensive": False, "attention": True,
       "lmax": 1, "channels": 16, "n_layers": 2, "cutoff": 5.0, "epochs": 40,
       "batch_size": 32, "patience": 10, "device": "cpu", "max_time": 3600.0}


def _config(arm: str, direction: str, seed: int, pool_csv: Path, xtb_dbs: dict[str, Path],
            n1: int) -> dict[str, Any]:
    surrogate: dict[str, Any] = {"kind": "gp", "ensemble": 1}
    acquisition = "ucb"
    compression: dict[str, Any] = {"enabled": False}
    fidelity = None
    if arm == "fingerprint":
        surrogate = {"kind": "fingerprint", "ensemble": 1, "hidden": [256, 128], "epochs": 150,
                     "patience": 15, "device": "cpu"}
        acquisition = "greedy"
    elif arm.startswith("gnn"):
        surrogate = dict(GNN)
        if arm == "gnn":
            compression = {"enabled": True, "prune_amount": 0.0, "screen_fraction": 0.05,
                           "distil_sample": 1024}
    if arm.endswith(("-mf", "-mf-warm", "-mf-pre", "-delta", "-inputs", "-sp")):
        xtb_db = xtb_dbs["sp" if arm.endswith("-sp") else "relax"]
        fidelity = {"kind": "qm9-xtb-cache", "path": str(xtb_db), "objective": "gap",
                    "sweep": 1.0, "use_as_feature": arm != "gp-inputs",
                    "inputs": INPUTS if arm in ("gp-mf", "gp-inputs", "gp-mf-sp") else []}
    if arm in ("gnn-mf-warm", "gnn-mf-pre"):
        surrogate.update(warm_start=True)
    if arm == "gnn-mf-pre":
        surrogate.update(pretrain=1 / 3)
    out: dict[str, Any] = {
        "campaign": {"name": f"{arm}_{direction}_s{seed}", "objective": "gap",
                     "direction": direction, "budget": ROUNDS * n1, "initial": n1,
                     "batch_size": n1, "seed": seed, "rounds": ROUNDS, "top_k": n1,
                     "max_retries": 0},
        "pool": {"kind": "molecules", "path": str(pool_csv), "id_column": "id",
                 "smiles_column": "smiles"},
        "simulator": {"kind": "lookup", "path": str(pool_csv), "key_column": "id",
                      "value_column": "gap"},
        "surrogate": surrogate, "compression": compression,
        "acquisition": {"kind": acquisition, "beta": 2.0},
    }
    if fidelity is not None:
        out["fidelity"] = fidelity
    return out


def run_campaign(arm: str, direction: str, seed: int, pool_csv: Path, atoms_db: Path,
                 xtb_dbs: dict[str, Path], n1: int, folder: Path) -> dict[str, Any]:
    """One seeded campaign: the pool indices acquired per round, the time split, the cost."""
    from active_learning import Campaign, CampaignConfig
    from active_learning._ledger._keys import round_key
    from active_learning._ledger._session import open_session

    shutil.rmtree(folder, ignore_errors=True)
    name = f"{arm}_{direction}_s{seed}"
    cache = folder / f"{name}.artifacts" / "pool_cache"
    cache.mkdir(parents=True)
    (cache / "pool_atoms.db").symlink_to(atoms_db)  # 3D built once, read by every run
    cfg = CampaignConfig.from_dict(_config(arm, direction, seed, pool_csv, xtb_dbs, n1), folder)
    t0 = time.perf_counter()
    summary = Campaign(cfg, progress=False).run()
    wall = time.perf_counter() - t0
    session = open_session(cfg, load_pool=True)
    index = {ident: i for i, ident in enumerate(session.pool.ids)}
    rounds: dict[int, list[int]] = {}
    for t in summary["trials"]:
        rounds.setdefault(int(t["round"]), []).append(index[str(t["id"])])
    cheap_ids = [r.candidate_id for r in session.cheap.records().values()] \
        if cfg.fidelity is not None else []
    attrs, records = session.ledger.attrs(), session.ledger.records()
    mae = []  # the teacher's error on each round's batch, predicted before it was simulated
    for r in range(1, ROUNDS):
        plan = attrs.get(round_key(r), {})
        pairs = [(m, records[i].value) for i, m in zip(plan.get("batch", []), plan.get("mean", []))
                 if i in records and records[i].state == "COMPLETE"]
        mae.append(float(np.mean([abs(a - b) for a, b in pairs])) if pairs else None)
    return {"arm": arm, "direction": direction, "seed": seed, "wall_s": wall,
            "indices_by_round": [rounds.get(r, []) for r in range(ROUNDS)],
            "expensive_calls": len(summary["trials"]),
            "cheap_calls": len(cheap_ids),
            "cheap_cpu_s": CachedXTB(cfg.fidelity.simulator.options["path"]).cpu_seconds(
                cheap_ids) if cfg.fidelity is not None else 0.0,
            "times": [r["times"] for r in summary["round_log"]], "batch_mae_by_round": mae,
            "notes": [n for r in summary["round_log"] for n in r.get("notes", [])]}


def run_random(seed: int, n: int, n1: int) -> dict[str, Any]:
    order = np.random.default_rng(seed).permutation(n)
    return {"arm": "random", "seed": seed, "wall_s": 0.0, "expensive_calls": ROUNDS * n1,
            "cheap_calls": 0, "cheap_cpu_s": 0.0, "times": [], "notes": [],
            "indices_by_round": [order[r * n1:(r + 1) * n1].tolist() for r in range(ROUNDS)]}


def run_xtb_rank(direction: str, seed: int, df: Any, n1: int, xtb_db: Path) -> dict[str, Any]:
    """The same first 1 %, then the best untried molecules by the xTB gap alone."""
    from active_learning import initial_design

    cheap = CachedXTB(str(xtb_db))
    gap = np.array([float(r.gap) if not r.failed else np.nan
                    for r in (cheap._table()[i] for i in df.id)])
    first = [int(i) for i in initial_design(len(df), n1, "random", None,
                                            np.random.default_rng([seed, 0]))]
    key = np.where(np.isfinite(gap), gap if direction == "minimize" else -gap, np.inf)
    rest = [int(i) for i in np.argsort(key, kind="stable") if int(i) not in set(first)]
    by_round = [first] + [rest[r * n1:(r + 1) * n1] for r in range(ROUNDS - 1)]
    return {"arm": "xtb-rank", "seed": seed, "wall_s": 0.0, "expensive_calls": ROUNDS * n1,
            "cheap_calls": len(df), "cheap_cpu_s": cheap.cpu_seconds(df.id.tolist()),
            "times": [], "notes": [], "indices_by_round": by_round}


def run_chemprop(direction: str, seed: int, df: Any, n1: int) -> dict[str, Any]:
    from active_learning import initial_design
    from benchmarks._peers import chemprop_campaign

    rng = np.random.default_rng([seed, 0])  # the same first 1 % as the campaigns draw
    first = initial_design(len(df), n1, "random", None, rng)
    gaps = df.gap.to_numpy()
    t0 = time.perf_counter()
    out = chemprop_campaign(df.smiles.tolist(), lambda idx: gaps[idx], first, n1, ROUNDS,
                            seed, maximize=direction == "maximize")
    if "error" in out:
        raise RuntimeError(f"chemprop: {out['error']}")
    return {"arm": "chemprop", "direction": direction, "seed": seed,
            "wall_s": time.perf_counter() - t0, "expensive_calls": ROUNDS * n1,
            "cheap_calls": 0, "cheap_cpu_s": 0.0, "notes": [],
            "times": [{"train": s} for s in out["seconds_by_round"]],
            "indices_by_round": out["indices_by_round"]}


def cached_run(arm: str, direction: str, seed: int, data: dict[str, Any],
               fresh: bool) -> dict[str, Any]:
    runs = data["runs"]
    path = runs / f"{arm}_{direction}_s{seed}.json"
    if path.is_file() and not fresh:
        return json.loads(path.read_text())
    print(f"running {arm} {direction} seed {seed}", flush=True)
    n1 = data["n1"]
    if arm == "random":
        out = run_random(seed, len(data["df"]), n1)
    elif arm == "chemprop":
        out = run_chemprop(direction, seed, data["df"], n1)
    elif arm == "xtb-rank":
        out = run_xtb_rank(direction, seed, data["df"], n1, data["xtb_dbs"]["relax"])
    else:
        out = run_campaign(arm, direction, seed, data["pool_csv"], data["atoms_db"],
                           data["xtb_dbs"], n1, runs / f"{arm}_{direction}_s{seed}")
    out["direction"] = direction
    runs.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    return out


# --- the result -------------------------------------------------------------------------------
def _rows(curves: dict[tuple[str, str], np.ndarray], runs: dict[tuple[str, str], list],
          n: int, n1: int) -> list[dict[str, Any]]:
    rows = []
    for (arm, direction), c in sorted(curves.items()):
        rs = runs[(arm, direction)]
        for r in range(ROUNDS):
            times = [run["times"][r] for run in rs if len(run["times"]) > r]
            split = {k: float(np.mean([t.get(k, 0.0) for t in times])) if times else None
                     for k in ("train", "compress", "screen", "prescreen", "select")}
            rows.append({"method": arm, "direction": direction, "seeds": len(c), "round": r,
                         "expensive_pct": 100.0 * n1 * (r + 1) / n,
                         "top1pct_ids_mean": 100 * c[:, r, 0].mean(),
                         "top1pct_ids_sd": 100 * c[:, r, 0].std(),
                         "top1pct_values_mean": 100 * c[:, r, 1].mean(),
                         "top1pct_values_sd": 100 * c[:, r, 1].std(),
                         **{f"{k}_s": v for k, v in split.items()}})
    return rows


def _summary(curves: dict, runs: dict, n: int, n1: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (arm, direction), c in curves.items():
        rs = runs[(arm, direction)]
        out[f"{arm}|{direction}"] = {
            "seeds": len(c), "ids_pct": 100 * c[:, -1, 0].mean(),
            "ids_sd": 100 * c[:, -1, 0].std(), "values_pct": 100 * c[:, -1, 1].mean(),
            "by_round_ids_pct": (100 * c[:, :, 0].mean(0)).tolist(),
            "expensive_calls": float(np.mean([r["expensive_calls"] for r in rs])),
            "cheap_cpu_s": float(np.mean([r["cheap_cpu_s"] for r in rs])),
            "wall_s": float(np.mean([r["wall_s"] for r in rs])),
            "train_s_by_round": [float(np.mean([r["times"][k].get("train", 0.0) for r in rs
                                                if len(r["times"]) > k]))
                                 for k in range(1, ROUNDS) if any(len(r["times"]) > k
                                                                  for r in rs)],
            "batch_mae_ev_by_round": [
                float(np.mean(v)) if (v := [r["batch_mae_by_round"][k] for r in rs
                                            if r.get("batch_mae_by_round")
                                            and r["batch_mae_by_round"][k] is not None])
                else None for k in range(ROUNDS - 1)],
            "notes": sorted({note for r in rs for note in r.get("notes", [])})}
    for direction in {d for _, d in curves}:
        gp = out.get(f"gp|{direction}")
        best = max((out[f"{a}|{direction}"] for a in THREE_D_CHEAP
                    if f"{a}|{direction}" in out), key=lambda s: s["ids_pct"], default=None)
        if gp is None or best is None:
            continue
        reach = next((r + 1 for r, v in enumerate(best["by_round_ids_pct"])
                      if v >= gp["ids_pct"]), None)
        best["expensive_pct_to_reach_gp_final"] = None if reach is None else 100.0 * reach * n1 / n
    return out


def _plot(curves: dict[tuple[str, str], np.ndarray], n1: int, n: int, path: Path) -> Path:
    import matplotlib.pyplot as plt

    directions = sorted({d for _, d in curves})
    fig, axes = plt.subplots(1, len(directions), figsize=(6.5 * len(directions), 4.6),
                             squeeze=False, sharey=True)
    x = 100.0 * n1 * np.arange(1, ROUNDS + 1) / n
    for ax, direction in zip(axes[0], directions):
        for (arm, d), c in sorted(curves.items()):
            if d != direction:
                continue
            m, s = 100 * c[:, :, 0].mean(0), 100 * c[:, :, 0].std(0)
            style = "-" if arm in THREE_D_CHEAP else "--"
            ax.errorbar(x, m, yerr=s, fmt="o" + style, ms=3, capsize=2,
                        label=f"{arm} ({len(c)} seeds)")
        ax.axhline(85, color="k", lw=0.8, ls=":", label="target 85 %")
        ax.set(xlabel="expensive (DFT) calls, % of the pool",
               title=f"{'smallest' if direction == 'minimize' else 'largest'} HOMO-LUMO gaps "
                     f"(n = {n})", ylim=(0, 102))
        ax.legend(fontsize=7, ncol=2)
    axes[0][0].set_ylabel("true top-1 % found (%)")
    return save_figure(fig, path)


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000-molecule pool, 1 seed, no GNN")
    ap.add_argument("--arms", nargs="+", choices=ARMS, default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--directions", nargs="+", choices=("minimize", "maximize"),
                    default=["minimize", "maximize"])
    ap.add_argument("--fresh", action="store_true", help="rerun cached runs")
    ap.add_argument("--only-run", action="store_true", help="run, write no result")
    ap.add_argument("--collect", action="store_true", help="only score the cached runs")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    load = LoadWatch()
    n = 2000 if args.quick else 10000
    arms = args.arms or ([a for a in ARMS if not a.startswith(("gnn", "chemprop"))]
                         if args.quick else list(ARMS))
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    df = qm9_pool(n)
    t0 = time.process_time()
    # one cache per judge for both sizes: the quick pool is a prefix of the full one
    atoms_db, xtb_sp = xtb_sweep(qm9_pool(10000), "s0")
    xtb_dbs = {"sp": xtb_sp, "relax": DATA / "xtb_relax_s0.db"}
    if args.collect or set(arms) & {*THREE_D_CHEAP, "xtb-rank"} - {"gp-mf-sp"}:
        xtb_dbs["relax"] = xtb_sweep(qm9_pool(10000), "s0", relax=True)[1]
    print(f"3D + xTB cache ready ({time.process_time() - t0:.0f} CPU-s now)", flush=True)
    pool_csv = DATA / f"pool_{n}_s0.csv"
    n1 = round(0.01 * n)
    data = {"df": df, "pool_csv": pool_csv, "atoms_db": atoms_db, "xtb_dbs": xtb_dbs, "n1": n1,
            "runs": DATA / ("runs_quick" if args.quick else "runs")}
    if not args.collect:
        for direction in args.directions:
            for arm in arms:
                for seed in seeds:
                    cached_run(arm, direction, seed, data, args.fresh)
    if args.only_run:
        return
    runs: dict[tuple[str, str], list] = {}
    for path in sorted(data["runs"].glob("*.json")):
        run = json.loads(path.read_text())
        runs.setdefault((run["arm"], run["direction"]), []).append(run)
    gaps = df.gap.to_numpy()
    tops = {d: TopK(gaps, n1, maximize=d == "maximize", decimals=4)
            for d in ("minimize", "maximize")}
    curves = {key: np.stack([recall_curve(r["indices_by_round"], tops[key[1]]) for r in rs])
              for key, rs in runs.items()}
    rows = _rows(curves, runs, n, n1)
    print_table([r for r in rows if r["round"] == ROUNDS - 1],
                title=f"QM9 gap campaigns (n = {n}): true top-1 % found after 6 %")
    summary = _summary(curves, runs, n, n1)
    cheap_total = {k: CachedXTB(str(v)).cpu_seconds(df.id.tolist()) for k, v in xtb_dbs.items()}
    path = write_result(NAME, args.quick, rows, {
        "best_3d_cheap_top1pct_ids_after_6pct": 85.0, "lead_over_gp_points": 10.0,
        "lead_over_chemprop_points": 20.0, "expensive_pct_to_reach_gp_final": 3.0},
        extra={"pool": n, "per_round": n1, "rounds": ROUNDS, "summary": summary,
               "xtb_sweep_cpu_s_whole_pool": cheap_total,
               "load_average_1_5_15min": load.record(),
               "notes": ["expensive judge: B3LYP/6-31G(2df,p) HOMO-LUMO gap (QM9) by lookup",
                         "cheap judge: GFN2-xTB (tblite, physics.XTB, 1 thread) on RDKit "
                         "ETKDG+MMFF structures, relaxed with xTB first (BFGS, fmax 0.05 eV/Å) "
                         "except in gp-mf-sp; cheap_cpu_s charges each campaign the CPU "
                         "seconds (3D build + xTB) of the cheap calls it made",
                         "ids: fraction of the true top-1 % ids found; values: the top-1 % "
                         "gaps found as a multiset (rounded to 1e-4 eV, ties count once)",
                         "times: seconds per round from each plan, mean over seeds, on a "
                         "shared 2-core machine (noisy; see the load averages)"]})
    print(f"wrote {path} and {_plot(curves, n1, n, RESULTS / NAME)}")


if __name__ == "__main__":
    main()
