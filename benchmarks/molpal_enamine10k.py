"""MolPAL's Enamine10k protocol, run through scout's own campaign loop.

The AutoDock Vina scores of Enamine10k (MolPAL, PDB 4UNN; kcal/mol, lower is better) are hidden
behind a ``LookupSimulator``; a real :class:`~active_learning.Campaign` (SQLite ledger,
in-process worker, ``plan_round``) starts from a random 1 % of the pool and acquires 5 more
batches of 1 % greedily. After each round we count the fraction of the true top-100 *ids*
found and of the top-100 *scores* found (a multiset intersection: scores come in 0.1 kcal/mol
steps, so ids tied at the cut are interchangeable), mean ± sd over seeds, for:

- ``gnn``: the E(3)-equivariant GNN teacher (ensemble of 3, small, ``max_time`` per member) on
  RDKit ETKDG conformers built once and cached under ``benchmarks/data/`` (no MMFF: halves the
  build time of 10k molecules on this machine), compressed into a fingerprint screener that
  screens the pool; the teacher re-ranks the screener's shortlist;
- ``gp`` / ``gp-ucb``: :class:`~surrogates.MoleculeGP`, an exact Gaussian process whose kernel
  adds Tanimoto similarity of Morgan bits to an RBF on the RDKit 2D descriptors, greedy or
  UCB (β = 2) on its posterior;
- ``fingerprint``: one Morgan-count MLP (MolPAL's own baseline family), greedy;
- ``fingerprint-ucb``: an ensemble of 3 of them with UCB (β = 2);
- ``random``: a seeded random order of the pool;
- ``chemprop``: MolPAL's model family, chemprop's D-MPNN (2.3.1, its own venv), greedy, trained
  each round on every score acquired so far (``benchmarks/_peers.py``);
- ``baybe``: BayBE 0.15.0 (own venv) with its ECFP substance encoding and default recommender,
  under an 8 GB memory cap and a 40 min time cap per campaign: BayBE is slow here (about 15 min
  to build the 10k search space, minutes per pick), so the peers' comparison runs on the seeded
  2,000-molecule subset (``--peers``: every arm on that subset, in the same run).

Each (arm, seed) run is cached as JSON under ``benchmarks/data/molpal_enamine10k/runs`` so the
heavy GNN seeds can be run in separate background processes (``--arms gnn --seeds 3``); the
plain command runs whatever is missing and writes ``benchmarks/results/molpal_enamine10k.json``
and ``.png``. ``--quick`` uses a seeded 2,000-molecule subset, 1 seed and a 10 s GNN.

Run: ``python benchmarks/molpal_enamine10k.py [--quick] [--arms ...] [--seeds N ...] [--fresh]``
(``--only-run`` runs seeds without writing the result, ``--collect`` only scores cached runs).
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, print_table, save_figure, write_result

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "molpal" / \
    "Enamine10k_scores.csv.gz"
WORK = Path(__file__).resolve().parent / "data" / "molpal_enamine10k"
NAME = "molpal_enamine10k"
TOP_K = 100
ROUNDS = 6  # the initial 1 % plus 5 acquired batches of 1 %
ARMS = ("gp-ucb", "gp", "fingerprint", "fingerprint-ucb", "gnn", "random", "chemprop", "baybe")
PEERS = ("chemprop", "baybe")
BAYBE_MEMORY_GB, BAYBE_TIME_S = 8.0, 2400.0
GNN_MAX_TIME = 30.0  # s of training per ensemble member and round (full run)
GNN_DISTIL = 1024  # pool molecules the GNN labels per round to distil its screener


# --- data -------------------------------------------------------------------------------------
def prepare(quick: bool) -> Path:
    """Write ``table[_quick].csv`` (id, smiles, score) once and return its path.

    Three SMILES appear twice in the source with different scores; the first row is kept
    (a pool needs unique candidates). Rows without a score stay in the pool: the lookup
    then fails them, as MolPAL's protocol asks.
    """
    path = WORK / ("table_quick.csv" if quick else "table.csv")
    if path.is_file():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(SOURCE).drop_duplicates("smiles", keep="first").reset_index(drop=True)
    df.insert(0, "id", [f"E{i:05d}" for i in range(len(df))])
    if quick:
        df = df.sample(n=2000, random_state=0).sort_index()
    df.to_csv(path, index=False)
    return path


def build_conformers(table: Path) -> Path:
    """ETKDG conformers (seed 0, no MMFF) of every pool molecule, cached in an ASE database
    that the campaigns' pools read (``pool_atoms.db``); built in chunks so a kill loses little."""
    from active_learning._pool._molecules import MoleculePool
    from physics import smiles_to_atoms

    df = pd.read_csv(table)
    db = WORK / "pool_atoms.db"  # shared by the full and the quick table (same ids/SMILES)
    pool = MoleculePool(df.smiles.tolist(), df.id.tolist(), cache_path=db,
                        builder=functools.partial(smiles_to_atoms, optimize=False))
    idx = np.arange(len(df))
    for start in range(0, idx.size, 500):
        pool.get(idx[start:start + 500], "atoms")
    return db


