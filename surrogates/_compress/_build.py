"""``build_screener``: teacher + pool → distilled, pruned, quantised, measured Screener."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from .._ensemble import Ensemble
from .._mlp._base import MLPSurrogateBase
from .._mlp._fingerprint import FingerprintSurrogate, MLPSurrogate
from .._prediction import Prediction
from ._batches import take
from ._distill import distill, teacher_first
from ._metrics import accuracy, identity
from ._prune import prune
from ._quantize import quantize as quantize_model

__all__ = ["build_screener", "default_student", "file_sha256"]


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: the default student of a class that declares none, by what it reads
_BY_INPUT = {"atoms": "fingerprint", "smiles": "fingerprint", "vector": "mlp"}


def default_student(teacher: Any, random_state: int = 0) -> Any:
    """The default student for a teacher: what its class declares
    (``compression.default_student``), else a fingerprint MLP for molecules and a vector
    MLP for design vectors (see :meth:`Screener.from_teacher`)."""
    first = teacher_first(teacher)
    kind = first.compression.default_student or _BY_INPUT.get(first.input_kind)
    if kind == "fingerprint":
        return FingerprintSurrogate(hidden=(256, 128), random_state=random_state)
    if kind == "half":
        hidden = tuple(max(1, int(h) // 2) for h in first.get_params()["hidden"])
        return clone(first).set_params(hidden=hidden, random_state=random_state)
    if kind == "mlp":
        return MLPSurrogate(hidden=(64, 32), random_state=random_state)
    raise ValueError(f"no default student for a {type(first).__name__} teacher reading "
                     f"{first.input_kind!r} candidates; pass student=")


def build_screener(cls: type, teacher: Any, X_unlabelled: Any, *, student: Any,
                   X_student: Any, X_labelled: Any, y: Any, X_student_labelled: Any,
                   label_weight: float, match_std: bool, prune_amount: float,
                   prune_method: str, quantize: bool, holdout: float, maximize: bool,
                   frac: float, teacher_prediction: Prediction | None,
                   teacher_path: str | os.PathLike | None, random_state: int) -> Any:
    """See :meth:`Screener.from_teacher`."""
    n = len(X_unlabelled)
    if n < 10:
        raise ValueError(f"need at least 10 pool candidates to distil and check, got {n}")
    if X_student is not None and len(X_student) != n:
        raise ValueError(f"X_student has {len(X_student)} items but the pool has {n}")
    if not 0.0 < float(holdout) < 1.0:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    rng = np.random.default_rng(random_state)
    perm = rng.permutation(n)
    n_hold = max(2, round(float(holdout) * n))
    hold, train = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
    t0 = time.perf_counter()
    t = teacher.predict(X_unlabelled) if teacher_prediction is None else teacher_prediction
    t_seconds = time.perf_counter() - t0
    if match_std and t.std is None:
        match_std = False  # a single-model teacher has no spread to learn
    student = default_student(teacher, random_state) if student is None else student
    Xs = X_unlabelled if X_student is None else X_student

    features = None
    if isinstance(student, MLPSurrogateBase):
        features = student.featurize(Xs)
    Xs_train = features[train] if features is not None else take(Xs, train)
    distill(teacher, student, take(X_unlabelled, train), X_labelled, y,
            X_student=take(Xs, train), X_student_labelled=X_student_labelled,
            label_weight=label_weight, match_std=match_std, teacher_prediction=t[train],
            features=None if features is None else features[train])
    model, config = student, {"student": identity(student)["params"],
                              "prune_amount": float(prune_amount), "prune_method": prune_method,
                              "quantize_requested": bool(quantize), "match_std": bool(match_std),
                              "n_train": len(train), "n_holdout": len(hold)}
    if prune_amount:
        model = prune(model, float(prune_amount), method=prune_method,
                      X=Xs_train, random_state=random_state)
        config["pruning"] = model.pruning_
    X_hold = features[hold] if features is not None else take(Xs, hold)
    if quantize:
        model = quantize_model(model, X_hold)
        config["quantization"] = model.quantization_
    who = identity(teacher)
    if teacher_path is not None:
        who["file_sha256"] = file_sha256(teacher_path)
    if isinstance(teacher, Ensemble):
        who["n_members"] = len(teacher.members_)
    screener = cls(model, teacher=who, maximize=maximize, config=config)
    screener.holdout_index_ = hold  # runtime only (not saved): which pool items were held out
    pred = screener.score_features(X_hold) if features is not None else \
        screener.score(X_hold, progress=False)
    screener.metrics = accuracy(pred.mean, t.mean[hold], frac=frac, maximize=maximize)
    screener.metrics["reference"] = "teacher mean on held-out pool candidates"
    screener.measure(take(Xs, hold))
    screener.throughput["teacher_candidates_per_s"] = n / max(t_seconds, 1e-12) \
        if teacher_prediction is None else None
    return screener
