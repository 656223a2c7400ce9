"""The cheap judge's ledger: every low-fidelity result, with all its values, in a second study.

A multi-fidelity campaign keeps each cheap result (xTB before DFT, say) as one finished trial of
the study ``"<campaign>:cheap"`` in the campaign's own storage: ``params = {"index": i}``,
the objective's cheap value as the trial value, and user attributes ``candidate_id``,
``values`` (every value the cheap judge returned: energies, forces, the structure, orbital
energies, …), ``seconds`` and, for a failure, ``error``. So nothing a cheap calculation paid for
is lost, a killed coordinator never pays for one twice, and a full sweep of a large pool (10⁴
results of a few kB each) stays out of the main study's attributes, which every worker reads
while it waits.

Campaigns started before this ledger kept results as study attributes ``fidelity:NNN`` (value,
error, seconds only); :meth:`CheapLedger.records` still reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from ._keys import cheap_records
from ._storage import reading, retrying

__all__ = ["CheapLedger", "CheapRecord"]

#: suffix of the cheap judge's study name
SUFFIX = ":cheap"


@dataclass(frozen=True)
class CheapRecord:
    """One cheap result: ``value`` is the objective's cheap value (``nan`` for a failure),
    ``values`` everything the cheap judge returned (JSON form: arrays as lists)."""

    index: int
    candidate_id: str
    value: float
    error: str | None
    seconds: float
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and math.isfinite(self.value)


class CheapLedger:
    """The ``"<campaign>:cheap"`` study of ``storage`` (created when absent).

    Args:
        storage: the campaign's Optuna storage.
        name: the campaign's study name.
        pool_size: candidates in the pool (the ``index`` parameter's range).
        legacy: the main study's user attributes (for ``fidelity:NNN`` records of older
            campaigns), or ``None``.
    """

    def __init__(self, storage: Any, name: str, pool_size: int,
                 legacy: dict[str, Any] | None = None) -> None:
        self.study = retrying(optuna.create_study, storage=storage, study_name=name + SUFFIX,
                              direction="minimize", load_if_exists=True)
        self.distribution = IntDistribution(0, max(int(pool_size) - 1, 0))
        self._legacy = {i: CheapRecord(i, str(r.get("id", i)),
                                       math.nan if r.get("value") is None else float(r["value"]),
                                       r.get("error"), float(r.get("seconds", 0.0)))
                        for i, r in cheap_records(legacy or {}).items()}

    def records(self) -> dict[int, CheapRecord]:
        """Pool index → its cheap result (the latest, should a candidate have two)."""
        out = dict(self._legacy)
        trials = reading(self.study.get_trials, deepcopy=False,
                         states=(TrialState.COMPLETE, TrialState.FAIL))
        for t in sorted(trials, key=lambda t: t.number):
            i = int(t.params["index"])
            ok = t.state == TrialState.COMPLETE and t.value is not None
            out[i] = CheapRecord(i, str(t.user_attrs.get("candidate_id", i)),
                                 float(t.value) if ok else math.nan, t.user_attrs.get("error"),
                                 float(t.user_attrs.get("seconds", 0.0)),
                                 dict(t.user_attrs.get("values", {})))
        return out

    def tell(self, index: int, candidate_id: str, value: float, values: dict[str, Any],
             error: str | None, seconds: float) -> CheapRecord:
        """Record one cheap result (a failure when ``error`` is given or ``value`` is not
        finite); returns it as a :class:`CheapRecord`."""
        ok = error is None and math.isfinite(value)
        attrs: dict[str, Any] = {"candidate_id": str(candidate_id), "seconds": float(seconds)}
        if ok:
            attrs["values"] = values
        else:
            attrs["error"] = error or "objective missing or not finite"
        trial = optuna.trial.create_trial(
            state=TrialState.COMPLETE if ok else TrialState.FAIL,
            value=float(value) if ok else None, params={"index": int(index)},
            distributions={"index": self.distribution}, user_attrs=attrs)
        retrying(self.study.add_trial, trial)
        return CheapRecord(int(index), str(candidate_id), float(value) if ok else math.nan,
                           attrs.get("error"), float(seconds), values if ok else {})
