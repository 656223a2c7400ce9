"""Molecules in: SMILES -> 3D ``ase.Atoms`` (RDKit), and structure files via ``ase.io``.

``smiles_to_atoms`` follows the usual RDKit recipe: parse, add explicit hydrogens, embed with
ETKDGv3 (``randomSeed=seed``, so one seed gives one geometry), then optimise with MMFF94 (UFF
when MMFF lacks parameters). Positions are in Å. The canonical SMILES goes to
``atoms.info["smiles"]``, the total formal charge to ``atoms.info["charge"]`` (and per-atom
formal charges to the initial charges, which ASE calculators such as tblite's read), and the
spin multiplicity implied by radical electrons to ``atoms.info["multiplicity"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import ase
import ase.io

from ._base import CandidateError

__all__ = ["read_structures", "smiles_to_atoms", "structure_values", "to_atoms",
           "write_structures"]

#: heaviest element accepted (radon): the range of GFN-xTB parameters and common basis sets
MAX_ATOMIC_NUMBER = 86


@overload
def smiles_to_atoms(smiles: str, seed: int = 0, optimize: bool = True) -> ase.Atoms: ...


@overload
def smiles_to_atoms(
    smiles: Sequence[str], seed: int = 0, optimize: bool = True
) -> list[ase.Atoms]: ...


def smiles_to_atoms(
    smiles: str | Sequence[str], seed: int = 0, optimize: bool = True
) -> ase.Atoms | list[ase.Atoms]:
    """Build a 3D molecule (positions in Å) from a SMILES string, deterministic per ``seed``.

    Args:
        smiles: one SMILES string, or a sequence of them (then a list is returned).
        seed: ETKDG random seed; the same seed gives the same geometry.
        optimize: relax the embedded geometry with MMFF94 (UFF fallback).

    Raises:
        CandidateError (a ``ValueError``): invalid SMILES, an element outside H..Rn (or a
            dummy atom), or an embedding failure; the message names the SMILES, and its
            index when a sequence was given.
    """
    if isinstance(smiles, str):
        return _one_smiles(smiles, seed, optimize)
    out = []
    for i, smi in enumerate(smiles):
        try:
            out.append(_one_smiles(smi, seed, optimize))
        except CandidateError as exc:
            raise CandidateError(f"SMILES #{i}: {exc}") from None
    return out


def _one_smiles(smiles: Any, seed: int, optimize: bool) -> ase.Atoms:
    from rdkit import Chem, rdBase
    from rdkit.Chem import AllChem

    if not isinstance(smiles, str) or not smiles.strip():
        raise CandidateError(f"SMILES {smiles!r} is not a non-empty string")
    with rdBase.BlockLogs():  # RDKit's own stderr chatter; our message says what went wrong
        mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        raise CandidateError(f"invalid SMILES {smiles!r}: RDKit cannot parse it")
    for atom in mol.GetAtoms():
        z = atom.GetAtomicNum()
        if z == 0 or z > MAX_ATOMIC_NUMBER:
            raise CandidateError(
                f"SMILES {smiles!r}: unsupported element {atom.GetSymbol()!r} "
                f"(atom {atom.GetIdx()}); supported are H..Rn"
            )
    canonical = Chem.MolToSmiles(mol)
    molh = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    with rdBase.BlockLogs():
        status = AllChem.EmbedMolecule(molh, params)
        if status != 0:  # hard cases (cages, large rings) embed from random coordinates
            params.useRandomCoords = True
            status = AllChem.EmbedMolecule(molh, params)
    if status != 0:
        raise CandidateError(f"SMILES {smiles!r}: 3D embedding failed (ETKDGv3, seed {seed})")
    if optimize:
        with rdBase.BlockLogs():
            if AllChem.MMFFHasAllMoleculeParams(molh):
                AllChem.MMFFOptimizeMolecule(molh, maxIters=2000)
            elif AllChem.UFFHasAllMoleculeParams(molh):
                AllChem.UFFOptimizeMolecule(molh, maxIters=2000)
    positions = molh.GetConformer().GetPositions()  # [n_atoms, 3] Å
    atoms = ase.Atoms(
        numbers=[a.GetAtomicNum() for a in molh.GetAtoms()], positions=positions
    )
    atoms.set_initial_charges([float(a.GetFormalCharge()) for a in molh.GetAtoms()])
    n_radical = sum(a.GetNumRadicalElectrons() for a in molh.GetAtoms())
    atoms.info["smiles"] = canonical
    atoms.info["charge"] = int(Chem.GetFormalCharge(molh))
    atoms.info["multiplicity"] = int(n_radical) + 1
    return atoms


def structure_values(atoms: ase.Atoms) -> dict[str, Any]:
    """The structure a molecular simulator's values belong to, as values of its result:
    ``numbers`` (n_atoms,) atomic numbers and ``positions`` (n_atoms, 3) Å. A campaign keeps
    them with the energies and forces, so a model can learn on the judge's own geometry and
    an export can write it (``ase.Atoms(numbers=…, positions=…)``)."""
    return {"numbers": atoms.numbers.copy(), "positions": atoms.positions.copy()}


def to_atoms(candidate: ase.Atoms | str, seed: int = 0, optimize: bool = True) -> ase.Atoms:
    """A candidate as ``ase.Atoms``: a copy of an ``Atoms`` or a molecule built from SMILES.

    Raises:
        CandidateError: a bad SMILES (see :func:`smiles_to_atoms`), an empty structure, or a
            candidate of another type.
    """
    if isinstance(candidate, ase.Atoms):
        if len(candidate) == 0:
            raise CandidateError("structure has no atoms")
        return candidate.copy()
    if isinstance(candidate, str):
        return smiles_to_atoms(candidate, seed=seed, optimize=optimize)
    raise CandidateError(
        f"candidate of type {type(candidate).__name__} is neither ase.Atoms nor a SMILES string"
    )


def read_structures(path: str | Path, index: str | int = ":") -> list[ase.Atoms]:
    """Read structures with ``ase.io.read`` (extxyz, xyz, ASE ``.db``, …); always a list.

    Raises:
        FileNotFoundError: the path does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"structure file {str(path)!r} does not exist")
    images = ase.io.read(str(path), index=index)
    images = images if isinstance(images, list) else [images]
    if path.suffix == ".db":  # ``info`` travels in each row's data (see write_structures)
        from ase.db import connect

        with connect(str(path)) as db:
            infos = [row.data.get("info", {}) for row in db.select()]
        picked = infos[index] if isinstance(index, int) else infos[_slice(index)]
        for atoms, info in zip(images, picked if isinstance(picked, list) else [picked]):
            atoms.info.update(info)
    return images


