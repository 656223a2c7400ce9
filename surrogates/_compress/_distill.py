"""Knowledge distillation: a student learns what the teacher predicts on a large cheap pool.

Loss (per candidate, weights normalised so that a weight of 1 is an average row)::

    L = (1 − λ) · mean_pool  ‖s(x) − t̄(x)‖²  +  λ · mean_labelled ‖s(x) − y‖²
        [+ ‖log σ_s(x) − log σ_t(x)‖² on the pool when ``match_std``]

``t̄`` is the teacher ensemble's mean and ``σ_t`` its spread, ``λ = label_weight``. What "the
prediction" is depends on the pair of models:

- ``"features"`` students (MLPs on fingerprints / vectors): the scalar target, optionally with
  the teacher's std as a second output (so the screener keeps a cheap uncertainty); features
  are computed once.
- ``"curves"`` students of curve teachers (Hill ← Hill): the teacher's *curves* on its training
  dose grid (a curve loss, which also matches the Hill parameters that generate them).
- ``"structures"`` students (GNNs of ``ase.Atoms``): the teacher's values and, for energy
  models, its forces (ensemble mean of −∂E/∂x); labelled structures are repeated to carry
  weight λ. A GNN student has no std head, so ``match_std`` does not apply to it.
- ``"values"`` students: ``student.fit(X, y)`` on the teacher's mean (with ``sample_weight``
  when the class declares it takes one).

Which applies is what the student's class declares (``Surrogate.compression.student``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._ensemble import Ensemble
from .._prediction import Prediction

__all__ = ["distill", "label_repeats", "teacher_outputs"]


def _members(teacher: Any) -> list[Any]:
    return list(teacher.members_) if isinstance(teacher, Ensemble) else [teacher]


def teacher_outputs(teacher: Any, X: Any, what: str = "predict", **kwargs: Any) -> Prediction:
    """Mean (and spread over ensemble members) of ``teacher.<what>(X, **kwargs)``.

    Ragged outputs (forces: one ``(n_atoms, 3)`` array per structure) are averaged per item and
    returned as a ``Prediction`` of object arrays without std.
    """
    if what == "predict":
        return teacher.predict(X)
    outs = [getattr(m, what)(X, **kwargs) for m in _members(teacher)]
    outs = [o.mean if isinstance(o, Prediction) else o for o in outs]
    if isinstance(outs[0], list):  # ragged: per-structure arrays
        mean = [np.mean([np.asarray(o[i], float) for o in outs], axis=0)
                for i in range(len(outs[0]))]
        arr = np.empty(len(mean), dtype=object)
        arr[:] = mean
        return _Ragged(arr)  # type: ignore[return-value]
    stack = np.stack([np.asarray(o, float) for o in outs])
    ddof = 1 if len(outs) > 1 else 0
    return Prediction(stack.mean(0), stack.std(0, ddof=ddof))


class _Ragged:
    """Per-item arrays of different shapes (forces); ``mean`` is a list-like object array."""

    def __init__(self, mean: np.ndarray) -> None:
        self.mean = mean
        self.std = None


def _row_weights(n_pool: int, n_lab: int, label_weight: float) -> np.ndarray:
    """Weights ``(n_pool + n_lab,)``: share ``1 − λ`` for the pool and ``λ`` for labels, mean 1."""
    if n_lab == 0:
        return np.ones(n_pool)
    n = n_pool + n_lab
    return np.r_[np.full(n_pool, (1 - label_weight) * n / max(n_pool, 1)),
                 np.full(n_lab, label_weight * n / n_lab)]


def _concat(a: Any, b: Any) -> Any:
    if b is None:
        return a
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.concatenate([a, b])
    return list(a) + list(b)


def distill(teacher: Any, student: Any, X_unlabelled: Any, X_labelled: Any = None,
            y: Any = None, *, X_student: Any = None, X_student_labelled: Any = None,
            label_weight: float = 0.5, match_std: bool = False,
            teacher_prediction: Prediction | None = None, features: np.ndarray | None = None,
            doses: Any = None) -> Any:
    """Fit ``student`` to ``teacher``'s predictions on ``X_unlabelled`` (and true labels).

    Args:
        teacher: a fitted surrogate or :class:`~surrogates.Ensemble`.
        student: an unfitted (or ``warm_start``) surrogate; fitted in place and returned.
        X_unlabelled: the pool, in the teacher's input form.
        X_labelled, y: optional labelled candidates (teacher's form) and their true values
            (scalar targets ``(n,)``; curves ``(n, n_doses)`` for Hill students).
        X_student, X_student_labelled: the same candidates in the student's input form when it
            differs (GNN teacher on Atoms → fingerprint student on SMILES); Atoms carrying
            ``info["smiles"]`` already work for a SMILES student.
        label_weight: λ, the share of the loss given to true labels (0 ≤ λ ≤ 1).
        match_std: also learn the teacher ensemble's std (MLP students).
        teacher_prediction: the teacher's ``Prediction`` on ``X_unlabelled`` if already known.
        features: the student's features of ``X_student`` if already computed (MLP students).
        doses: dose grid (µM) for curve distillation; default the teacher's training doses.
    Returns:
        the fitted student.
    """
    if not 0.0 <= float(label_weight) <= 1.0:
        raise ValueError(f"label_weight must be in [0, 1], got {label_weight}")
    if (X_labelled is None) != (y is None):
        raise ValueError("pass X_labelled and y together (or neither)")
    Xs = X_unlabelled if X_student is None else X_student
    if len(Xs) != len(X_unlabelled):
        raise ValueError(f"X_student has {len(Xs)} items but X_unlabelled {len(X_unlabelled)}")
    Xs_lab = X_labelled if X_student_labelled is None else X_student_labelled
    n_lab = 0 if X_labelled is None else len(X_labelled)
    w = _row_weights(len(Xs), n_lab, float(label_weight))

    mode = student.compression.student
    if mode == "curves":
        if teacher_first(teacher).fits != "curves":
            raise ValueError(f"a curve student ({type(student).__name__}) needs a teacher "
                             f"that predicts curves, not a {type(teacher_first(teacher)).__name__}")
        return _distill_curves(teacher, student, X_unlabelled, Xs, Xs_lab, y, w, doses)

    t = teacher_prediction if teacher_prediction is not None else teacher.predict(X_unlabelled)
    target = _concat(np.asarray(t.mean, float), None if y is None else np.asarray(y, float))
    if mode == "features":
        std = None
        if match_std:
            if t.std is None:
                raise ValueError("match_std needs a teacher with a spread (an Ensemble)")
            std = _concat(np.asarray(t.std, float), np.full(n_lab, np.nan) if n_lab else None)
        F = student.featurize(Xs) if features is None else features
        if n_lab:
            F = np.concatenate([F, student.featurize(Xs_lab, offset=len(Xs))])
        return student.fit_features(F, target, sample_weight=w, y_std=std)

    if mode == "structures":
        return _distill_structures(teacher, student, X_unlabelled, Xs, X_labelled, Xs_lab,
                                   target, n_lab, float(label_weight))
    X_all = _concat(Xs, Xs_lab if n_lab else None)
    kwargs: dict[str, Any] = {}
    if student.compression.sample_weight:
        kwargs["sample_weight"] = w
    return student.fit(X_all, target, **kwargs)


def label_repeats(n_pool: int, n_lab: int, label_weight: float) -> int:
    """How often to repeat each labelled structure so labels get ≈ ``λ`` of the loss
    (students whose ``fit`` takes no sample weights): ``round(λ/(1−λ) · n_pool/n_lab)``,
    at least 1 (0 when ``λ = 0``)."""
    if n_lab == 0 or label_weight <= 0.0:
        return 0
    if label_weight >= 1.0 or n_pool == 0:
        return 1
    return max(1, round(label_weight / (1.0 - label_weight) * n_pool / n_lab))


def _distill_structures(teacher: Any, student: Any, X_t: Any, Xs: Any, X_t_lab: Any,
                        Xs_lab: Any, target: np.ndarray, n_lab: int, label_weight: float) -> Any:
    """GNN student of ``ase.Atoms``: the teacher's values (and forces for energy models).

    Forces come from the teacher (ensemble mean of −∂E/∂x) on the pool and on the labelled
    structures. Labelled structures are repeated (see :func:`label_repeats`) because the GNN
    loss has no per-structure weights; with ``λ = 1`` only the labels are used.
    """
    n_pool = len(Xs)
    reps = label_repeats(n_pool, n_lab, label_weight)
    pool_part = range(n_pool) if label_weight < 1.0 or n_lab == 0 else range(0)
    idx = [*pool_part, *[n_pool + i for i in range(n_lab) for _ in range(reps)]]
    X_all = _concat(list(Xs), list(Xs_lab) if n_lab else None)
    name = student.get_params().get("target", "energy")
    labels: dict[str, Any] = {name: np.asarray(target)[idx]}
    first = teacher_first(teacher)
    if name == "energy" and first.predicts_forces():
        forces = list(teacher_outputs(teacher, X_t, "predict_forces").mean)
        if n_lab:
            forces += list(teacher_outputs(teacher, X_t_lab, "predict_forces").mean)
        labels["forces"] = [forces[i] for i in idx]
    return student.fit([X_all[i] for i in idx], labels)


def teacher_first(teacher: Any) -> Any:
    """The first member of an ensemble (the model type), or the model itself."""
    return _members(teacher)[0]


def _distill_curves(teacher: Any, student: Any, X_t: Any, Xs: Any, Xs_lab: Any, y: Any,
                    w: np.ndarray, doses: Any) -> Any:
    """Hill student ← Hill teacher: match the mean curves on a dose grid (µM)."""
    if doses is None:
        doses = vars(teacher_first(teacher)).get("train_doses_")
        if doses is None:
            raise ValueError("curve distillation needs doses (the teacher has no train_doses_)")
    doses = np.asarray(doses, float)
    curves = teacher_outputs(teacher, X_t, "predict_curve", doses=doses).mean  # [n, n_doses]
    if y is not None:
        y = np.asarray(y, float)
        if y.shape[1:] != curves.shape[1:]:
            raise ValueError(f"labelled curves have shape {y.shape}, expected (n, {len(doses)})")
        curves = np.concatenate([curves, y])
        Xs = _concat(Xs, Xs_lab)
    sigma = np.broadcast_to((1.0 / np.sqrt(np.maximum(w, 1e-12)))[:, None], curves.shape)
    return student.fit(Xs, curves, doses, sigma=np.ascontiguousarray(sigma))