def truth(table: Path) -> tuple[pd.DataFrame, set[str], Counter]:
    """The table, the true top-k ids (ties at the cut broken by row order), the top-k scores
    as a multiset (0.1 kcal/mol steps, so ``Counter`` of rounded values)."""
    df = pd.read_csv(table)
    scored = df.dropna(subset=["score"]).sort_values("score", kind="stable")
    top = scored.head(TOP_K)
    return df, set(top.id), Counter(np.round(top.score, 1))


def recall(found: list[str], df: pd.DataFrame, top_ids: set[str],
           top_scores: Counter) -> tuple[float, float]:
    """(fraction of top-k ids found, fraction of top-k scores found as a multiset)."""
    got = df[df.id.isin(found)].dropna(subset=["score"]).sort_values("score").head(TOP_K)
    ids = len(top_ids & set(found)) / TOP_K
    scores = sum((Counter(np.round(got.score, 1)) & top_scores).values()) / TOP_K
    return ids, scores


# --- one run ----------------------------------------------------------------------------------
def _config(arm: str, seed: int, table: Path, n1: int, quick: bool) -> dict[str, Any]:
    # greedy needs no spread: one fingerprint MLP, as MolPAL's greedy runs use one model
    surrogate: dict[str, Any] = {"kind": "fingerprint", "ensemble": 3 if arm.endswith("-ucb")
                                 else 1, "hidden": [256, 128], "epochs": 150,
                                 "patience": 15, "device": "cpu"}
    compression: dict[str, Any] = {"enabled": False}
    if arm.startswith("gp"):  # one exact GP: its posterior std is the spread UCB needs
        surrogate = {"kind": "gp", "ensemble": 1}
    if arm == "gnn":
        surrogate = {"kind": "gnn", "ensemble": 3, "target": "score", "extensive": True,
                     "lmax": 1, "channels": 16, "n_layers": 2, "cutoff": 5.0, "epochs": 200,
                     "batch_size": 32, "patience": 20, "device": "cpu",
                     "max_time": 10.0 if quick else GNN_MAX_TIME}
        # CPU time: the teacher labels 1,024 pool molecules per round to distil, not 4,096
        compression = {"enabled": True, "prune_amount": 0.0, "screen_fraction": 0.03,
                       "distil_sample": GNN_DISTIL}
    return {
        "campaign": {"name": f"{arm}_s{seed}", "objective": "score", "direction": "minimize",
                     "budget": ROUNDS * n1, "initial": n1, "batch_size": n1, "seed": seed,
                     "rounds": ROUNDS, "workers": 1, "top_k": TOP_K, "max_retries": 0},
        "pool": {"kind": "molecules", "path": str(table), "id_column": "id",
                 "smiles_column": "smiles"},
        "simulator": {"kind": "lookup", "path": str(table), "key_column": "id",
                      "value_column": "score"},
        "surrogate": surrogate,
        "compression": compression,
        "acquisition": {"kind": "ucb" if arm.endswith("-ucb") else "greedy", "beta": 2.0,
                        "initial_design": "random"},
    }


