"""Candidate batches: take items by index, or walk a (possibly streamed) pool in chunks."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["chunks", "take"]


def take(X: Any, idx: np.ndarray) -> Any:
    """Items ``idx`` of a candidate list or array, in that order."""
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[int(i)] for i in idx]


def chunks(X: Iterable[Any], size: int) -> Iterator[Any]:
    """Consecutive chunks of ``size`` items (array slices for arrays, lists otherwise)."""
    if isinstance(X, np.ndarray):
        for s in range(0, len(X), size):
            yield X[s:s + size]
        return
    it = iter(X)
    while chunk := list(itertools.islice(it, size)):
        yield chunk
