"""``Screener``: a compressed surrogate in one file that ranks a huge pool fast.

The file (``surrogates._io`` format: safetensors + JSON header, loaded without executing code)
holds the student's config and weights, the identity of the teacher it was distilled from
(class, parameters, SHA-256 of its weights), its measured accuracy against the teacher on
held-out candidates (MAE, Spearman ρ, top-k recall) and its throughput (candidates/s, with and
without featurisation). ``score`` streams any iterable of candidates chunk by chunk (bounded
memory) with a progress bar; MLP bodies run through a frozen TorchScript trace on CPU when that
is faster (or ``torch.compile`` when asked for), falling back to eager PyTorch otherwise.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterable, Sized
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from physics import resolve_device

from .._io import MODELS, Saveable, prefixed, register_model
from .._mlp._base import MLPSurrogateBase
from .._mlp._net import MLP
from .._mlp._qstate import is_quantized
from .._prediction import Prediction
from ._batches import chunks, take
from ._metrics import accuracy, count_parameters, estimate_flops, throughput

__all__ = ["Screener", "chunks", "take"]


def _timed(m: torch.nn.Module, example: torch.Tensor, repeats: int = 3) -> float:
    m(example)
    t0 = time.perf_counter()
    for _ in range(repeats):
        m(example)
    return time.perf_counter() - t0


def _accelerate(net: torch.nn.Module, example: torch.Tensor,
                compile: bool = False) -> torch.nn.Module:
    """The fastest of eager ``net``, its frozen TorchScript trace and (``compile=True``)
    ``torch.compile(net)`` on ``example``, among those that agree with eager.

    Any tracing/compilation failure (no C++ compiler, unsupported op, …) drops that candidate
    with a warning; eager PyTorch always works. ``torch.compile`` costs tens of seconds of
    compilation on a small CPU, so it pays off only for very large pools (opt-in).
    """
    candidates: dict[str, torch.nn.Module] = {"eager": net.eval()}
    with torch.inference_mode():
        ref = net(example)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # jit is deprecated
                candidates["script"] = torch.jit.optimize_for_inference(
                    torch.jit.freeze(torch.jit.trace(net, example)))
        except Exception as exc:  # any tracing failure: eager still works
            warnings.warn(f"TorchScript unavailable for this screener ({exc}); skipping it",
                          stacklevel=3)
        if compile:
            try:
                candidates["compiled"] = torch.compile(net, dynamic=True)
                candidates["compiled"](example)
            except Exception as exc:  # no compiler, unsupported op, ...
                candidates.pop("compiled", None)
                warnings.warn(f"torch.compile unavailable for this screener ({exc}); "
                              "using TorchScript/eager", stacklevel=3)
        for name in [n for n in candidates if n != "eager"]:
            if not torch.allclose(ref, candidates[name](example), rtol=1e-4, atol=1e-5):
                candidates.pop(name)
        times = {name: _timed(m, example) for name, m in candidates.items()}
    return candidates[min(times, key=times.get)]


@register_model
class Screener(Saveable):
    """A compressed model plus where it came from and how good and fast it is.

    Args:
        model: a fitted student (any saveable surrogate; MLP bodies get the fast path).
        teacher: ``{"class", "params", "sha256"[, "file_sha256"]}`` of the teacher.
        metrics: accuracy against the teacher on held-out candidates.
        throughput: ``{"candidates_per_s", "candidates_per_s_features", ...}``.
        maximize: whether larger scores are better (for top-k metrics and ranking).
        config: how it was made (prune amount, quantised, student params, ...).
        compile: also try ``torch.compile`` for MLP bodies (kept only if it agrees with eager
            and is faster on a sample; compilation takes tens of seconds, so use it for very
            large pools). Runtime only, not saved.
    """

    def __init__(self, model: Any, *, teacher: dict[str, Any] | None = None,
                 metrics: dict[str, Any] | None = None,
                 throughput: dict[str, Any] | None = None, maximize: bool = True,
                 config: dict[str, Any] | None = None, compile: bool = False) -> None:
        self.model = model
        self.compile = bool(compile)
        self.teacher = dict(teacher or {})
        self.metrics = dict(metrics or {})
        self.throughput = dict(throughput or {})
        self.maximize = bool(maximize)
        self.config = dict(config or {})
        self._scorer: Any = None

    @property
    def input_kind(self) -> str:
        """What candidates :meth:`score` reads (the student's ``input_kind``)."""
        return str(self.model.input_kind)

    # --- scoring ---------------------------------------------------------------------------
    def featurize(self, candidates: Any, offset: int = 0) -> Any:
        """Features of ``candidates`` (the candidates themselves for models without features)."""
        if isinstance(self.model, MLPSurrogateBase):
            return self.model.featurize(candidates, offset=offset)
        return candidates

    def _fast(self, example: np.ndarray) -> MLPSurrogateBase:
        """The MLP student, its network traced (and compiled) for the CPU when that is
        faster."""
        if self._scorer is None:
            self._scorer = self.model
            net = self.model.net_
            on_cpu = is_quantized(net) or resolve_device(self.model.device).type == "cpu"
            if isinstance(net, MLP) and on_cpu:
                x = torch.from_numpy(self.model._prep(np.asarray(example[:256], np.float32)))
                fast = _accelerate(net.cpu(), x, compile=self.compile)
                if fast is not net:
                    self._scorer = self.model.with_net(fast)
                    self._scorer.device = "cpu"
        return self._scorer

    def score_features(self, F: Any) -> Prediction:
        """Scores of already featurised candidates (``(n, d)`` for MLP students)."""
        if not isinstance(self.model, MLPSurrogateBase):
            return self.model.predict(F)
        F = np.asarray(F, dtype=np.float32)
        return self._fast(F).predict_features(F)

    def score(self, candidates: Iterable[Any], batch_size: int = 4096,
              progress: bool = True) -> Prediction:
        """Score a (possibly huge, possibly streamed) pool, ``batch_size`` at a time.

        Returns the student's ``Prediction`` (mean, and std when distilled with
        ``match_std``), one row per candidate in order. Bad candidates raise ``ValueError``
        naming their index in the pool.
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        total = len(candidates) if isinstance(candidates, Sized) else None
        parts, done = [], 0
        with tqdm(total=total, desc="screening", unit="cand", disable=not progress,
                  leave=False) as bar:
            for chunk in chunks(candidates, int(batch_size)):
                parts.append(self.score_features(self.featurize(chunk, offset=done)))
                done += len(chunk)
                bar.update(len(chunk))
        if not parts:
            raise ValueError("score() got no candidates")
        return Prediction.concatenate(parts)

    def rank(self, candidates: Any, top: int | None = None, batch_size: int = 4096) -> np.ndarray:
        """Indices of the candidates, best first (``top`` of them when given)."""
        mean = self.score(candidates, batch_size=batch_size, progress=False).mean
        order = np.argsort(-mean if self.maximize else mean, kind="stable")
        return order if top is None else order[: int(top)]

    # --- measurement -----------------------------------------------------------------------
    def evaluate(self, candidates: Any, reference: Any, frac: float = 0.01,
                 k_min: int = 1) -> dict[str, float]:
        """Accuracy against ``reference`` values (the teacher's means, or the truth)."""
        mean = self.score(candidates, progress=False).mean
        return accuracy(mean, np.asarray(reference, float), frac=frac, maximize=self.maximize,
                        k_min=k_min)

    def measure(self, candidates: Any, batch_size: int = 4096) -> dict[str, float]:
        """Throughput (candidates/s) with and without featurisation, size and FLOPs."""
        n = len(candidates)
        F = self.featurize(candidates)
        out = {
            "candidates_per_s": throughput(
                lambda: self.score(candidates, batch_size=batch_size, progress=False), n),
            "candidates_per_s_features": throughput(lambda: self.score_features(F), n),
            "parameters": count_parameters(self.model),
            "flops_per_candidate": estimate_flops(self.model, candidates[: min(n, 8)]),
            "measured_on": n,
        }
        self.throughput.update(out)
        return out

    def summary(self) -> str:
        """One line: teacher, accuracy and speed."""
        m, t = self.metrics, self.throughput
        return (f"Screener({type(self.model).__name__} from {self.teacher.get('class', '?')}: "
                f"spearman={m.get('spearman', float('nan')):.3f}, "
                f"top-k recall={m.get('top_k_recall', float('nan')):.2f}, "
                f"{t.get('candidates_per_s', float('nan')):.0f} cand/s)")

    __repr__ = summary

    # --- persistence -----------------------------------------------------------------------
    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        mmeta, mtensors = self.model._to_state()
        meta = {"model": {"class": type(self.model).__name__, **mmeta},
                "teacher": self.teacher, "metrics": self.metrics,
                "throughput": self.throughput, "maximize": self.maximize, "config": self.config}
        return meta, {f"model.{k}": v for k, v in mtensors.items()}

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Screener:
        mmeta = meta["model"]
        mcls = MODELS.get(mmeta.get("class", ""))
        if mcls is None or mcls is cls:
            raise ValueError(f"screener student class {mmeta.get('class')!r} is not a known "
                             f"model; refusing to load it")
        model = mcls._from_state(mmeta, prefixed(tensors, "model."))
        return cls(model, teacher=meta.get("teacher"), metrics=meta.get("metrics"),
                   throughput=meta.get("throughput"), maximize=bool(meta.get("maximize", True)),
                   config=meta.get("config"))

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_teacher(cls, teacher: Any, X_unlabelled: Any, *, student: Any = None,
                     X_student: Any = None, X_labelled: Any = None, y: Any = None,
                     X_student_labelled: Any = None, label_weight: float = 0.5,
                     match_std: bool = True, prune_amount: float = 0.0,
                     prune_method: str = "l1", quantize: bool = False, holdout: float = 0.2,
                     maximize: bool = True, frac: float = 0.01,
                     teacher_prediction: Prediction | None = None,
                     teacher_path: str | os.PathLike | None = None,
                     random_state: int = 0) -> Screener:
        """Distil ``teacher`` into a student on the pool, then prune/quantise and measure it.

        Args:
            teacher: fitted surrogate or Ensemble (its ``predict`` is the distillation target).
            X_unlabelled: the pool in the teacher's input form; a random ``holdout`` share is
                kept out of training to measure accuracy against the teacher.
            student: unfitted student; default: :class:`FingerprintSurrogate` ``(256, 128)``
                for molecule teachers, a half-width :class:`HillSurrogate` for Hill teachers,
                an :class:`MLPSurrogate` ``(64, 32)`` for vector teachers.
            X_student, X_labelled, y, X_student_labelled, label_weight, match_std: passed
                to :func:`distill` (``match_std`` needs an Ensemble teacher).
            prune_amount, prune_method: structured pruning (0 = none) with distillation
                fine-tuning from the unpruned student.
            quantize: dynamic int8 (kept only if accurate and faster, see :func:`quantize`).
            maximize: larger is better (top-k metrics and ranking).
            frac: top fraction for the recall metric (top-1 % by default, at least 1).
            teacher_prediction: the teacher's prediction on ``X_unlabelled`` if known.
            teacher_path: the teacher's file, hashed into the screener's teacher identity.
            random_state: seeds the hold-out split and the student.
        """
        from ._build import build_screener

        return build_screener(
            cls, teacher, X_unlabelled, student=student, X_student=X_student,
            X_labelled=X_labelled, y=y, X_student_labelled=X_student_labelled,
            label_weight=label_weight, match_std=match_std, prune_amount=prune_amount,
            prune_method=prune_method, quantize=quantize, holdout=holdout, maximize=maximize,
            frac=frac, teacher_prediction=teacher_prediction, teacher_path=teacher_path,
            random_state=random_state)
