"""``Pool``: the candidates of a campaign, each with a stable string id, read in chunks.

Call order for users and the loop:

1. ``pool = Pool.from_config(config.pool, cache_dir)`` (or a concrete class directly);
2. ``len(pool)``, ``pool.ids[i]``, ``pool.index_of(id)`` map positions and ids both ways;
3. ``pool.get(indices, form)`` hands candidates over in the form a surrogate reads
   (``"smiles"``, ``"atoms"``, ``"sequence"``, ``"vector"``), as ids (``"id"``), or as the
   simulator takes them (``"simulator"``, i.e. ``pool.simulator_input``);
4. ``pool.iter_chunks(chunk_size, form)`` streams ``(indices, items)`` so a 10⁶ pool is screened
   in bounded memory;
5. ``pool.failures()`` lists candidates that cannot be prepared (a SMILES that does not embed in
   3D) with the reason; the loop never proposes them.

A subclass sets ``kind`` and ``forms`` and implements ``__len__``, ``ids`` and ``_get``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = ["Pool", "check_unique_ids"]


def check_unique_ids(ids: Sequence[str], source: str) -> dict[str, int]:
    """``id -> position``; a repeated id raises ValueError naming it and both positions."""
    index: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if not isinstance(ident, str) or not ident:
            raise ValueError(f"{source}: candidate {i} has an empty or non-text id {ident!r}")
        first = index.setdefault(ident, i)
        if first != i:
            raise ValueError(f"{source}: duplicate id {ident!r} at rows {first} and {i} "
                             "(0-based data rows); every candidate needs its own id")
    if not index:
        raise ValueError(f"{source}: the pool is empty (no candidates found)")
    return index


class Pool(ABC):
    """Base class of candidate pools (see the module docstring for the call order).

    Attributes:
        kind: ``"molecules"``, ``"sequences"`` or ``"designs"``.
        forms: the forms :meth:`get` serves besides ``"id"`` and ``"simulator"``.
        simulator_input: the form ``get(..., "simulator")`` returns.
    """

    kind: ClassVar[str] = ""
    forms: ClassVar[tuple[str, ...]] = ()
    simulator_input: str = "id"

    @abstractmethod
    def __len__(self) -> int:
        """Number of candidates."""

    @property
    @abstractmethod
    def ids(self) -> Sequence[str]:
        """Stable, unique string ids, position ``i`` -> ``ids[i]`` (lazy for huge pools)."""

    @abstractmethod
    def _get(self, indices: np.ndarray, form: str) -> Any:
        """Items at checked positions ``indices`` (int64, shape (k,)) in a checked ``form``."""

    # --- hooks with defaults ------------------------------------------------------------
    def index_of(self, ident: str) -> int:
        """Position of the candidate with id ``ident``; ValueError naming it if absent."""
        index = self.__dict__.get("_id_index")
        if index is None:
            index = self.__dict__["_id_index"] = {k: i for i, k in enumerate(self.ids)}
        try:
            return index[ident]
        except (KeyError, TypeError):
            raise ValueError(f"id {ident!r} is not in this {self.kind} pool") from None

    def failures(self) -> dict[str, str]:
        """``id -> reason`` for candidates that could not be prepared. Default: none."""
        return {}

    # --- the public interface built on the hooks ----------------------------------------------
    def get(self, indices: Sequence[int] | np.ndarray, form: str) -> Any:
        """Candidates at ``indices`` (positions) in ``form``.

        Returns a list for ``"smiles"``/``"sequence"``/``"id"`` (str) and ``"atoms"``
        (``ase.Atoms``, ``None`` where the structure could not be built), an array of shape
        ``(k, d)`` for ``"vector"``; ``"simulator"`` means ``self.simulator_input``.
        """
        idx = self._check_indices(indices)
        form = self._check_form(form)
        if form == "id":
            ids = self.ids
            return [ids[int(i)] for i in idx]
        return self._get(idx, form)

    def iter_chunks(self, chunk_size: int, form: str) -> Iterator[tuple[np.ndarray, Any]]:
        """Yield ``(indices, items)`` for consecutive chunks of at most ``chunk_size``."""
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
                or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self._check_form(form)
        n = len(self)
        for start in range(0, n, int(chunk_size)):
            idx = np.arange(start, min(n, start + int(chunk_size)), dtype=np.int64)
            yield idx, self.get(idx, form)

    def ids_at(self, indices: Sequence[int] | np.ndarray) -> list[str]:
        """The ids at ``indices``: ``get(indices, "id")``."""
        return self.get(indices, "id")

    def prepare(self, forms: Iterable[str], progress: bool = True) -> dict[str, str]:
        """Build, for the whole pool and before the first design, what ``forms`` need (3D
        structures for ``"atoms"``), so that every candidate that cannot be prepared is known
        up front; returns ``{id: reason}`` of those (also in :meth:`failures`). Default:
        nothing to build."""
        return {}

    def options_for(self, names: Iterable[str]) -> dict[str, Any]:
        """Values of model options the whole pool decides (``Surrogate.pool_options``), for
        those of ``names`` this pool knows (``"elements"`` for molecules). Default: none."""
        return {}

    def failed_indices(self) -> np.ndarray:
        """Positions of :meth:`failures` (int64, sorted), ready for ``select_batch(exclude=)``."""
        return np.array(sorted(self.index_of(k) for k in self.failures()), dtype=np.int64)

    def _check_form(self, form: str) -> str:
        if form == "simulator":
            form = self.simulator_input
        if form != "id" and form not in self.forms:
            raise ValueError(f"a {self.kind} pool gives forms {', '.join((*self.forms, 'id'))} "
                             f"and 'simulator'; got {form!r}")
        return form

    def _check_indices(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.ndim == 0:
            idx = idx.reshape(1)
        if idx.size == 0:
            return np.zeros(0, dtype=np.int64)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"indices must be a 1-D sequence of integers, got {idx.dtype} "
                             f"with shape {idx.shape}")
        bad = np.flatnonzero((idx < 0) | (idx >= len(self)))
        if bad.size:
            raise ValueError(f"index {int(idx[bad[0]])} (item {int(bad[0])} of the request) is "
                             f"outside this pool of {len(self)} candidates")
        return idx.astype(np.int64, copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)})"

    # --- construction ------------------------------------------------------------------------
    @staticmethod
    def from_config(pool_cfg: Any, cache_dir: str | os.PathLike | None = None) -> Pool:
        """The pool a ``[pool]`` section (a ``PoolConfig``) describes; see its ``build``."""
        return pool_cfg.build(cache_dir)
