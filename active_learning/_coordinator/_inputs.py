"""What a teacher reads for each candidate: the pool's form, or — for a model of molecules — the
molecule with everything a judge returned for it attached.

A judge that computes from 3D structures (xTB, DFT) returns, with its targets, the structure its
values belong to (``numbers``, ``positions``) and its energy and forces. :func:`attach` turns
such values into the ``ase.Atoms`` a model reads:

- the geometry is the judge's when it returned one with the same atoms (the pool's RDKit
  geometry otherwise), so a model learns on the structure the values belong to;
- ``energy`` (eV) and ``forces`` (eV/Å) go into a ``SinglePointCalculator``: what
  ``EquivariantGNN(pretrain=…)`` pre-trains on;
- the other scalar and vector values (``gap``, ``homo``, ``lumo``, ``dipole``, …) go into
  ``atoms.info``: what ``MoleculeGP(extra_inputs=…)`` reads; ``info["smiles"]`` and
  ``info["id"]`` name the candidate.

One source per campaign keeps the inputs consistent between the candidates a teacher trains on
and those it ranks: the cheap judge's results when there is one (it has seen both), else the
expensive judge's (the training set only: the pool's structures are ranked as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["attach", "teacher_inputs"]

#: values that describe the structure, not a property to read
_STRUCTURE = ("numbers", "positions", "forces", "energy")


def attach(atoms: Any, values: Mapping[str, Any], smiles: str | None, ident: str) -> Any:
    """A copy of ``atoms`` (or of the judge's structure, when ``values`` holds one with the
    same atomic numbers) carrying ``values``: energy and forces as a calculator, the rest in
    ``info``. With neither a structure nor ``atoms`` the result is an ``Atoms`` without atoms
    that carries only ``info`` (enough for a model that reads values, not geometry)."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    numbers = values.get("numbers")
    same = numbers is not None and (atoms is None or np.array_equal(
        np.asarray(numbers, dtype=int), atoms.numbers))
    if same:
        out = Atoms(numbers=np.asarray(numbers, dtype=int),
                    positions=np.asarray(values["positions"], dtype=float))
        if atoms is not None:
            out.info.update(atoms.info)
    elif atoms is not None:
        out = atoms.copy()
    else:
        out = Atoms()
    out.calc = None
    if "energy" in values and "forces" in values and \
            np.shape(values["forces"]) == (len(out), 3):
        out.calc = SinglePointCalculator(out, energy=float(values["energy"]),
                                         forces=np.asarray(values["forces"], dtype=float))
    for key, value in values.items():
        if key not in _STRUCTURE:
            out.info[key] = np.asarray(value, dtype=float) if isinstance(value, list) \
                else value
    if smiles is not None:
        out.info["smiles"] = smiles
    out.info["id"] = ident
    return out


def teacher_inputs(pool: Any, indices: np.ndarray, form: str,
                   values: Mapping[int, Mapping[str, Any]] | None = None,
                   as_molecules: bool = False) -> Sequence[Any]:
    """The candidates at ``indices`` as a model of ``form`` reads them.

    With ``values`` (pool index → what a judge returned) and a model of ``"atoms"`` — or any
    molecule model when ``as_molecules`` (one that reads judge values from ``info``) — each
    candidate is an ``ase.Atoms`` with those values attached (:func:`attach`); candidates
    without values keep the pool's structure. Otherwise: ``pool.get(indices, form)``.
    """
    indices = np.asarray(indices, dtype=int)
    wants_atoms = form == "atoms" or as_molecules
    if values is None or not wants_atoms or pool.kind != "molecules":
        return pool.get(indices, form)
    ids = pool.get(indices, "id")
    try:
        smiles = pool.get(indices, "smiles")
    except ValueError:  # a structure-file pool without SMILES
        smiles = [None] * len(ids)
    # a model of 3D structures needs the pool's where no judge returned one; a model that
    # reads only values (as_molecules) needs none built
    base = pool.get(indices, "atoms") if form == "atoms" else [None] * len(ids)
    return [attach(a, values.get(int(i), {}), s, ident)
            for i, a, s, ident in zip(indices, base, smiles, ids)]
