"""Dynamic int8 quantisation of the ``nn.Linear`` parts, kept only where it pays off.

``torch.ao.quantization.quantize_dynamic`` stores each linear weight as int8 with a per-tensor
scale and zero point and quantises activations on the fly; on x86 CPUs (fbgemm/onednn) the
int8 matrix products are faster for wide layers. The quantised copy is checked on a sample:

- accuracy: ``max |y_q − y| ≤ rtol · std(y)`` (default 5 % of the output spread), and
- speed: it must not be slower than the float model (unless ``require_speedup=False``).

When every layer in int8 misses the accuracy check, the first layer is kept in float and the
rest tried again: fingerprint inputs (log counts) quantised per tensor at 8 bits carry most of
the error. If the checks still fail, or quantisation is unavailable (no engine, no
``torch.ao``), the float model is returned unchanged with the reason in
``model.quantization_`` — a clean fall-back.
"""

from __future__ import annotations

import copy
import time
import warnings
from typing import Any

import numpy as np

from .._mlp._base import MLPSurrogateBase
from .._mlp._net import MLP
from .._mlp._qstate import is_quantized, quantize_mlp

__all__ = ["quantize"]


def _time(fn: Any, repeats: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def quantize(model: Any, X: Any = None, *, rtol: float = 0.05,
             require_speedup: bool = True) -> Any:
    """A dynamically int8-quantised copy of ``model`` (MLP-bodied surrogates), or ``model``.

    Args:
        model: a fitted :class:`FingerprintSurrogate` / :class:`MLPSurrogate` (or a pruned one).
        X: sample candidates (or features) to check accuracy and speed on; without it the
            quantised copy is returned unchecked.
        rtol: allowed ``max |y_q − y|`` as a fraction of ``std(y)`` on ``X``.
        require_speedup: fall back when the int8 model is not faster on ``X``.

    Returns:
        the quantised copy, or the unchanged model; either way ``.quantization_`` holds
        ``{"quantized", "reason", "max_error", "speedup", "float_layers"}``.
    """
    info: dict[str, Any] = {"quantized": False, "reason": "", "max_error": None, "speedup": None,
                            "float_layers": []}

    def fallback(reason: str) -> Any:
        warnings.warn(f"quantize: keeping the float model ({reason})", stacklevel=3)
        info["reason"] = reason
        same = copy.copy(model)
        same.quantization_ = info
        return same

    if model.compression.quantize != "mlp" or not isinstance(model, MLPSurrogateBase):
        return fallback(f"{type(model).__name__} has no nn.Linear MLP body to quantise")
    model._require_fitted("net_")
    net = model.net_
    if not isinstance(net, MLP):
        return fallback(f"{type(model).__name__} has no nn.Linear MLP body to quantise")
    if is_quantized(net):
        info.update(quantized=True, reason="already quantised")
        same = copy.copy(model)
        same.quantization_ = info
        return same
    F = None
    if X is not None:
        F = X if isinstance(X, np.ndarray) and X.dtype.kind == "f" and X.ndim == 2 \
            and model.input_kind != "vector" else model.featurize(X)
    reason = ""
    for float_layers in ((), (0,)) if len(net.layers) > 1 else ((),):
        try:
            qmodel = model.with_net(quantize_mlp(copy.deepcopy(net).cpu(), float_layers))
        except (RuntimeError, ImportError, AttributeError) as exc:
            return fallback(f"int8 quantisation unavailable here: {exc}")
        info["float_layers"] = list(float_layers)
        if F is not None:
            reason = _check(model, qmodel, F, rtol, require_speedup, info)
            if reason:
                continue
        info.update(quantized=True, reason="ok")
        qmodel.quantization_ = info
        return qmodel
    return fallback(reason)


def _check(model: Any, qmodel: Any, F: np.ndarray, rtol: float, require_speedup: bool,
           info: dict[str, Any]) -> str:
    """Accuracy and speed of ``qmodel`` against ``model`` on features ``F``: "" when it
    passes, else the reason (``info`` gets ``max_error`` and ``speedup``)."""
    ref = model.predict_features(F).mean
    err = float(np.max(np.abs(qmodel.predict_features(F).mean - ref)))
    spread = float(np.std(ref)) or 1.0
    t_f = _time(lambda: model.predict_features(F))
    t_q = _time(lambda: qmodel.predict_features(F))
    info.update(max_error=err, speedup=t_f / max(t_q, 1e-12))
    if err > rtol * spread:
        return f"max error {err:.3g} > {rtol} x output std {spread:.3g}"
    if require_speedup and t_q > t_f:
        return f"int8 is not faster here ({t_f / t_q:.2f}x)"
    return ""
