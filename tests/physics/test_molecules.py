"""SMILES -> 3D molecules and structure files."""

from __future__ import annotations

import ase
import numpy as np
import pytest
from ase.build import molecule
from ase.neighborlist import natural_cutoffs, neighbor_list

from physics import CandidateError, read_structures, smiles_to_atoms, to_atoms, write_structures


def _bonds(atoms: ase.Atoms) -> set[tuple[int, int]]:
    i, j = neighbor_list("ij", atoms, natural_cutoffs(atoms, mult=1.2))
    return {(a, b) for a, b in zip(i.tolist(), j.tolist()) if a < b}


def test_ethanol_geometry_is_physical():
    atoms = smiles_to_atoms("OCC", seed=0)
    assert atoms.get_chemical_formula() == "C2H6O"
    assert atoms.info == {"smiles": "CCO", "charge": 0, "multiplicity": 1}
    o, c1, c2 = 0, 1, 2  # heavy atoms keep the order of the SMILES "OCC"
    assert atoms.get_chemical_symbols()[:3] == ["O", "C", "C"]
    # MMFF94 bond lengths (Å): C-C 1.51-1.53, C-O 1.41-1.43
    assert 1.50 < atoms.get_distance(c1, c2) < 1.54
    assert 1.40 < atoms.get_distance(o, c1) < 1.44
    assert len(_bonds(atoms)) == 8  # 2 heavy-atom bonds + 6 X-H bonds


def test_deterministic_per_seed():
    a, b = smiles_to_atoms("CCCCO", seed=3), smiles_to_atoms("CCCCO", seed=3)
    np.testing.assert_array_equal(a.positions, b.positions)
    c = smiles_to_atoms("CCCCO", seed=4)
    assert np.abs(a.positions - c.positions).max() > 1e-3  # another conformer or frame
    assert _bonds(a) == _bonds(c)  # same molecule


def test_unoptimised_geometry_differs_from_mmff():
    raw = smiles_to_atoms("CCO", seed=0, optimize=False)
    opt = smiles_to_atoms("CCO", seed=0)
    assert np.abs(raw.positions - opt.positions).max() > 1e-3


@pytest.mark.parametrize(("smiles", "charge", "mult"), [
    ("[NH4+]", 1, 1), ("CC(=O)[O-]", -1, 1), ("[CH3]", 0, 2), ("[O-]C(=O)CC[NH3+]", 0, 1),
])
def test_charge_and_multiplicity(smiles, charge, mult):
    atoms = smiles_to_atoms(smiles)
    assert atoms.info["charge"] == charge
    assert atoms.info["multiplicity"] == mult
    assert atoms.get_initial_charges().sum() == pytest.approx(charge)


@pytest.mark.parametrize(("smiles", "match"), [
    ("C1CC", r"invalid SMILES 'C1CC'"),
    ("[U]", r"'\[U\]': unsupported element 'U'"),
    ("*CC", r"unsupported element '\*'"),
    ("", r"not a non-empty string"),
])
def test_bad_smiles_named(smiles, match):
    with pytest.raises(ValueError, match=match):
        smiles_to_atoms(smiles)


def test_bad_smiles_in_a_list_names_index():
    with pytest.raises(CandidateError, match=r"SMILES #2: invalid SMILES 'xyz'"):
        smiles_to_atoms(["C", "CC", "xyz"])
    out = smiles_to_atoms(["C", "O"])
    assert [a.get_chemical_formula() for a in out] == ["CH4", "H2O"]


def test_embedding_failure_is_named(monkeypatch):
    from rdkit.Chem import AllChem

    monkeypatch.setattr(AllChem, "EmbedMolecule", lambda *a, **k: -1)
    with pytest.raises(CandidateError, match=r"SMILES 'CCO': 3D embedding failed"):
        smiles_to_atoms("CCO")


def test_to_atoms_copies_and_rejects_other_types():
    water = molecule("H2O")
    out = to_atoms(water)
    out.positions += 1.0
    assert np.allclose(water.positions, molecule("H2O").positions)
    assert to_atoms("O").get_chemical_formula() == "H2O"
    with pytest.raises(CandidateError, match="float is neither"):
        to_atoms(1.5)
    with pytest.raises(CandidateError, match="no atoms"):
        to_atoms(ase.Atoms())


@pytest.mark.parametrize("suffix", [".extxyz", ".xyz", ".db"])
def test_write_read_round_trip(tmp_path, suffix):
    mols = [smiles_to_atoms("CCO"), smiles_to_atoms("c1ccccc1")]
    path = write_structures(tmp_path / f"mols{suffix}", mols)
    back = read_structures(path)
    assert len(back) == 2
    for a, b in zip(mols, back):
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        np.testing.assert_allclose(a.positions, b.positions, atol=1e-6)
    assert back[1].info["smiles"] == "c1ccccc1"
    assert len(read_structures(path, index=0)) == 1
    write_structures(path, mols[:1])  # a second write replaces, never appends
    assert len(read_structures(path)) == 1


def test_structure_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.xyz"):
        read_structures(tmp_path / "nope.xyz")
    with pytest.raises(ValueError, match="no structures"):
        write_structures(tmp_path / "a.xyz", [])
    with pytest.raises(ValueError, match="structure #1 is str"):
        write_structures(tmp_path / "a.xyz", [molecule("H2O"), "CCO"])