def _runs(mode: str) -> Path:
    """Where a mode's runs are cached: ``runs`` (full pool), ``runs_quick``, ``runs_peers``."""
    return WORK / ("runs" if mode == "full" else f"runs_{mode}")


def run_campaign(arm: str, seed: int, table: Path, n1: int, mode: str) -> dict[str, Any]:
    """One seeded campaign; the ids evaluated per round and the plan's time split."""
    from active_learning import Campaign, CampaignConfig
    folder = _runs(mode) / f"{arm}_s{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / f"{arm}_s{seed}.artifacts" / "pool_cache").mkdir(parents=True)
    if arm == "gnn":  # the conformers built once, read (never rebuilt) by every run
        (folder / f"{arm}_s{seed}.artifacts" / "pool_cache" / "pool_atoms.db").symlink_to(
            WORK / "pool_atoms.db")
    cfg = CampaignConfig.from_dict(_config(arm, seed, table, n1, mode == "quick"), folder)
    t0 = time.perf_counter()
    summary = Campaign(cfg, progress=True).run()
    wall = time.perf_counter() - t0
    rounds: dict[int, list[str]] = {}
    for t in summary["trials"]:
        rounds.setdefault(int(t["round"]), []).append(str(t["id"]))
    return {"arm": arm, "seed": seed, "wall_s": wall,
            "ids_by_round": [rounds.get(r, []) for r in range(ROUNDS)],
            "failed": summary["failed"],
            "times": [r["times"] for r in summary["round_log"]]}


def run_random(seed: int, table: Path, n1: int) -> dict[str, Any]:
    df = pd.read_csv(table)
    order = np.random.default_rng(seed).permutation(len(df))
    ids = df.id.to_numpy()[order]
    return {"arm": "random", "seed": seed, "wall_s": 0.0, "failed": 0, "times": [],
            "ids_by_round": [ids[r * n1:(r + 1) * n1].tolist() for r in range(ROUNDS)]}


def run_peer(arm: str, seed: int, table: Path, n1: int) -> dict[str, Any]:
    """chemprop or BayBE on the same table, from the same random first 1 % as the campaigns."""
    from active_learning import initial_design
    from benchmarks._peers import baybe_campaign, chemprop_campaign

    df = pd.read_csv(table)
    ids, scores = df.id.to_numpy(), df.score.to_numpy()
    first = initial_design(len(df), n1, "random", None, np.random.default_rng([seed, 0]))
    t0 = time.perf_counter()
    if arm == "chemprop":
        out = chemprop_campaign(df.smiles.tolist(), lambda idx: scores[idx], first, n1, ROUNDS,
                                seed, maximize=False)
        if "error" in out:
            raise RuntimeError(f"chemprop: {out['error']}")
        by_round = [ids[b].tolist() for b in out["indices_by_round"]]
        return {"arm": arm, "seed": seed, "wall_s": time.perf_counter() - t0, "failed": 0,
                "times": [{"train": s} for s in out["seconds_by_round"]],
                "ids_by_round": by_round}
    out = baybe_campaign(ids.tolist(), df.smiles.tolist(), scores.tolist(),
                         ids[first].tolist(), n1, ROUNDS, seed, "minimize",
                         memory_gb=BAYBE_MEMORY_GB, time_s=BAYBE_TIME_S)
    by_round = list(out.get("ids_by_round", []))
    return {"arm": arm, "seed": seed, "wall_s": out.get("wall_s", 0.0), "failed": 0,
            "times": [{"train": s} for s in out.get("seconds_by_round", [])],
            "stopped": out.get("stopped") or out.get("error", ""),
            "ids_by_round": by_round + [[]] * (ROUNDS - len(by_round))}


