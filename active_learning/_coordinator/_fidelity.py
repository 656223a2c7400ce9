"""Multi-fidelity rounds: a cheap simulator (``[fidelity]``) pre-screens for the expensive one.

In every model round, after the teacher has scored the untried pool (:func:`._plan.plan_round`):

1. **pre-screen set** — the best ``per_round`` candidates by the acquisition (default
   4 × batch size) on which the cheap simulator has not failed;
2. **cheap evaluations** — the coordinator runs the cheap simulator on the members of that
   set, and on every expensively evaluated candidate (so the Δ model has its training pairs),
   that have no cheap value yet. Each result — every value the cheap judge returned — is
   written to the cheap ledger at once (a second study, :mod:`.._ledger._cheap`), so a
   restarted coordinator never pays for a cheap calculation twice, and a cheap failure is
   recorded with its reason (the candidate is then never pre-screened again). When failures
   leave fewer than ``per_round`` usable candidates, the next best are evaluated in turn, up
   to ``2 × per_round`` cheap calls a round (if none succeeds, the teacher's ranking is used
   as is, so a broken cheap simulator costs a bounded amount and never stalls the campaign);
3. **ranking** — the expensive batch is chosen from the pre-screened set only:

   - ``use_as_feature = true`` (Δ-learning): a second teacher, built like the first, learns
     the residual ``expensive − cheap`` on the candidates that have both; the prediction for a
     pre-screened candidate is ``cheap + Δ̂`` with the Δ teacher's spread. The two fidelities
     must measure the same quantity in the same units (e.g. a gap in eV from xTB and DFT);
   - ``use_as_feature = false``: the cheap value itself is the estimate, with the first
     teacher's spread.

Shapes: candidate positions are pool indices ``(m,)``; predictions are in the objective's units.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np

__all__ = ["CheapJudge", "prescreen"]


def _cheap_inputs(pool: Any, indices: list[int], simulator: Any) -> list[Any]:
    """The cheap simulator's inputs: ids for one that reads ids (a lookup table), else the
    pool's simulator form (or its natural form when the expensive simulator reads ids)."""
    if simulator.input_kind == "id":
        return pool.get(indices, "id")
    form = "simulator" if pool.simulator_input != "id" else pool.forms[0]
    return list(pool.get(indices, form))


class CheapJudge:
    """The cheap simulator of a session, with every result kept in the cheap ledger
    (:class:`~.._ledger._cheap.CheapLedger`): the objective's cheap value and all the other
    values the cheap simulator returned (energy, forces, orbital energies, the structure)."""

    def __init__(self, session: Any) -> None:
        fid = session.config.fidelity
        self.session = session
        self.objective = fid.objective or session.config.campaign.objective
        self.records = session.cheap.records()
        self._simulator: Any = None

    @property
    def simulator(self) -> Any:
        if self._simulator is None:
            self._simulator = self.session.config.fidelity.simulator.build()
        return self._simulator

    def value(self, index: int) -> float:
        """The recorded cheap value (``nan`` when it failed or is not known)."""
        rec = self.records.get(int(index))
        return math.nan if rec is None else rec.value

    def failed(self, index: int) -> bool:
        """True when the cheap judge already failed on this candidate."""
        rec = self.records.get(int(index))
        return rec is not None and not rec.ok

    def ensure(self, indices: np.ndarray | list[int], desc: str = "cheap pre-screen") -> int:
        """Evaluate (and record) those of ``indices`` with no recorded result; returns how
        many cheap calculations were run now. Each result is recorded as soon as it exists,
        so a killed coordinator never pays for it again."""
        from tqdm.auto import tqdm

        todo = [int(i) for i in indices if int(i) not in self.records]
        if not todo:
            return 0
        pool, cheap = self.session.pool, self.session.cheap
        ids = pool.get(todo, "id")
        self.simulator.setup()
        try:
            for i, ident in tqdm(list(zip(todo, ids)), desc=desc, unit="sim", leave=False,
                                 file=sys.stderr, disable=len(todo) < 2):
                t0 = time.perf_counter()
                values: dict[str, Any] = {}
                try:
                    res = self.simulator.evaluate(_cheap_inputs(pool, [i], self.simulator))[0]
                    value = res.value(self.objective) if res.ok else math.nan
                    error = res.error if not res.ok else (
                        None if math.isfinite(value) else
                        f"objective {self.objective!r} missing or not finite")
                    values = res.to_json()["values"] if res.ok else {}
                except Exception as exc:  # a mis-configured cheap simulator fails the candidate
                    value, error = math.nan, f"{type(exc).__name__}: {exc}"
                self.records[i] = cheap.tell(i, str(ident), value, values, error,
                                             time.perf_counter() - t0)
        finally:
            self.simulator.teardown()
        return len(todo)


