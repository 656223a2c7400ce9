"""Accuracy, size, cost and identity measurements shared by compression and its benchmark.

Top-k recall: with ``k = max(k_min, round(frac · n))``, the fraction of the reference's k best
candidates (largest values when ``maximize``, smallest otherwise) that are also among the
prediction's k best. It is what matters for screening: the head of the ranking.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.base import BaseEstimator
from torch import nn

from .._base import Surrogate
from .._mlp._qstate import is_qlinear

__all__ = ["accuracy", "count_parameters", "estimate_flops", "identity", "modules_of",
           "throughput", "top_k_recall"]


def top_k_recall(pred: np.ndarray, ref: np.ndarray, frac: float = 0.01, *,
                 maximize: bool = True, k_min: int = 1) -> float:
    """Share of the reference's top-k ids found in the prediction's top-k (see module doc)."""
    pred, ref = np.asarray(pred, float).reshape(-1), np.asarray(ref, float).reshape(-1)
    if pred.shape != ref.shape or len(pred) == 0:
        raise ValueError(f"prediction {pred.shape} and reference {ref.shape} must match, non-empty")
    k = min(len(pred), max(int(k_min), round(frac * len(pred))))
    sign = -1.0 if maximize else 1.0
    top_pred = set(np.argsort(sign * pred, kind="stable")[:k].tolist())
    top_ref = np.argsort(sign * ref, kind="stable")[:k]
    return float(np.mean([i in top_pred for i in top_ref]))


def accuracy(pred: np.ndarray, ref: np.ndarray, *, frac: float = 0.01, maximize: bool = True,
             k_min: int = 1) -> dict[str, float]:
    """``{"mae", "spearman", "top_k_recall", "k"}`` of ``pred`` against ``ref`` (both ``(n,)``)."""
    pred, ref = np.asarray(pred, float).reshape(-1), np.asarray(ref, float).reshape(-1)
    rho = spearmanr(pred, ref)[0] if len(pred) > 2 else float("nan")
    return {"mae": float(np.mean(np.abs(pred - ref))), "spearman": float(rho),
            "top_k_recall": top_k_recall(pred, ref, frac, maximize=maximize, k_min=k_min),
            "k": int(min(len(pred), max(int(k_min), round(frac * len(pred)))))}


def modules_of(model: Any) -> list[nn.Module]:
    """The torch modules a model holds (``net_``-style attributes; ensemble members too)."""
    if isinstance(model, nn.Module):
        return [model]
    out: list[nn.Module] = []
    for name, value in vars(model).items():
        if isinstance(value, nn.Module) and not name.startswith("_"):
            out.append(value)
        elif name == "members_":
            for m in value:
                out.extend(modules_of(m))
        elif name == "model" and isinstance(value, BaseEstimator):  # a Screener's student
            out.extend(modules_of(value))
    return out


def count_parameters(model: Any) -> int:
    """Number of weights (float or int8) in the model's torch modules."""
    total = 0
    for mod in modules_of(model):
        total += sum(p.numel() for p in mod.parameters())
        for m in mod.modules():  # dynamically quantised Linear keeps packed weights
            if is_qlinear(m):
                w = m.weight()
                total += w.numel() + (m.bias().numel() if m.bias() is not None else 0)
    return int(total)


def estimate_flops(model: Any, sample: Any = None) -> float:
    """Floating-point operations per candidate.

    MLP bodies: ``Σ_l 2·d_in·d_out`` (exact for the matrix products, int8 ones included).
    GNNs of ``ase.Atoms``: the same counter around the network's forward pass on the sample's
    batched graph (matrix products and e3nn's einsums), per structure.
    Anything else: ``torch.utils.flop_counter`` around ``predict(sample)``, divided by
    ``len(sample)`` (counts matrix products and convolutions, the bulk of a network's cost);
    NaN with a warning if the counter fails.
    """
    from .._mlp._net import MLP

    nets = modules_of(model)
    mlps = [m for m in nets if isinstance(m, MLP)]
    if nets and len(mlps) == len(nets):
        flops = 0.0
        for net in mlps:
            for lin in net.layers:
                flops += 2.0 * lin.in_features * lin.out_features
        return flops
    if sample is None:
        return float("nan")
    if isinstance(model, Surrogate) and model.compression.prune == "irrep_channels":
        from ._e3nn_budget import gnn_flops

        return gnn_flops(model.module_, model.batched_graph(list(sample)))
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with FlopCounterMode(display=False) as counter:
            model.predict(sample)
    except (RuntimeError, AttributeError) as exc:  # the counter's module hooks can fail
        warnings.warn(f"FLOP counting failed for {type(model).__name__}: {exc}", stacklevel=2)
        return float("nan")
    return float(counter.get_total_flops()) / max(len(sample), 1)


def throughput(fn: Callable[[], Any], n: int, *, min_seconds: float = 0.3,
               max_repeats: int = 20) -> float:
    """Candidates per second of ``fn()`` (which scores ``n`` candidates), best of repeats."""
    fn()  # warm-up (allocations, lazy tracing)
    best, spent, reps = float("inf"), 0.0, 0
    while reps < 1 or (spent < min_seconds and reps < max_repeats):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
    return float(n / max(best, 1e-12))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, BaseEstimator):
        return {"class": type(value).__name__, "params": _jsonable(value.get_params(deep=False))}
    return repr(value)


def identity(model: Any) -> dict[str, Any]:
    """``{"class", "params", "sha256"}``: who a model is, with a hash of its saved weights."""
    h = hashlib.sha256()
    try:
        meta, tensors = model._to_state()
        h.update(json.dumps(_jsonable(meta), sort_keys=True).encode())
        for name in sorted(tensors):
            t = tensors[name].detach().cpu().contiguous().reshape(-1)
            h.update(name.encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    except (NotImplementedError, ValueError, AttributeError):
        h.update(repr(model).encode())
    params = model.get_params(deep=False) if isinstance(model, BaseEstimator) else {}
    return {"class": type(model).__name__, "params": _jsonable(params), "sha256": h.hexdigest()}
