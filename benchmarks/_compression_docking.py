"""Docking half of the compression benchmark: a fingerprint-MLP ensemble on Enamine10k.

AutoDock Vina docking scores of Enamine10k (MolPAL; lower is better), Morgan-count
fingerprints. Teacher: an ensemble of wide fingerprint MLPs trained on a labelled subset;
students are distilled on a larger unlabelled pool (teacher mean and std, mixed with the
labels), pruned (Taylor importance, fine-tuned by distillation) and int8-quantised. Metrics on
a held-out test set against the teacher and against the truth.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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

__all__ = ["docking_half"]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "molpal"


def _teacher_speed(teacher: Ensemble, smiles: list[str], F: np.ndarray) -> tuple[float, float]:
    incl = throughput(lambda: teacher.predict(smiles), len(smiles), min_seconds=0.5,
                      max_repeats=3)
    excl = throughput(lambda: [m.predict_features(F) for m in teacher.members_], len(F),
                      min_seconds=0.5, max_repeats=5)
    return incl, excl


def _row(name: str, pred: np.ndarray, t_ref: np.ndarray, y_true: np.ndarray, params: int,
         flops: float, incl: float, excl: float) -> dict[str, Any]:
    vs_t = accuracy(pred, t_ref, maximize=False)
    vs_y = accuracy(pred, y_true, maximize=False)
    return {"half": "docking (Enamine10k)", "method": name, "mae_vs_teacher": vs_t["mae"],
            "spearman_vs_teacher": vs_t["spearman"], "top1_recall_teacher": vs_t["top_k_recall"],
            "mae_vs_truth": vs_y["mae"], "spearman_vs_truth": vs_y["spearman"],
            "top1_recall_truth": vs_y["top_k_recall"],
            "top5_recall_truth": accuracy(pred, y_true, frac=0.05,
                                          maximize=False)["top_k_recall"],
            "parameters": int(params), "mflops_per_cand": flops / 1e6,
            "cand_per_s_with_feat": incl, "cand_per_s_no_feat": excl}


def docking_half(quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train, compress and measure; returns (rows, extra info for the JSON)."""
    n_lab, n_pool, n_test, members, epochs = (
        (800, 3000, 2000, 3, 40) if quick else (2000, 5400, 3000, 5, 150))
    df = pd.read_csv(DATA / "Enamine10k_scores.csv.gz").dropna()
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    smi, y = df.smiles.tolist(), df.score.to_numpy(float)
    lab, pool = slice(0, n_lab), slice(n_lab, n_lab + n_pool)
    test = slice(n_lab + n_pool, n_lab + n_pool + n_test)
    s_test, y_test = smi[test], y[test]

    t0 = time.perf_counter()
    fp = FingerprintSurrogate(hidden=(1024, 512), epochs=epochs, patience=15)
    F_all = fp.featurize(smi[: n_lab + n_pool + n_test])
    F_lab, F_pool, F_test = F_all[lab], F_all[pool], F_all[test]
    teacher = Ensemble(fp, n_members=members, random_state=0)
    teacher.members_ = [FingerprintSurrogate(**{**fp.get_params(), "random_state": i})
                        .fit_features(F_lab, y[lab]) for i in range(members)]
    print(f"docking teacher trained in {time.perf_counter() - t0:.0f} s")

    def teacher_pred(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stack = np.stack([m.predict_features(F).mean for m in teacher.members_])
        return stack.mean(0), stack.std(0, ddof=1)

    t_pool_mean, t_pool_std = teacher_pred(F_pool)
    t_test, _ = teacher_pred(F_test)

    student = FingerprintSurrogate(hidden=(256, 128), epochs=epochs * 2, patience=20)
    distill(teacher, student, smi[pool], smi[lab], y[lab], label_weight=0.3, match_std=True,
            teacher_prediction=Prediction(t_pool_mean, t_pool_std), features=F_pool)
    pruned = prune(student, 0.75, method="taylor", X=F_pool, epochs=epochs)
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
    info = {"dataset": "Enamine10k docking (molpal)", "n_labelled": n_lab, "n_pool": n_pool,
            "n_test": n_test, "quantization": quant.quantization_}
    return rows, info
