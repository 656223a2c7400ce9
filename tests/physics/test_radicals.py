"""Radicals: xTB takes charge and spin from the SMILES as DFT does, and both report one gap
definition for open shells — the spin-orbital gap min(LUMO_α, LUMO_β) − max(HOMO_α, HOMO_β)
of unrestricted (spin-polarised) orbitals."""

from __future__ import annotations

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from physics import DFT, XTB, smiles_to_atoms
from physics._electronic import homo_lumo_gap


def test_two_spin_gap_is_the_smallest_spin_orbital_gap():
    """Hand-worked doublet: α holds two electrons (HOMO_α −9, LUMO_α −5), β one (HOMO_β −14,
    LUMO_β −8, the partner of the singly occupied α orbital): the gap is LUMO_β − HOMO_α =
    −8 − (−9) = 1, not the α-only 4."""
    energies = np.array([[-15.0, -9.0, -5.0], [-14.0, -8.0, -4.0]])
    occupations = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert homo_lumo_gap(energies, occupations) == pytest.approx(1.0)


def test_xtb_reads_the_radical_from_the_smiles():
    """The ethyl radical's SMILES says doublet; before, XTB's default (singlet) refused it."""
    (from_smiles,) = XTB(n_threads=1).evaluate(["C[CH2]"])
    assert from_smiles.ok, from_smiles.error
    atoms = smiles_to_atoms("C[CH2]")
    assert atoms.info["multiplicity"] == 2
    (explicit,) = XTB(multiplicity=2, n_threads=1).evaluate([atoms])
    assert from_smiles.values["energy"] == pytest.approx(explicit.values["energy"], abs=1e-9)
    assert from_smiles.values["gap"] == pytest.approx(explicit.values["gap"], abs=1e-9)


def test_xtb_open_shell_gap_is_the_spin_polarised_spin_orbital_gap():
    """The ethyl radical's xTB gap equals the spin-orbital gap of tblite's spin-polarised
    orbitals (two spin channels), and is far below the restricted SOMO→LUMO gap (≈ 11.4 eV)
    the singly occupied orbital would give counted as the HOMO."""
    from tblite.interface import Calculator

    atoms = smiles_to_atoms("C[CH2]")
    calc = Calculator("GFN2-xTB", atoms.numbers, atoms.positions / Bohr, 0, 1)
    calc.set("verbosity", 0)
    restricted = calc.singlepoint()
    eps, occ = restricted.get("orbital-energies"), restricted.get("orbital-occupations")
    somo_lumo = (eps[occ < 0.5].min() - eps[occ > 0.5].max()) * Hartree
    calc.add("spin-polarization", 1.0)
    polarised = calc.singlepoint()
    e2, o2 = polarised.get("orbital-energies"), polarised.get("orbital-occupations")
    assert e2.shape == (2, len(eps))  # α and β orbitals
    expected = (min(e2[s][o2[s] < 0.5].min() for s in (0, 1))
                - max(e2[s][o2[s] > 0.5].max() for s in (0, 1))) * Hartree
    (res,) = XTB(n_threads=1).evaluate([atoms])
    assert res.values["gap"] == pytest.approx(expected, rel=1e-8)
    assert 0.0 < res.values["gap"] < 0.5 * somo_lumo


@pytest.mark.parametrize("simulator", [XTB(n_threads=1),
                                       DFT(xc="b3lyp", basis="sto-3g", device="cpu",
                                           n_threads=1)],
                         ids=["xtb", "dft"])
def test_hydrogen_atom_gap_is_the_spin_splitting_of_1s(simulator):
    """One electron in a minimal basis (one 1s function in STO-3G and in GFN2-xTB): with
    restricted orbitals there is no virtual orbital and no gap at all. Both simulators give
    the spin-orbital gap: β 1s (empty) above α 1s (occupied), a few eV up to ≈ 12 eV."""
    (res,) = simulator.evaluate(["[H]"])
    assert res.ok, res.error
    assert 1.0 < res.values["gap"] < 15.0
    assert len(res.values["numbers"]) == 1


@pytest.mark.slow
def test_xtb_and_dft_gaps_of_a_radical_are_both_below_the_closed_shell_ones():
    """Same definition, same physics: a radical's spin-orbital gap is far below its
    closed-shell neighbour's (ethyl vs ethane), for GFN2-xTB and for UKS-B3LYP."""
    for sim in (XTB(n_threads=1), DFT(xc="b3lyp", basis="sto-3g", device="cpu", n_threads=1)):
        radical, closed = sim.evaluate(["C[CH2]", "CC"])
        assert radical.ok and closed.ok
        assert radical.values["gap"] < 0.5 * closed.values["gap"], type(sim).__name__
