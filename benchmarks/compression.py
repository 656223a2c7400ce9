"""Compression benchmark: teacher ensemble vs distilled / pruned / int8-pruned screeners.

Molecule property set: AutoDock Vina docking scores of Enamine10k (MolPAL; lower is better),
Morgan-count fingerprints. Teacher: an ensemble of wide fingerprint MLPs trained on a labelled
subset; students are distilled on a larger unlabelled pool (teacher mean and std, mixed with the
labels), pruned (Taylor importance, fine-tuned by distillation) and int8-quantised. Metrics on
a held-out test set against the teacher and against the truth.

Run: ``python benchmarks/compression.py [--quick]``; writes benchmarks/results/compression.json
and compression.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import print_table, write_result
from surrogates import (
    Ensemble,
    FingerprintSurrogate,
    Prediction,
    Screener,
    distill,
    prune,
    quantize,
)
from surrogates._compress import accuracy, count_parameters, estimate_flops
from surrogates._compress._metrics import throughput

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "molpal"


def _teacher_speed(teacher: Ensemble, smiles: list[str], F: np.ndarray) -> tuple[float, float]:
    incl = throughput(lambda: teacher.predict(smiles), len(smiles), min_seconds=0.5,
                      max_repeats=3)
    excl = throughput(lambda: [m.predict_features(F) for m in teacher.members_], len(F),
                      min_seconds=0.5, max_repeats=5)
    return incl, excl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smoke version (~2 min)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    n_lab, n_pool, n_test, members, epochs = (
        (800, 3000, 2000, 3, 40) if args.quick else (2000, 5400, 3000, 5, 150))
    df = pd.read_csv(DATA / "Enamine10k_scores.csv.gz").dropna()
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    smi, y = df.smiles.tolist(), df.score.to_numpy(float)
    lab, pool = slice(0, n_lab), slice(n_lab, n_lab + n_pool)
    test = slice(n_lab + n_pool, n_lab + n_pool + n_test)
    s_test, y_test = smi[test], y[test]

    t0 = time.perf_counter()
    fp = FingerprintSurrogate(hidden=(1024, 512), max_epochs=epochs, patience=15)
    F_all = fp.featurize(smi[: n_lab + n_pool + n_test])
    F_lab, F_pool, F_test = F_all[lab], F_all[pool], F_all[test]
    teacher = Ensemble(fp, n_members=members, random_state=0)
    teacher.members_ = [FingerprintSurrogate(**{**fp.get_params(), "random_state": i})
                        .fit_features(F_lab, y[lab]) for i in range(members)]
    print(f"teacher trained in {time.perf_counter() - t0:.0f} s")

    def teacher_pred(F: np.ndarray):
        stack = np.stack([m.predict_features(F).mean for m in teacher.members_])
        return stack.mean(0), stack.std(0, ddof=1)

    t_pool_mean, t_pool_std = teacher_pred(F_pool)
    t_test, _ = teacher_pred(F_test)

    student = FingerprintSurrogate(hidden=(256, 128), max_epochs=epochs * 2, patience=20)
    distill(teacher, student, smi[pool], smi[lab], y[lab], label_weight=0.3, match_std=True,
            teacher_prediction=Prediction(t_pool_mean, t_pool_std), features=F_pool)
    pruned = prune(student, 0.75, method="taylor", X=F_pool, max_epochs=epochs)
    quant = quantize(pruned, F_test, require_speedup=False)
    q_ok = bool(quant.quantization_["quantized"])
    models = {"distilled": student, "pruned 75%": pruned}
    models["int8 pruned 75%" if q_ok else "int8 pruned 75% (fell back to float)"] = quant

    rows = []
    t_incl, t_excl = _teacher_speed(teacher, s_test[:500], F_test)
    rows.append(_row(f"teacher ({members}x MLP 1024-512)", t_test, t_test, y_test,
                     count_parameters(teacher), members * estimate_flops(teacher.members_[0]),
                     t_incl, t_excl))
    for name, model in models.items():
        sc = Screener(model, maximize=False)
        pred = sc.score_features(F_test).mean
        incl = throughput(lambda sc=sc: sc.score(s_test[:1000], progress=False), 1000,
                          min_seconds=0.5, max_repeats=3)
        excl = throughput(lambda sc=sc: sc.score_features(F_test), len(F_test))
        rows.append(_row(name, pred, t_test, y_test, count_parameters(model),
                         estimate_flops(model), incl, excl))
    base = rows[0]
    for r in rows:
        r["speedup_vs_teacher"] = r["cand_per_s_no_feat"] / base["cand_per_s_no_feat"]
        r["speedup_vs_teacher_with_feat"] = r["cand_per_s_with_feat"] / base["cand_per_s_with_feat"]
        r["recall_gap_vs_teacher_pts"] = 100 * (base["top1_recall_truth"] - r["top1_recall_truth"])
        r["minutes_per_1e6_featurised"] = 1e6 / r["cand_per_s_no_feat"] / 60
    print_table(rows, title=f"compression ({'quick' if args.quick else 'full'}), docking score, "
                            f"test n={n_test}")
    path = write_result("compression", args.quick, rows,
                        {"speedup_vs_teacher": 30.0, "recall_gap_vs_teacher_pts": 5.0,
                         "minutes_per_1e6_featurised": 10.0},
                        extra={"dataset": "Enamine10k docking (molpal)", "n_labelled": n_lab,
                               "n_pool": n_pool, "n_test": n_test,
                               "quantization": quant.quantization_,
                               "note": "teacher is a fingerprint-MLP ensemble, not a GNN"})
    _plot(rows, path.with_suffix(".png"))
    print(f"wrote {path}")


def _row(name, pred, t_ref, y_true, params, flops, incl, excl) -> dict:
    vs_t = accuracy(pred, t_ref, maximize=False)
    vs_y = accuracy(pred, y_true, maximize=False)
    return {"method": name, "mae_vs_teacher": vs_t["mae"], "spearman_vs_teacher": vs_t["spearman"],
            "top1_recall_teacher": vs_t["top_k_recall"], "mae_vs_truth": vs_y["mae"],
            "spearman_vs_truth": vs_y["spearman"], "top1_recall_truth": vs_y["top_k_recall"],
            "parameters": int(params), "mflops_per_cand": flops / 1e6,
            "weights_mb": params * (1 if name.endswith("75%") and "int8" in name else 4) / 2**20,
            "cand_per_s_with_feat": incl, "cand_per_s_no_feat": excl}


def _plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for r in rows:
        ax.scatter(r["cand_per_s_no_feat"], r["top1_recall_truth"], label=r["method"])
    ax.set_xscale("log")
    ax.set_xlabel("throughput once featurised (candidates/s, 2 CPU cores)")
    ax.set_ylabel("top-1% recall vs truth (test)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