def cached_run(arm: str, seed: int, table: Path, n1: int, mode: str,
               fresh: bool) -> dict[str, Any]:
    path = _runs(mode) / f"{arm}_s{seed}.json"
    if path.is_file() and not fresh:
        return json.loads(path.read_text())
    if arm in PEERS and mode == "full":
        raise ValueError(f"{arm} runs on the 2,000-molecule subset only: use --peers")
    out = run_random(seed, table, n1) if arm == "random" else \
        run_peer(arm, seed, table, n1) if arm in PEERS else \
        run_campaign(arm, seed, table, n1, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    return out


# --- report -----------------------------------------------------------------------------------
def score_run(run: dict[str, Any], df: pd.DataFrame, top_ids: set[str],
              top_scores: Counter) -> np.ndarray:
    """(rounds, 2): cumulative fraction of top-k ids and scores found after each round."""
    found: list[str] = []
    out = []
    for ids in run["ids_by_round"]:
        found += ids
        out.append(recall(found, df, top_ids, top_scores))
    return np.array(out)


def _plot(curves: dict[str, np.ndarray], n1: int, n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    x = 100.0 * n1 * np.arange(1, ROUNDS + 1) / n
    for arm, c in curves.items():  # c: (seeds, rounds, 2)
        for j, ax in enumerate(axes):
            m, s = 100 * c[:, :, j].mean(0), 100 * c[:, :, j].std(0)
            ax.errorbar(x, m, yerr=s, marker="o", capsize=3, label=f"{arm} ({len(c)} seeds)")
    for j, ax in enumerate(axes):
        ax.axhline(59.6, ls=":", c="grey", label="MolPAL MPN greedy (59.6 %)" if j == 0 else None)
        ax.axhline(75, ls="--", c="k", lw=0.8, label="target 75 %" if j == 0 else None)
        ax.set_xlabel("pool evaluated (%)")
        ax.set_title(["top-100 ids found", "top-100 scores found"][j])
    axes[0].set_ylabel("found (%)")
    axes[0].legend(fontsize=7)
    save_figure(fig, path)
    plt.close(fig)


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2,000-molecule subset, 1 seed")
    ap.add_argument("--peers", action="store_true",
                    help="every arm, chemprop and BayBE included, on the 2,000-molecule subset")
    ap.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="seeds to run (default 0-4; 0 with --quick)")
    ap.add_argument("--fresh", action="store_true", help="rerun cached (arm, seed) runs")
    ap.add_argument("--only-run", action="store_true",
                    help="run the missing campaigns, write no result (for background seeds)")
    ap.add_argument("--collect", action="store_true",
                    help="run nothing: score the cached runs and write the result")
    args = ap.parse_args()
    torch.set_num_threads(1)
    mode = "quick" if args.quick else "peers" if args.peers else "full"
    subset = mode != "full"
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2] if args.peers else [0, 1, 2, 3, 4])
    if not args.peers:  # the peers' comparison is the --peers run
        args.arms = [a for a in args.arms if a not in PEERS] if not args.quick else \
            [a for a in args.arms if a != "baybe"]
    table = prepare(subset)
    if "gnn" in args.arms and not args.collect:
        t0 = time.perf_counter()
        build_conformers(table)
        print(f"conformers ready ({time.perf_counter() - t0:.0f} s)")
    df, top_ids, top_scores = truth(table)
    n = len(df)
    n1 = max(1, round(0.01 * n))
    runs = {} if args.collect else {
        arm: [cached_run(arm, s, table, n1, mode, args.fresh) for s in seeds]
        for arm in args.arms}
    if args.only_run:
        return
    # every cached seed counts in the result, not only the ones asked for now
    folder = _runs(mode)
    for arm in ARMS:
        have = sorted(folder.glob(f"{arm}_s*.json"))
        runs[arm] = [json.loads(p.read_text()) for p in have] or runs.get(arm, [])
    runs = {a: r for a, r in runs.items() if r}
    curves = {a: np.stack([score_run(r, df, top_ids, top_scores) for r in rs])
              for a, rs in runs.items()}
    rows = []
    for arm, c in curves.items():
        for r in range(ROUNDS):
            times = [run["times"][r] for run in runs[arm] if len(run["times"]) > r]
            split = {k: float(np.mean([t.get(k, 0.0) for t in times])) if times else None
                     for k in ("train", "compress", "screen", "select")}
            rows.append({"method": arm, "seeds": len(c), "round": r,
                         "evaluated_pct": 100.0 * n1 * (r + 1) / n,
                         "top100_ids_mean": 100 * c[:, r, 0].mean(),
                         "top100_ids_sd": 100 * c[:, r, 0].std(),
                         "top100_scores_mean": 100 * c[:, r, 1].mean(),
                         "top100_scores_sd": 100 * c[:, r, 1].std(),
                         **{f"{k}_s": v for k, v in split.items()}})
    print_table(rows, title=f"Enamine10k (n = {n}), 1 % = {n1} per round")
    final = {a: {"ids_pct": 100 * c[:, -1, 0].mean(), "ids_sd": 100 * c[:, -1, 0].std(),
                 "scores_pct": 100 * c[:, -1, 1].mean(), "seeds": len(c),
                 "wall_s_per_seed": float(np.mean([r["wall_s"] for r in runs[a]])),
                 "rounds_done": [sum(bool(b) for b in r["ids_by_round"]) for r in runs[a]],
                 "stopped_by": sorted({r.get("stopped", "") for r in runs[a]} - {""})}
             for a, c in curves.items()}
    name = NAME + ("_peers" if mode == "peers" else "")
    write_result(name, args.quick, rows, {"top100_ids_pct_after_6pct": 75.0}, extra={
        "dataset": "Enamine10k Vina scores vs 4UNN (MolPAL, commit a403233)",
        "pool": n, "per_round": n1, "rounds": ROUNDS, "missing_scores": int(df.score.isna().sum()),
        "final": final, "reference": {"MolPAL MPN greedy, top-100 ids after 6 %": [59.6, 2.3],
                                      "random": 6.0},
        "notes": ["ids: fraction of the true top-100 ids (ties at the cut by row order)",
                  "scores: multiset intersection of the 100 best scores found with the true "
                  "top-100 scores (0.1 kcal/mol steps)",
                  "the source table has no missing scores (the shared README's 111 unscored "
                  "molecules are absent from this file); 3 duplicate SMILES keep their first row",
                  "gnn conformers: RDKit ETKDG seed 0 without MMFF; GNN (lmax 1, 16 channels, "
                  f"2 layers, ensemble 3) trained with max_time {GNN_MAX_TIME} s per member "
                  f"and round; screener distilled on {GNN_DISTIL} teacher-labelled molecules "
                  "per round; the screener's best 3 % (>= 4 batches) re-ranked by the teacher",
                  "times: seconds per round from the plan (train/compress/screen/select), mean "
                  "over seeds, on a shared 2-core machine (noisy): the fingerprint and gnn arms "
                  "ran with 4 concurrent jobs (load average 11-14), the gp arms with one other "
                  "job (load ~2)",
                  "gp: MoleculeGP, exact GP with Tanimoto(Morgan r2, 2048 bits) + RBF on the "
                  "217 RDKit 2D descriptors, hyper-parameters by marginal likelihood each "
                  "round; its round-1 screen includes computing the descriptors of the pool "
                  "once (~11 ms per molecule, cached for later rounds)",
                  "seeds per arm: " + ", ".join(f"{a} {len(c)}" for a, c in curves.items())
                  + ("" if all(len(c) >= 5 for c in curves.values()) else
                     "; arms with fewer than 5 seeds ran as many as this session's CPU time "
                     "allowed (a GNN seed took ~28 min wall here)")]})
    png = RESULTS / f"{name}.png"
    _plot(curves, n1, n, png)
    print(f"wrote {RESULTS / (name + '.json')} and {png}")


if __name__ == "__main__":
    main()
