"""One round's decision: train the teacher, compress, screen the pool, pick the batch.

``plan_round`` is a pure function of the completed trials, the config and the round number
(every random draw comes from ``numpy.random.default_rng([seed, round])`` and the models are
seeded ``seed * 1000 + round``), so a coordinator killed and restarted draws the same batch.

Screening (shapes): the pool is read in chunks of ``CHUNK`` candidates; with compression the
screener's mean (maximisation form) keeps a running shortlist of the best
``max(screen_fraction * n, 4 * k)`` untried candidates, which the teacher ensemble re-ranks
(mean ± std); without compression the teacher predicts every untried candidate.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._acquisition._functions import acquisition_scores, to_maximization, to_maximization_values
from .._ledger._keys import POOL_FAILURES_KEY
from .._ledger._ledger import Record

__all__ = ["CHUNK", "RoundPlan", "plan_initial", "plan_round"]

#: candidates read from the pool and scored per step
CHUNK = 8192


@dataclass
class RoundPlan:
    """A round's batch (pool indices) and what led to it.

    ``mean``/``std`` are the teacher's predictions for the batch in the objective's units (for
    parity plots; empty in round 0); ``times`` are seconds for train / compress / screen /
    select (and ``prescreen``, the cheap judge's share, in multi-fidelity rounds);
    ``fidelity`` counts that round's ``cheap_calls`` and the ``prescreened`` candidates;
    ``notes`` says what made the round depend on the machine (a training time cap that
    bound), for ``scout status``.
    """

    round: int
    batch: list[int]
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)
    n_train: int = 0
    artifacts: list[str] = field(default_factory=list)
    fidelity: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_attr(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_attr(cls, data: dict[str, Any]) -> RoundPlan:
        return cls(**data)


def round_rng(seed: int, round_: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(round_)])


def _features(pool: Any, indices: np.ndarray, wanted: bool) -> np.ndarray | None:
    """Vectors for diversity (``pool.get(..., "vector")``), only when diversity is asked for."""
    if not wanted or len(indices) == 0:
        return None
    return np.asarray(pool.get(indices, "vector"), dtype=float)


def plan_initial(session: Any, k: int) -> RoundPlan:
    """Round 0: ``k`` candidates by the configured initial design (random or diverse)."""
    from .._acquisition._batch import initial_design

    cfg = session.config
    rng = round_rng(cfg.campaign.seed, 0)
    t0 = time.perf_counter()
    failures = session.pool.prepare(forms_needed(cfg))
    if failures:
        session.ledger.set_attr(POOL_FAILURES_KEY, {k: v[:300] for k, v in failures.items()})
    n = len(session.pool)
    method = cfg.acquisition.initial_design
    feats = _features(session.pool, np.arange(n), method == "diverse")
    batch = [int(i) for i in initial_design(n, k, method, feats, rng,
                                           exclude=session.pool.failed_indices())]
    return RoundPlan(0, batch, times={"select": time.perf_counter() - t0})


def forms_needed(cfg: Any) -> set[str]:
    """The candidate forms a campaign will ask its pool for: what the teacher and the
    compression student read (their classes' ``input_kind``) and what the simulator reads."""
    import surrogates

    forms = {surrogates.SURROGATES[cfg.surrogate.kind].input_kind, cfg.pool.simulator_input}
    if cfg.compression.enabled:
        student = cfg.compression.build_student()
        forms.add("smiles" if student is None else student.input_kind)
    return forms


def observed(records: dict[int, Record]) -> tuple[np.ndarray, np.ndarray]:
    """Completed pool indices (sorted) and their objective values, shapes ``(m,)``."""
    done = sorted(i for i, r in records.items() if r.state == "COMPLETE")
    return np.array(done, dtype=int), np.array([records[i].value for i in done], dtype=float)


def _fit_teacher(teacher: Any, idx: np.ndarray, records: dict[int, Record], y: np.ndarray,
                 session: Any) -> Any:
    """Fit on objective values, or on measured curves for a model that declares it fits curves
    (``fits = "curves"``: ``fit(X, responses, doses)``, e.g. the Hill surrogate): ``response``
    from the values, ``doses`` from the values or else the simulator's dose grid (µM). A model
    of 3D structures gets the judge's results attached (energy and forces for pre-training,
    see :mod:`._inputs`)."""
    import surrogates

    from ._inputs import teacher_inputs

    cfg = session.config
    cls = surrogates.SURROGATES[cfg.surrogate.kind]
    values = {int(i): records[int(i)].values for i in idx}
    X = teacher_inputs(session.pool, idx, cls.input_kind, values)
    if cls.fits != "curves":
        return teacher.fit(X, y)
    vals = [records[int(i)].values for i in idx]
    if not all("response" in v for v in vals):
        raise ValueError(f"surrogate {cls.__name__} learns dose-response curves: the simulator "
                         f"must return a 'response' value")
    doses = vals[0].get("doses")
    if doses is None:
        doses = cfg.simulator.build().doses
    if doses is None:
        raise ValueError(f"surrogate {cls.__name__} needs the dose grid: the simulator has no "
                         f"'doses'")
    responses = np.array([np.asarray(v["response"], dtype=float) for v in vals])
    return teacher.fit(X, responses, doses=np.asarray(doses, dtype=float))


def _previous_teacher(cfg: Any, artifacts: Path | None, round_: int) -> Any:
    """With ``[surrogate] warm_start = true``: the last round's fitted teacher (saved in the
    artifacts folder), whose ``fit`` then continues from its weights; else ``None``."""
    if not cfg.surrogate.options.get("warm_start") or artifacts is None:
        return None
    for r in range(round_ - 1, 0, -1):
        path = artifacts / f"round_{r:03d}" / "teacher.safetensors"
        if path.is_file():
            from surrogates import load_model

            return load_model(path)
    return None


def _shortlist(keep: tuple[np.ndarray, np.ndarray], idx: np.ndarray, score: np.ndarray,
               m: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge a chunk into the running top-``m`` (indices, scores) by score."""
    all_idx = np.concatenate([keep[0], idx])
    all_sc = np.concatenate([keep[1], score])
    if all_idx.size > m:
        top = np.argpartition(-all_sc, m - 1)[:m]
        all_idx, all_sc = all_idx[top], all_sc[top]
    return all_idx, all_sc


def _compress(cfg: Any, teacher: Any, pool: Any, form: str, rng: np.random.Generator,
              seed: int) -> Any:
    """Distil the teacher into the screener on a sample (≤ ``[compression] distil_sample``) of the
    preparable pool.

    The student is ``[compression.student]`` (``kind`` + options) or the library default (a
    fingerprint MLP reading SMILES for molecule teachers, else the teacher's own input form).
    """
    import surrogates

    comp = cfg.compression
    student = comp.build_student(random_state=seed)
    s_form = student.input_kind if student is not None else \
        ("smiles" if form in ("atoms", "smiles") else form)
    ok = np.setdiff1d(np.arange(len(pool)), pool.failed_indices())
    sample = np.sort(rng.choice(ok, min(ok.size, comp.distil_sample), replace=False))
    return surrogates.Screener.from_teacher(
        teacher, pool.get(sample, form), student=student, X_student=pool.get(sample, s_form),
        prune_amount=comp.prune_amount, quantize=comp.quantize,
        maximize=cfg.campaign.direction == "maximize", random_state=seed)


def plan_round(session: Any, round_: int, records: dict[int, Record], k: int,
               artifacts: Path | None = None) -> RoundPlan:
    """Train on every completed trial, screen the untried pool, pick ``k`` by acquisition."""
    from .._acquisition._batch import select_batch

    cfg, pool = session.config, session.pool
    camp, acq = cfg.campaign, cfg.acquisition
    rng = round_rng(camp.seed, round_)
    seed = camp.seed * 1000 + round_
    times: dict[str, float] = {}
    fidelity: dict[str, float] = {}

    idx, y = _training_set(session, records)
    if idx.size < 2:
        raise ValueError(f"round {round_}: only {idx.size} completed simulations to train on; "
                         f"the initial design failed (see `scout status`)")
    taken = np.union1d(np.fromiter(records.keys(), dtype=int, count=len(records)),
                       pool.failed_indices())  # in the ledger already, or unpreparable
    untried = np.setdiff1d(np.arange(len(pool)), taken)
    goal = (camp.direction, camp.target)
    best = float(y[int(np.argmax(to_maximization_values(y, *goal)))])
    screener = None
    t0 = time.perf_counter()
    if cfg.fidelity is not None and cfg.fidelity.sweep >= 1.0:  # every candidate swept
        from ._fidelity import swept_round

        cand, pred, teacher, fidelity = swept_round(session, idx, y, untried, seed + 500)
        times["prescreen"] = fidelity.pop("sweep_seconds")
        times["train"] = time.perf_counter() - t0 - times["prescreen"]
        pred_max, best_max = to_maximization(pred, camp.direction, camp.target, best)
        scores = acquisition_scores(acq.kind, pred_max, best_max, beta=acq.beta, xi=acq.xi,
                                    rng=rng)
    else:
        teacher = _previous_teacher(cfg, artifacts, round_) or \
            cfg.surrogate.build(random_state=seed, pool=pool)
        teacher = _fit_teacher(teacher, idx, records, y, session)
        times["train"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if cfg.compression.enabled:
            screener = _compress(cfg, teacher, pool, _form(cfg), rng, seed)
        times["compress"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cand, pred = _screen(session, teacher, screener, untried, k)
        times["screen"] = time.perf_counter() - t0
        pred_max, best_max = to_maximization(pred, camp.direction, camp.target, best)
        scores = acquisition_scores(acq.kind, pred_max, best_max, beta=acq.beta, xi=acq.xi,
                                    rng=rng)
        if cfg.fidelity is not None:  # the cheap judge narrows the choice (see _fidelity)
            from ._fidelity import prescreen

            t1 = time.perf_counter()
            cand, pred, fidelity = prescreen(session, cand, pred, scores, k, idx, y,
                                             seed + 500, _form(cfg))
            pred_max, _ = to_maximization(pred, camp.direction, camp.target)
            scores = acquisition_scores(acq.kind, pred_max, best_max, beta=acq.beta,
                                        xi=acq.xi, rng=rng)
            times["prescreen"] = time.perf_counter() - t1
    notes = []
    if teacher.stopped_by_time():
        notes.append("the teacher's training was cut by its max_time safety cap: this round's "
                     "batch depends on the machine's speed (budget it in epochs instead)")
    t0 = time.perf_counter()
    feats = _features(pool, cand, acq.diversity_or_none is not None)
    pos = np.asarray(select_batch(scores, min(k, cand.size), exclude=None,
                                  diversity=acq.diversity_or_none, features=feats, rng=rng),
                     dtype=int)
    times["select"] = time.perf_counter() - t0

    saved: list[str] = []
    if artifacts is not None:
        folder = artifacts / f"round_{round_:03d}"
        saved.append(str(teacher.save(folder / "teacher.safetensors")))
        if screener is not None:
            saved.append(str(screener.save(folder / "screener.safetensors")))
    std = pred.std[pos] if pred.std is not None else np.zeros(pos.size)
    return RoundPlan(round_, [int(i) for i in cand[pos]], [float(v) for v in pred.mean[pos]],
                     [float(v) for v in std], times, int(idx.size), saved, fidelity, notes)


def _form(cfg: Any) -> str:
    """What the teacher reads (its class's ``input_kind``)."""
    import surrogates

    return surrogates.SURROGATES[cfg.surrogate.kind].input_kind


def _training_set(session: Any, records: dict[int, Record]) -> tuple[np.ndarray, np.ndarray]:
    """The completed candidates the teacher can learn from, and their values: a judged
    candidate without a 3D structure cannot teach a model of 3D structures."""
    idx, y = observed(records)
    if _form(session.config) == "atoms":
        keep = ~np.isin(idx, session.pool.failed_indices())
        idx, y = idx[keep], y[keep]
    return idx, y


def _screen(session: Any, teacher: Any, screener: Any, untried: np.ndarray,
            k: int) -> tuple[np.ndarray, Any]:
    """The candidates the acquisition chooses among and the teacher's prediction for them:
    every untried one, or (with a screener) the screener's shortlist of them."""
    import surrogates

    cfg, pool = session.config, session.pool
    form = _form(cfg)
    goal = (cfg.campaign.direction, cfg.campaign.target)
    if screener is None:
        parts = [teacher.predict(pool.get(untried[s:s + CHUNK], form))
                 for s in range(0, untried.size, CHUNK)]
        return untried, surrogates.Prediction.concatenate(parts)
    m = max(math.ceil(cfg.compression.screen_fraction * len(pool)), 4 * k)
    keep = (np.empty(0, int), np.empty(0, float))
    for cidx, X in pool.iter_chunks(CHUNK, screener.input_kind):
        cidx = np.asarray(cidx, dtype=int)
        mask = np.isin(cidx, untried)
        if not mask.any():
            continue
        sel = [X[j] for j in np.flatnonzero(mask)] if isinstance(X, list) else X[mask]
        score = to_maximization_values(screener.score(sel, progress=False).mean, *goal)
        keep = _shortlist(keep, cidx[mask], score, m)
    cand = np.sort(keep[0])
    return cand, teacher.predict(pool.get(cand, form))
