"""RDKit 2D descriptors of molecules, computed once per SMILES and cached in memory.

The whole RDKit descriptor list (``rdkit.Chem.Descriptors._descList``, ~217 in RDKit 2026.09:
size, logP, TPSA, VSA partitions, E-state, connectivity, ring and fragment counts, …) takes
about 11 ms per drug-like molecule on one core here, 50× a Morgan fingerprint. A campaign
re-predicts the same pool every round, so values are cached per SMILES (bounded by
:data:`CACHE_SIZE` molecules; about 870 B each) and a pool is featurised once per process.

The list changes between RDKit versions, so a fitted model stores the names it used and
:func:`descriptor_names` refuses a name this RDKit does not have.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["CACHE_SIZE", "descriptor_matrix", "descriptor_names", "signed_log"]

#: most molecules whose descriptor vectors are kept in memory (per descriptor list)
CACHE_SIZE = 250_000

_CACHE: dict[tuple[str, ...], OrderedDict[str, np.ndarray]] = {}


@lru_cache(maxsize=1)
def _all() -> dict[str, Any]:
    from rdkit.Chem import Descriptors

    return dict(Descriptors._descList)


def descriptor_names(names: Sequence[str] | None = None) -> tuple[str, ...]:
    """``None`` → every descriptor of this RDKit; else check that each named one exists."""
    table = _all()
    if names is None:
        return tuple(table)
    missing = [n for n in names if n not in table]
    if missing:
        raise ValueError(f"RDKit descriptors {missing} are not in this RDKit version "
                         f"({len(table)} known, e.g. {list(table)[:4]})")
    return tuple(str(n) for n in names)


def _compute(mol: Any, names: tuple[str, ...]) -> np.ndarray:
    table = _all()
    out = np.empty(len(names), dtype=np.float64)
    for j, name in enumerate(names):
        try:
            out[j] = float(table[name](mol))
        except (ValueError, ZeroDivisionError, RuntimeError, OverflowError):
            out[j] = np.nan  # a descriptor undefined for this molecule; treated as missing
    return out


def descriptor_matrix(smiles: Sequence[str], names: tuple[str, ...],
                      offset: int = 0) -> np.ndarray:
    """Descriptor values, shape ``(n, len(names))`` float64, NaN where RDKit cannot compute one.

    Invalid SMILES raise ``ValueError`` naming candidate ``i + offset``.
    """
    from rdkit import Chem, rdBase

    cache = _CACHE.setdefault(names, OrderedDict())
    out = np.empty((len(smiles), len(names)), dtype=np.float64)
    with rdBase.BlockLogs():
        for i, smi in enumerate(smiles):
            row = cache.get(smi)
            if row is None:
                mol = Chem.MolFromSmiles(smi) if smi else None
                if mol is None:
                    raise ValueError(f"candidate {i + offset}: invalid SMILES {smi!r}")
                row = _compute(mol, names)
                cache[smi] = row
                if len(cache) > CACHE_SIZE:
                    cache.popitem(last=False)
            out[i] = row
    return out


def signed_log(x: np.ndarray) -> np.ndarray:
    """``sign(x) · log(1 + |x|)``: tames heavy-tailed descriptors (Ipc reaches 1e12)."""
    return np.sign(x) * np.log1p(np.abs(x))
