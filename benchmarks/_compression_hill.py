"""Hill half of the compression benchmark: a HillSurrogate ensemble on a sensor landscape.

Landscape: ``physics.AllostericSensor`` (5 sites over 8 letters, epistasis 0.3, seed 0; 12
doses 0.01–10⁴ µM), curves with 5 % log-normal noise for the labelled variants. Objective:
fold induction rmax/rmin (larger = top). Teacher: 3 HillSurrogates with a (64, 64) epistatic
MLP trained on the labelled curves. Students: a (16,) HillSurrogate distilled on the teacher's
mean *curves* over a larger pool (plus the labels, λ = 0.3), then its epistatic MLP pruned by
half (activity importance, fine-tuned by distillation). int8 does not apply (the HillNet is
not an ``nn.Linear`` MLP surrogate; ``quantize`` falls back and says so). Truth: the
noise-free simulator on the test variants.

MAE is in decades of fold induction (|Δ log10|); ranks are unaffected by the log.
Throughput with featurisation: ``predict`` on sequences (one-hot encoding included); without:
the network's Hill parameters from pre-encoded variants.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from physics import AllostericSensor
from surrogates import Ensemble, HillSurrogate, distill, prune, quantize
from surrogates._compress import accuracy, count_parameters, estimate_flops
from surrogates._compress._metrics import throughput

__all__ = ["hill_half"]

ALPHABET = "ADEKLNRS"


def _library(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(ALPHABET), 5)) for _ in range(n)]


def _hill(hidden: tuple[int, ...], seed: int = 0) -> HillSurrogate:
    return HillSurrogate(objective="fold_induction", alphabet=ALPHABET, increasing=None,
                         positive=True, hidden=hidden, epochs=1500, lr=1e-2, weight_decay=1e-4,
                         patience=150, random_state=seed, device="cpu")


def _speed(models: list[HillSurrogate], X: list[str]) -> tuple[float, float]:
    incl = throughput(lambda: [m.predict(X) for m in models], len(X), min_seconds=0.3)
    enc = [torch.as_tensor(m.encoder_.transform(X), dtype=m.net_.additive.weight.dtype)
           for m in models]

    def forward() -> None:
        with torch.inference_mode():
            for m, x in zip(models, enc):
                m.net_.params(x)

    return incl, throughput(forward, len(X), min_seconds=0.3)


def _row(name: str, pred: np.ndarray, t_ref: np.ndarray, y: np.ndarray, model: Any,
         sample: list[str], speed: tuple[float, float], members: int = 1) -> dict[str, Any]:
    def lg(v: np.ndarray) -> np.ndarray:
        return np.log10(np.clip(v, 1e-6, None))

    vs_t, vs_y = accuracy(lg(pred), lg(t_ref)), accuracy(lg(pred), lg(y))
    first = model.members_[0] if isinstance(model, Ensemble) else model
    return {"half": "hill (sensor fold induction)", "method": name,
            "mae_vs_teacher": vs_t["mae"], "spearman_vs_teacher": vs_t["spearman"],
            "top1_recall_teacher": vs_t["top_k_recall"], "mae_vs_truth": vs_y["mae"],
            "spearman_vs_truth": vs_y["spearman"], "top1_recall_truth": vs_y["top_k_recall"],
            "top5_recall_truth": accuracy(pred, y, frac=0.05)["top_k_recall"],
            "parameters": count_parameters(model),
            "mflops_per_cand": members * estimate_flops(first, sample) / 1e6,
            "cand_per_s_with_feat": speed[0], "cand_per_s_no_feat": speed[1]}


def hill_half(quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train, compress and measure; returns (rows, extra info for the JSON)."""
    n_lab, n_pool, n_test = (150, 1000, 1000) if quick else (300, 3000, 3000)
    sensor = AllostericSensor(5, ALPHABET, seed=0, epistasis=0.3, device="cpu")
    doses = sensor.doses
    lab, pool, test = _library(n_lab, 1), _library(n_pool, 2), _library(n_test, 3)
    clean = np.stack([r.values["response"] for r in sensor.evaluate(lab)])
    noisy = clean * np.exp(0.05 * np.random.default_rng(4).standard_normal(clean.shape))
    res = sensor.evaluate(test)
    y_test = np.array([r.value("saturation") / r.value("leakiness") for r in res])

    t0 = time.perf_counter()
    teacher = Ensemble(_hill((64, 64)), n_members=3, random_state=0).fit(lab, noisy, doses=doses)
    info: dict[str, Any] = {"n_labelled": n_lab, "n_pool": n_pool, "n_test": n_test,
                            "teacher_train_s": time.perf_counter() - t0,
                            "target": "fold induction rmax/rmin (noise-free simulator)"}
    t_test = teacher.predict(test).mean
    student = distill(teacher, _hill((16,)), pool, lab, noisy, label_weight=0.3)
    pruned = prune(student, 0.5, method="activity", X=pool, epochs=200)
    with np.errstate(all="ignore"):
        q = quantize(pruned, test[:100], require_speedup=False)
    info["quantization"] = q.quantization_
    info["pruning"] = pruned.pruning_
    rows = [_row("teacher (3x Hill, MLP 64-64)", t_test, t_test, y_test, teacher, test[:64],
                 _speed(teacher.members_, test), members=3)]
    for name, m in (("distilled Hill (MLP 16)", student), ("pruned Hill (MLP 8)", pruned)):
        rows.append(_row(name, m.predict(test).mean, t_test, y_test, m, test[:64],
                         _speed([m], test)))
    return rows, info