def _slice(index: str) -> slice:
    parts = [int(p) if p.strip() else None for p in index.split(":")]
    return slice(*parts)


def write_structures(path: str | Path, atoms_list: Sequence[ase.Atoms]) -> Path:
    """Write structures with ``ase.io.write``; the format follows the suffix (``.xyz`` and
    ``.extxyz`` are written as extended XYZ, keeping ``info`` and calculator results; an ASE
    ``.db`` is replaced, with each structure's ``info`` stored in its row's data).

    Raises:
        ValueError: an empty list, or an item that is not ``ase.Atoms`` (named by index).
    """
    path = Path(path)
    atoms_list = list(atoms_list)
    if not atoms_list:
        raise ValueError(f"write_structures({str(path)!r}): no structures to write")
    for i, atoms in enumerate(atoms_list):
        if not isinstance(atoms, ase.Atoms):
            raise ValueError(f"structure #{i} is {type(atoms).__name__}, not ase.Atoms")
    if path.suffix == ".db":  # keep ``info`` (smiles, charge, ids) in each row's data
        from ase.db import connect

        if path.exists():
            path.unlink()  # a database is appended to; a write should replace it
        with connect(str(path)) as db:
            for atoms in atoms_list:
                db.write(atoms, data={"info": dict(atoms.info)})
        return path
    fmt = "extxyz" if path.suffix in {".xyz", ".extxyz"} else None
    ase.io.write(str(path), atoms_list, format=fmt)
    return path
