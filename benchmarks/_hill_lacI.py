"""Part (b) of ``benchmarks/hill.py``: LacI mutants (Chure et al. 2019), leave-one-mutant-out.

Data: ``../shared/data/lacI_mwc/Chure2019_compiled_data.csv`` (fold-change vs IPTG µM for 17
mutants × operators × repressor counts; replicate measurements averaged per IPTG dose, σ = the
standard error of the mean, floored at 0.02). A curve is one (mutant, operator, repressors)
condition. Held-out mutant m: both models see every curve of the other mutants only.

- HillSurrogate: design vector = one-hot of the mutations present (Y20I, Q21A, Q21M, F164T,
  Q294K, Q294R, Q294V), one-hot operator, log10 repressors → Hill parameters (positive,
  increasing), σ-weighted curve loss.
- MWC with the same information: the published wild type plus an additive shift per mutation of
  (ln Ka, ln Ki, ε_AI, ε_RA), and ε_RA per operator, all fitted by ``scipy.optimize.least_squares``
  on the training curves; the held-out mutant is predicted from its mutations' shifts (a mutation
  seen in no other mutant gets no shift). This is the physics model's version of the additive
  surrogate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from tqdm import tqdm

from physics import mwc_fold_change
from surrogates import HillSurrogate

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "lacI_mwc"
OPERATORS = {"O1": -15.3, "O2": -13.9, "O3": -9.7}  # kBT, published
WT = (np.log(139.0), np.log(0.53), 4.5)  # ln Ka, ln Ki (µM), ε_AI (kBT)


def load_curves() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """(conditions table, doses (m,), mean fold-change (c, m) with NaN, sem (c, m))."""
    df = pd.read_csv(DATA / "Chure2019_compiled_data.csv", comment="#")
    df = df[df["mutant"].notna()]
    g = df.groupby(["mutant", "operator", "repressors", "IPTGuM"])["fold_change"]
    stats = g.agg(["mean", "sem", "count"]).reset_index()
    doses = np.sort(stats["IPTGuM"].unique())
    conds = stats[["mutant", "operator", "repressors"]].drop_duplicates().reset_index(drop=True)
    Y = np.full((len(conds), len(doses)), np.nan)
    S = np.full_like(Y, np.nan)
    index = {tuple(r): i for i, r in enumerate(conds.itertuples(index=False))}
    col = {d: j for j, d in enumerate(doses)}
    for r in stats.itertuples(index=False):
        i, j = index[(r.mutant, r.operator, r.repressors)], col[r.IPTGuM]
        Y[i, j] = r.mean
        S[i, j] = max(r.sem if np.isfinite(r.sem) else 0.0, 0.02)
    return conds, doses, Y, S


def mutations(name: str) -> list[str]:
    return [] if name == "wt" else name.split("-")


def design(conds: pd.DataFrame, muts: list[str]) -> np.ndarray:
    X = np.zeros((len(conds), len(muts) + len(OPERATORS) + 1))
    for i, r in enumerate(conds.itertuples(index=False)):
        for m in mutations(r.mutant):
            X[i, muts.index(m)] = 1.0
        X[i, len(muts) + list(OPERATORS).index(r.operator)] = 1.0
        X[i, -1] = np.log10(r.repressors)
    return X


def _mwc_curves(theta: np.ndarray, conds: pd.DataFrame, muts: list[str], doses: np.ndarray) -> np.ndarray:
    """theta = [ε_RA(O1..O3), then per mutation (Δln Ka, Δln Ki, Δε_AI, Δε_RA)]."""
    shifts = theta[3:].reshape(len(muts), 4)
    out = np.empty((len(conds), len(doses)))
    for i, r in enumerate(conds.itertuples(index=False)):
        d = np.zeros(4)
        for m in mutations(r.mutant):
            if m in muts:
                d += shifts[muts.index(m)]
        ep_ra = theta[list(OPERATORS).index(r.operator)] + d[3]
        out[i] = mwc_fold_change(doses, np.exp(WT[0] + d[0]), np.exp(WT[1] + d[1]), WT[2] + d[2],
                                 ep_ra, r.repressors)
    return out


def fit_mwc(conds: pd.DataFrame, doses: np.ndarray, Y: np.ndarray, S: np.ndarray,
            muts: list[str]) -> np.ndarray:
    mask = np.isfinite(Y)
    theta0 = np.r_[list(OPERATORS.values()), np.zeros(4 * len(muts))]

    def resid(theta: np.ndarray) -> np.ndarray:
        return ((_mwc_curves(theta, conds, muts, doses) - np.nan_to_num(Y)) / np.nan_to_num(S, nan=1.0))[mask]

    return least_squares(resid, theta0, method="trf", max_nfev=200 * len(theta0)).x


def lacI_benchmark(quick: bool) -> list[dict]:
    conds, doses, Y, S = load_curves()
    all_muts = sorted({m for name in conds["mutant"] for m in mutations(name)})
    mutants = sorted(set(conds["mutant"]) - {"wt"})
    if quick:
        mutants = mutants[::3]
    X = design(conds, all_muts)
    rows = []
    for held in tqdm(mutants, desc="hill benchmark (b) LacI", file=__import__("sys").stderr):
        test = (conds["mutant"] == held).to_numpy()
        train_muts = sorted({m for name in conds["mutant"][~test] for m in mutations(name)})
        model = HillSurrogate(objective="ec50", increasing=True, positive=True, hidden=(16,),
                              epochs=1500, lr=1e-2, val_fraction=0.0, random_state=0,
                              device="cpu", alphabet="ACDEFGHIKLMNPQRSTVWY")
        model.fit(X[~test], Y[~test], doses, sigma=S[~test])
        pred_h = model.predict_curve(X[test], doses)
        theta = fit_mwc(conds[~test], doses, Y[~test], S[~test], train_muts)
        pred_m = _mwc_curves(theta, conds[test], train_muts, doses)
        m = np.isfinite(Y[test])
        unseen = [x for x in mutations(held) if x not in train_muts]
        rows.append({
            "method": "loo", "mutant": held, "n_curves": int(test.sum()),
            "unseen_mutations": ",".join(unseen) or "-",
            "rmse_hill": float(np.sqrt(np.mean((pred_h - Y[test])[m] ** 2))),
            "rmse_mwc": float(np.sqrt(np.mean((pred_m - Y[test])[m] ** 2))),
        })
    rows.append({"method": "mean", "mutant": "all", "n_curves": int(sum(r["n_curves"] for r in rows)),
                 "unseen_mutations": "",
                 "rmse_hill": float(np.mean([r["rmse_hill"] for r in rows])),
                 "rmse_mwc": float(np.mean([r["rmse_mwc"] for r in rows]))})
    return rows
