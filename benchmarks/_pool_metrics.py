"""How much of a pool's true best a campaign found: top-k recall by id and by value.

Published scores come rounded (docking in 0.1 kcal/mol steps) and DFT gaps can tie too, so
besides the fraction of the true top-k *ids* found we count the fraction of the top-k *values*
found as a multiset (values rounded to ``decimals``): ids tied at the cut are interchangeable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["TopK", "recall_curve"]


class TopK:
    """The true top ``k`` of ``values`` (a pool's answers; NaN = no answer) for a direction.

    Ties at the cut are broken by pool order (the source order, shuffled by the benchmark).
    """

    def __init__(self, values: Sequence[float], k: int, maximize: bool,
                 decimals: int = 3) -> None:
        self.values = np.asarray(values, dtype=float)
        self.k, self.maximize, self.decimals = int(k), bool(maximize), int(decimals)
        ok = np.flatnonzero(np.isfinite(self.values))
        key = -self.values[ok] if maximize else self.values[ok]
        self.ids = set(ok[np.argsort(key, kind="stable")[: self.k]].tolist())
        self.top_values = Counter(np.round(self.values[list(self.ids)], self.decimals))

    def recall(self, found: Sequence[int]) -> tuple[float, float]:
        """``(ids, values)``: fractions of the top-k ids, and of the top-k values as a
        multiset, among the candidates ``found`` (pool indices)."""
        found = [int(i) for i in found]
        got = self.values[found]
        got = got[np.isfinite(got)]
        best = np.sort(-got if self.maximize else got)[: self.k]
        best = -best if self.maximize else best
        values = sum((Counter(np.round(best, self.decimals)) & self.top_values).values())
        return len(self.ids & set(found)) / self.k, values / self.k


def recall_curve(by_round: Sequence[Sequence[int]], top: TopK) -> np.ndarray:
    """(rounds, 2): cumulative ``top.recall`` after each round of acquired indices."""
    found: list[int] = []
    out = []
    for batch in by_round:
        found += [int(i) for i in batch]
        out.append(top.recall(found))
    return np.array(out)