def cheap_aware(session: Any, judge: CheapJudge, train: np.ndarray, y: np.ndarray,
                cand: np.ndarray, random_state: int) -> Any:
    """The teacher that knows the cheap values: Δ-learning (``use_as_feature``: learn
    ``expensive − cheap``, predict ``cheap + Δ̂``) and/or the cheap values as inputs
    (``inputs``), fitted on the completed candidates ``train`` (values ``y``) that have a cheap
    result and applied to ``cand``. Returns ``(prediction, teacher)``, or ``None`` when the
    config asks for neither or fewer than 2 training pairs exist."""
    from surrogates import SURROGATES, Prediction

    from ._inputs import teacher_inputs

    cfg = session.config
    fid = cfg.fidelity
    if not (fid.use_as_feature or fid.inputs):
        return None
    ok = np.array([judge.records.get(int(i)) is not None and judge.records[int(i)].ok
                   for i in train], dtype=bool)
    if ok.sum() < 2:
        return None
    form = SURROGATES[cfg.surrogate.kind].input_kind
    values = {i: r.values for i, r in judge.records.items() if r.ok}

    def inputs(indices: np.ndarray) -> Any:
        return teacher_inputs(session.pool, indices, form, values,
                              as_molecules=bool(fid.inputs))

    base_train = np.array([judge.value(int(i)) for i in train[ok]])
    target = y[ok] - base_train if fid.use_as_feature else y[ok]
    overrides = {"extra_inputs": tuple(fid.inputs)} if fid.inputs else None
    teacher = cfg.surrogate.build(random_state=random_state, pool=session.pool,
                                  overrides=overrides)
    teacher.fit(inputs(train[ok]), target)
    parts = [teacher.predict(inputs(cand[s:s + 4096])) for s in range(0, cand.size, 4096)]
    pred = Prediction.concatenate(parts)
    if fid.use_as_feature:
        pred = Prediction(pred.mean + np.array([judge.value(int(i)) for i in cand]), pred.std)
    return pred, teacher


def shortlist_size(session: Any, k: int, n_untried: int) -> int:
    """Cheap evaluations a round spends on its shortlist: ``sweep`` × the untried pool when
    ``0 < sweep < 1``, else ``per_round`` (default 4 × the batch size)."""
    fid = session.config.fidelity
    if 0.0 < fid.sweep < 1.0:
        return max(k, math.ceil(fid.sweep * n_untried))
    return int(fid.per_round or 4 * k)


def prescreen(session: Any, cand: np.ndarray, pred: Any, scores: np.ndarray, k: int,
              idx: np.ndarray, y: np.ndarray, random_state: int,
              form: str) -> tuple[np.ndarray, Any, dict[str, float]]:
    """Narrow the screened candidates to the cheaply pre-screened set (see module doc).

    Args:
        cand: screened untried pool indices ``(m,)``; ``pred``: the teacher's prediction for
            them; ``scores``: their acquisition scores ``(m,)`` (higher is better).
        k: the expensive batch size; ``idx``/``y``: completed candidates and their values.
        random_state: seed of the cheap-aware teacher; ``form``: the teacher's input form.

    Returns:
        ``(indices, prediction, info)``: the pre-screened candidates ``(p,)``, their
        prediction in objective units, and ``{"cheap_calls", "prescreened"}``.
    """
    from surrogates import Prediction

    fid = session.config.fidelity
    if (fid.use_as_feature or fid.inputs) and _teacher_class(session).fits == "curves":
        raise ValueError("fidelity.use_as_feature and fidelity.inputs need a scalar surrogate: "
                         f"{session.config.surrogate.kind!r} learns dose-response curves")
    judge = CheapJudge(session)
    want = min(shortlist_size(session, k, cand.size), cand.size)
    s = np.where(np.isnan(scores), -np.inf, scores)
    order = np.lexsort((cand, -s))  # best first, ties by pool index
    calls, keep, pos = 0, [], 0
    while len(keep) < want and pos < order.size and calls < 2 * want:
        step = order[pos:pos + want - len(keep)]
        pos += step.size
        take = [int(p) for p in step if not judge.failed(int(cand[p]))]
        calls += judge.ensure(cand[take])
        keep += [p for p in take if math.isfinite(judge.value(int(cand[p])))]
    keep_arr = np.sort(np.asarray(keep, dtype=int))
    chosen = cand[keep_arr]
    if chosen.size == 0:  # the cheap judge failed on every candidate: the teacher decides
        return cand, pred, {"cheap_calls": float(calls), "prescreened": 0.0}
    out = None
    if fid.use_as_feature or fid.inputs:
        calls += judge.ensure(idx)  # training pairs (the initial design's, once)
        aware = cheap_aware(session, judge, idx, y, chosen, random_state)
        out = None if aware is None else aware[0]
    if out is None:
        std = None if pred.std is None else pred.std[keep_arr]
        out = Prediction(np.array([judge.value(int(i)) for i in chosen]), std)
    return chosen, out, {"cheap_calls": float(calls), "prescreened": float(chosen.size)}


def swept_round(session: Any, idx: np.ndarray, y: np.ndarray, untried: np.ndarray,
                random_state: int) -> tuple[np.ndarray, Any, Any, dict[str, float]]:
    """A round with ``sweep = 1``: the cheap judge covers the whole pool (only the first
    round pays for it), and the cheap-aware teacher ranks every untried candidate the cheap
    judge succeeded on. Returns ``(candidates, prediction, teacher, info)``; ``info`` holds
    ``cheap_calls``, ``prescreened`` and ``sweep_seconds`` (the cheap calls' wall time)."""
    judge = CheapJudge(session)
    t0 = time.perf_counter()
    calls = judge.ensure(np.union1d(idx, untried), desc="cheap sweep")
    seconds = time.perf_counter() - t0
    cand = np.array([i for i in untried if judge.records[int(i)].ok], dtype=int)
    if cand.size == 0:
        raise ValueError("fidelity.sweep: the cheap judge failed on every untried candidate "
                         "(see `scout status`)")
    aware = cheap_aware(session, judge, idx, y, cand, random_state)
    if aware is None:  # neither Δ nor inputs: the teacher ranks by the cheap value alone
        raise ValueError("fidelity.sweep = 1 needs use_as_feature = true or fidelity.inputs, "
                         "or at least 2 completed candidates with a cheap value")
    pred, teacher = aware
    return cand, pred, teacher, {"cheap_calls": float(calls), "prescreened": float(cand.size),
                                 "sweep_seconds": seconds}


def _teacher_class(session: Any) -> Any:
    import surrogates

    return surrogates.SURROGATES[session.config.surrogate.kind]
