"""Labels at the boundary: read, shape-check and validate them once, naming the structure.

``targets`` may be a dict of named arrays (``energy`` (n,) eV, ``forces`` list of (n_atoms, 3)
eV/Å, ``gap`` (n,) eV, ``dipole`` (n, 3) e·Å, …), a 1-D array meaning the configured target,
or ``None``: then each structure's attached results are read (``atoms.calc.results`` as a
``SinglePointCalculator`` from an extxyz file holds them, else ``atoms.info`` /
``atoms.arrays``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms

__all__ = ["VECTOR_TARGETS", "Labels", "read_labels"]

#: targets predicted by the equivariant vector head, with their per-structure shape
VECTOR_TARGETS = {"dipole": (3,)}


@dataclass(frozen=True)
class Labels:
    """Validated labels: ``y`` (n,) or (n, 3); ``forces`` a list of (n_atoms, 3) or ``None``."""

    y: np.ndarray
    forces: list[np.ndarray] | None


def _attached(atoms: Atoms, name: str) -> Any:
    results = getattr(atoms.calc, "results", None) or {}
    if name in results:
        return results[name]
    if name in atoms.info:
        return atoms.info[name]
    if name in atoms.arrays:
        return atoms.arrays[name]
    return None


def _one(value: Any, k: int, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if value is None:
        raise ValueError(f"structure {k} has no {name!r} label")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"structure {k}: {name!r} label {value!r} is not numeric") from None
    if arr.size == int(np.prod(shape)):
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ValueError(f"structure {k}: {name!r} label has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"structure {k} has a non-finite (NaN or inf) {name!r} label")
    return arr


def read_labels(structures: Sequence[Atoms], targets: Any, target: str,
                want_forces: bool) -> Labels:
    """Labels of ``target`` (and forces when ``want_forces`` and available) for each structure.

    Forces are optional: used when every structure has them, else ``None``.
    """
    n = len(structures)
    shape = VECTOR_TARGETS.get(target, ())
    if targets is None:
        values = [_attached(a, target) for a in structures]
        forces = [_attached(a, "forces") for a in structures] if want_forces else None
    elif isinstance(targets, Mapping):
        if target not in targets:
            raise ValueError(f"targets has no {target!r} entry (it has {sorted(targets)})")
        values, forces = list(targets[target]), targets.get("forces") if want_forces else None
    else:
        arr = np.asarray(targets, dtype=float)
        if arr.ndim != 1 + len(shape):
            raise ValueError(f"y for target {target!r} must have shape ({n}, *{shape}), "
                             f"got {arr.shape}")
        values, forces = list(arr), None
    if len(values) != n:
        raise ValueError(f"{len(values)} {target!r} labels for {n} structures")
    y = np.stack([_one(v, k, target, shape) for k, v in enumerate(values)])
    if forces is not None:
        forces = list(forces)
        if any(f is None for f in forces):
            forces = None
        elif len(forces) != n:
            raise ValueError(f"{len(forces)} force arrays for {n} structures")
        else:
            forces = [_one(f, k, "forces", (len(a), 3))
                      for k, (f, a) in enumerate(zip(forces, structures))]
    return Labels(y=y, forces=forces)
