"""LacI MWC benchmark: the sensor's physics against measured curves, and fit_hill's statistics.

    python benchmarks/lacI_mwc.py [--quick] [--data ../shared/data/lacI_mwc]

1. Razo-Mejia 2018 (wild-type LacI, 3 operators × 6 repressor counts × 13 IPTG doses): RMSE of
   the MWC model with the published parameters (Ka 139 µM, Ki 0.53 µM, ε_AI 4.5 kBT, O1/O2/O3
   −15.3/−13.9/−9.7 kBT, repressors = 2 × the tetramer count in the file), against the replicate
   means and against every single measurement; competitors in the same run: a 4-parameter Hill
   fit per curve (a descriptive upper bound with 72 free parameters) and a constant per curve.
2. Chure 2019 (17 mutants): the MWC model with the published per-mutant parameters, used as
   the paper predicts: DNA-binding mutants take ε_RA fitted at 260 repressors, inducer mutants
   Ka, Ki, ε_AI fitted on O2, double mutants combine the two; every other curve is a prediction.
3. fit_hill on synthetic curves over many seeds: bias and 95%-interval coverage, with the noise
   estimated from the residuals and with a known σ.
4. fit_hill on every curve of both data sets (replicate means and single replicates).

Writes benchmarks/results/lacI_mwc.json and lacI_mwc.png (measured vs model curves, Chure
predictions vs measurements, coverage).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, print_table, write_result
from physics import OPERATOR_ENERGIES, fit_hill, hill, mwc_fold_change

WT = dict(Ka=139.0, Ki=0.53, ep_ai=4.5)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lacI_mwc"
TRUTH = dict(rmin=0.05, rmax=1.0, K=20.0, n=1.5)


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


# ---------------------------------------------------------------- 1. Razo-Mejia 2018
def razo_mejia(data: Path) -> tuple[list[dict], pd.DataFrame]:
    raw = pd.read_csv(data / "RazoMejia_2018.csv", comment="#")
    raw = raw[raw.repressors > 0].rename(columns={"fold_change_A": "fc", "IPTG_uM": "c"})
    raw["R"] = 2.0 * raw.repressors  # tetramers → dimers
    raw["mwc"] = mwc_fold_change(raw.c.to_numpy(), **WT,
                                 ep_ra=raw.operator.map(OPERATOR_ENERGIES).to_numpy(),
                                 repressors=raw.R.to_numpy())
    means = raw.groupby(["operator", "R", "c"]).agg(fc=("fc", "mean"), sd=("fc", "std"),
                                                    mwc=("mwc", "first")).reset_index()
    means["hill"], means["const"] = np.nan, np.nan
    for _, g in means.groupby(["operator", "R"]):
        p = fit_hill(g.c, g.fc, sigma=g.sd)
        means.loc[g.index, "hill"] = p.predict(g.c.to_numpy())
        means.loc[g.index, "const"] = g.fc.mean()
    rows = []
    for op, g in means.groupby("operator"):
        graw = raw[raw.operator == op]
        for method, col in (("MWC published", "mwc"), ("Hill fit per curve", "hill"),
                            ("constant per curve", "const")):
            row = {"method": method, "dataset": "RazoMejia2018", "operator": op,
                   "repressors": "all", "rmse": _rmse(g[col], g.fc), "n_points": len(g)}
            if col == "mwc":
                row["rmse_single_measurements"] = _rmse(graw.mwc, graw.fc)
                row["replicate_sd_rms"] = float(np.sqrt(np.mean(g.sd**2)))
            rows.append(row)
        for R, gr in g.groupby("R"):
            rows.append({"method": "MWC published", "dataset": "RazoMejia2018", "operator": op,
                         "repressors": int(R), "rmse": _rmse(gr.mwc, gr.fc),
                         "n_points": len(gr)})
    return rows, means


# ---------------------------------------------------------------- 2. Chure 2019
def _summary(data: Path) -> tuple[dict, dict]:
    ind = pd.read_csv(data / "Chure2019_KaKi_epAI_summary.csv", comment="#")
    ind = ind[(ind.operator == "O2") & ind.parameter.isin(["Ka", "Ki", "ep_AI"])]
    ind_params = {m: dict(zip(g.parameter.str.replace("ep_AI", "ep_ai"), g["median"]))
                  for m, g in ind.groupby("mutant")}
    dna = pd.read_csv(data / "Chure2019_DNA_binding_energy_summary.csv", comment="#")
    dna = dna[(dna.parameter == "ep_RA") & (dna.repressors == 260)]
    return ind_params, dict(zip(dna.mutant, dna["median"]))


def chure(data: Path) -> tuple[list[dict], pd.DataFrame]:
    df = pd.read_csv(data / "Chure2019_compiled_data.csv", comment="#")
    ind, dna = _summary(data)
    means = df.groupby(["mutant", "class", "operator", "repressors", "IPTGuM"]).fold_change.agg(
        ["mean", "std"]).reset_index().rename(columns={"IPTGuM": "c", "mean": "fc", "std": "sd"})
    preds = []
    for _, r in means.iterrows():
        parts = r.mutant.split("-") if r.mutant != "wt" else []
        params = dict(WT)
        ep_ra = OPERATOR_ENERGIES[r.operator]
        for part in parts:
            if part in ind:
                params = {k: ind[part][k] for k in ("Ka", "Ki", "ep_ai")}
            elif part in dna:
                ep_ra = dna[part]
            else:
                raise ValueError(f"no published parameters for mutant {part!r}")
        preds.append(float(mwc_fold_change(r.c, **params, ep_ra=ep_ra, repressors=r.repressors)))
    means["mwc"] = preds
    rows = []
    for (cls, op), g in means.groupby(["class", "operator"]):
        rows.append({"method": "MWC published", "dataset": "Chure2019", "class": cls,
                     "operator": op, "repressors": "all", "rmse": _rmse(g.mwc, g.fc),
                     "n_points": len(g), "mutants": int(g.mutant.nunique())})
    for (cls, R), g in means[means.operator == "O2"].groupby(["class", "repressors"]):
        if cls == "DNA":
            rows.append({"method": "MWC published", "dataset": "Chure2019", "class": cls,
                         "operator": "O2", "repressors": int(R), "rmse": _rmse(g.mwc, g.fc),
                         "n_points": len(g), "mutants": int(g.mutant.nunique())})
    rows.append({"method": "MWC published", "dataset": "Chure2019", "class": "all",
                 "operator": "all", "repressors": "all", "rmse": _rmse(means.mwc, means.fc),
                 "n_points": len(means), "mutants": int(means.mutant.nunique())})
    return rows, means


# ---------------------------------------------------------------- 3. fit_hill statistics
def coverage(n_seeds: int) -> list[dict]:
    d = np.repeat(np.r_[0.0, np.logspace(-1, 3, 10)], 3)  # 11 doses × 3 replicates
    rows = []
    for noise in ("estimated", "known"):
        est = {k: [] for k in TRUTH}
        cov = {k: [] for k in TRUTH}
        failed = 0
        for seed in tqdm(range(n_seeds), desc=f"fit_hill coverage ({noise} σ)", leave=False):
            y = hill(d, **TRUTH) + np.random.default_rng(seed).normal(0.0, 0.05, d.size)
            p = fit_hill(d, y, sigma=np.full(d.size, 0.05) if noise == "known" else None)
            if p.failed:
                failed += 1
                continue
            for k, v in TRUTH.items():
                lo, hi = p.interval(k)
                cov[k].append(lo < v < hi)
                est[k].append(getattr(p, k))
        for k, v in TRUTH.items():
            e = np.array(est[k])
            rows.append({"method": "fit_hill", "study": "synthetic", "noise": noise,
                         "param": k, "truth": v, "bias": float(e.mean() - v),
                         "rel_bias_median": float(np.median(e) / v - 1),
                         "rel_rmse": float(np.sqrt(np.mean((e - v) ** 2)) / v),
                         "coverage_95": float(np.mean(cov[k])), "n_seeds": n_seeds,
                         "failed": failed})
    return rows


def fit_every_curve(data: Path) -> list[dict]:
    rm = pd.read_csv(data / "RazoMejia_2018.csv", comment="#")
    rm = rm[rm.repressors > 0]
    ch = pd.read_csv(data / "Chure2019_compiled_data.csv", comment="#")
    sets = {
        ("RazoMejia2018", "replicate means"): [g.groupby("IPTG_uM").fold_change_A.mean()
                                               for _, g in rm.groupby(["operator", "repressors"])],
        ("RazoMejia2018", "single replicates"): [
            g.set_index("IPTG_uM").fold_change_A
            for _, g in rm.groupby(["date", "username", "operator", "repressors"])],
        ("Chure2019", "replicate means"): [
            g.groupby("IPTGuM").fold_change.mean()
            for _, g in ch.groupby(["mutant", "operator", "repressors"])],
        ("Chure2019", "single replicates"): [
            g.set_index("IPTGuM").fold_change
            for _, g in ch.groupby(["date", "username", "mutant", "operator", "repressors"])],
    }
    rows = []
    for (name, kind), curves in sets.items():
        fits, skipped = [], 0
        for s in tqdm(curves, desc=f"fit_hill {name} {kind}", leave=False):
            if s.index.nunique() < 5:  # a replicate measured at too few doses to fit 4 parameters
                skipped += 1
                continue
            fits.append(fit_hill(s.index.to_numpy(), s.to_numpy()))
        rows.append({"method": "fit_hill", "study": "fit every curve", "dataset": name,
                     "curves": kind, "n_curves": len(curves), "too_few_doses": skipped,
                     "fitted": sum(not p.failed for p in fits),
                     "failed": sum(p.failed for p in fits), "flat": sum(p.flat for p in fits),
                     "censored": sum(p.censored for p in fits),
                     "median_r2": float(np.median([p.r2 for p in fits if not p.failed]))})
    return rows


# ---------------------------------------------------------------- plots and main
def plot(razo: pd.DataFrame, ch: pd.DataFrame, cov_rows: list[dict], path: Path) -> None:
    fig, axes = plt.subplots(1, 5, figsize=(24, 4.6))
    grid = np.logspace(-2, 4, 200)
    for ax, op in zip(axes[:3], ("O1", "O2", "O3")):
        g = razo[razo.operator == op]
        for color, (R, gr) in zip(plt.cm.viridis(np.linspace(0, 0.9, 6)), g.groupby("R")):
            c = gr.c.replace(0, 1e-2)
            ax.errorbar(c, gr.fc, yerr=gr.sd, fmt="o", ms=4, color=color, label=f"R = {int(R)}")
            ax.plot(grid, mwc_fold_change(grid, **WT, ep_ra=OPERATOR_ENERGIES[op], repressors=R),
                    color=color)
        ax.set(xscale="log", xlabel="IPTG (µM)", ylabel="fold-change",
               title=f"Razo-Mejia 2018, {op} ({OPERATOR_ENERGIES[op]} kBT): data vs MWC")
        ax.legend(fontsize=7)
    ax = axes[3]
    for cls, g in ch.groupby("class"):
        ax.scatter(g.mwc, g.fc, s=8, label=cls)
    ax.plot([0, 1.2], [0, 1.2], "k--", lw=1)
    ax.set(xlabel="MWC prediction", ylabel="measured fold-change",
           title="Chure 2019 mutants: predicted vs measured")
    ax.legend(fontsize=7)
    ax = axes[4]
    params = list(TRUTH)
    for i, noise in enumerate(("estimated", "known")):
        vals = [next(r["coverage_95"] for r in cov_rows if r["param"] == k and r["noise"] == noise)
                for k in params]
        ax.bar(np.arange(4) + 0.4 * i, vals, width=0.4, label=f"σ {noise}")
    ax.axhline(0.95, color="k", ls="--", lw=1)
    ax.set(xticks=np.arange(4) + 0.2, xticklabels=params, ylim=(0.8, 1.0),
           ylabel="coverage of the 95% interval", title="fit_hill coverage over seeds")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds (about 1 minute)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    razo_rows, razo = razo_mejia(args.data)
    chure_rows, ch = chure(args.data)
    cov_rows = coverage(200 if args.quick else 1000)
    fit_rows = fit_every_curve(args.data)
    print_table([r for r in razo_rows if r["repressors"] == "all"],
                title="Razo-Mejia 2018: RMSE of fold-change per operator (replicate means)")
    print_table([r for r in razo_rows if r["repressors"] != "all"],
                title="\nRazo-Mejia 2018: MWC RMSE per operator and repressor dimers")
    print_table(chure_rows, title="\nChure 2019: MWC with published mutant parameters")
    print_table(cov_rows, title="\nfit_hill on synthetic curves (K=20 µM, n=1.5, σ=0.05)")
    print_table(fit_rows, title="\nfit_hill on every LacI curve")
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(razo, ch, cov_rows, RESULTS / "lacI_mwc.png")
    path = write_result(
        "lacI_mwc", args.quick, razo_rows + chure_rows + cov_rows + fit_rows,
        targets={"rmse_razo_mejia_per_operator": 0.08, "coverage_95": 0.95, "failed": 0},
        extra={"seconds": time.perf_counter() - t0, "plot": "benchmarks/results/lacI_mwc.png"})
    print(f"\nwrote {path} and lacI_mwc.png in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
