"""``scout simulate``: candidates file in, results CSV (and extxyz) out, failures as rows."""

from __future__ import annotations

import ase.io
import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from click.testing import CliRunner

from active_learning._cli._simulate import read_candidates, simulate_command
from physics import XTB, smiles_to_atoms, write_structures


def _run(*args: str):
    return CliRunner().invoke(simulate_command, list(args))


def test_xtb_over_a_smi_file(tmp_path):
    smi = tmp_path / "mols.smi"
    smi.write_text("# molecules\nCCO ethanol\nC1CC broken\nO\n")
    out, xyz = tmp_path / "res.csv", tmp_path / "res.extxyz"
    res = _run("xtb", str(smi), "--out", str(out), "--xyz", str(xyz), "--quiet",
               "-o", "n_threads=1", "-o", "method=GFN2-xTB")
    assert res.exit_code == 0, res.output
    assert "3 candidates, 2 ok, 1 failed" in res.output
    table = pd.read_csv(out, dtype={"id": str})
    assert table["id"].tolist() == ["ethanol", "broken", "2"]  # no id given: the index
    assert table["ok"].tolist() == [True, False, True]
    assert "invalid SMILES 'C1CC'" in table["error"][1]
    direct = XTB(n_threads=1).evaluate([smiles_to_atoms("CCO", seed=0)])[0]
    assert table["energy"][0] == pytest.approx(direct.values["energy"], rel=1e-12)
    assert {"gap", "dipole_0", "dipole_2", "seconds"} <= set(table.columns)
    images = ase.io.read(xyz, index=":")
    assert [str(a.info["id"]) for a in images] == ["ethanol", "2"]
    assert images[0].get_potential_energy() == pytest.approx(direct.values["energy"])
    np.testing.assert_allclose(images[0].get_forces(), direct.values["forces"], atol=1e-6)


def test_ase_over_structures_and_failure_summary(tmp_path):
    structs = tmp_path / "in.extxyz"
    cu, si = bulk("Cu", "fcc", a=3.6), bulk("Si")
    cu.info["id"] = "cu"
    write_structures(structs, [cu, si])
    out = tmp_path / "r.csv"
    res = _run("ase", str(structs), "--out", str(out), "-o", "calculator=emt")
    assert res.exit_code == 0, res.output
    assert "failed 1: EMT failed on Si2" in res.output
    table = pd.read_csv(out)
    assert table["candidate"].tolist() == ["Cu", "Si2"] and table["ok"].tolist() == [True, False]


def test_lookup_over_a_csv_of_ids(tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("id,score\na,1.5\nb,-2\n")
    pool = tmp_path / "pool.csv"
    pool.write_text("id,name\nb,x\nzz,y\n")
    out = tmp_path / "r.csv"
    res = _run("lookup", str(pool), "--out", str(out), "-o", f"path={scores}")
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert table["score"][0] == -2 and table["error"][1] == "no value for id zz in table"


def test_bad_input(tmp_path):
    smi = tmp_path / "m.smi"
    smi.write_text("C\n")
    res = _run("nosuch", str(smi), "--out", "x.csv")
    assert res.exit_code == 2 and "unknown simulator 'nosuch'" in res.output
    res = _run("xtb", str(tmp_path / "missing.smi"), "--out", "x.csv")
    assert res.exit_code == 2
    res = _run("xtb", str(smi), "--out", "x.csv", "-o", "method")
    assert isinstance(res.exception, ValueError) and "not KEY=VALUE" in str(res.exception)
    res = _run("xtb", str(smi), "--out", "x.csv", "-o", "method=GFN9")
    assert isinstance(res.exception, ValueError) and "unknown xTB method" in str(res.exception)
    res = _run("lookup", str(smi), "--out", "x.csv", "--xyz", "x.xyz",
               "-o", f"path={tmp_path / 'none.csv'}")
    assert isinstance(res.exception, ValueError) and "does not exist" in str(res.exception)
    empty = tmp_path / "e.csv"
    empty.write_text("name\nq\n")
    with pytest.raises(ValueError, match=r"no column 'smiles/id'.*\['name'\]"):
        read_candidates(empty)
