"""``scout compress``: teacher file + pool file → screener file, JSON report and plot."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from active_learning import cli
from active_learning._cli._compress import compress
from surrogates import Ensemble, FingerprintSurrogate, Screener

POOL = [pre + "C" * k + post for k in range(1, 8) for pre in ("", "c1ccccc1")
        for post in ("", "O", "N", "C(=O)O")]


def test_compress_writes_screener_and_report(tmp_path):
    y = np.array([len(s) for s in POOL], dtype=float)
    fp = FingerprintSurrogate(n_bits=128, hidden=(16,), epochs=20, device="cpu")
    teacher = Ensemble(fp, n_members=2).fit(POOL, y).save(tmp_path / "teacher.safetensors")
    (tmp_path / "pool.smi").write_text("\n".join(f"{s} mol{i}" for i, s in enumerate(POOL)))
    out = tmp_path / "s" / "screener.safetensors"
    res = CliRunner().invoke(compress, [str(teacher), str(tmp_path / "pool.smi"), "-o", str(out),
                                        "--prune", "0,0.5", "--no-quantize",
                                        "--hidden", "16", "--epochs", "30"])
    assert res.exit_code == 0, res.output
    report = json.loads((out.parent / "compress_report.json").read_text())
    assert {r["name"] for r in report["rows"]} == {"distilled", "pruned 0.5"}
    assert (out.parent / "compress_report.png").stat().st_size > 1000
    s = Screener.load(out)
    assert report["chosen"] in res.output and s.teacher["class"] == "Ensemble"
    assert len(s.score(POOL, progress=False)) == len(POOL)


def test_bad_input_is_one_line_exit_2(tmp_path, monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "compress", "active_learning._cli._compress:compress")
    res = CliRunner().invoke(cli.main, ["compress", str(tmp_path / "none.safetensors"),
                                        str(tmp_path / "pool.smi")])
    assert res.exit_code == 2
    assert "does not exist" in res.output and "Traceback" not in res.output


def test_compress_gnn_teacher_into_gnn_student_from_extxyz(tmp_path):
    """A GNN teacher on 3D structures: --student gnn distils, channel-prunes and saves."""
    from ase.io import write

    from surrogates import EquivariantGNN
    from tests.surrogates._gnn_data import rattled

    data = rattled(("CH3OH", "CH4", "H2O"), 4, seed=5)
    kw = {"channels": 4, "lmax": 1, "n_layers": 1, "cutoff": 4.0, "n_radial": 4,
          "epochs": 3, "dtype": "float64", "device": "cpu"}
    teacher = EquivariantGNN(**kw).fit(data).save(tmp_path / "gnn.safetensors")
    pool = rattled(("CH3OH", "CH4", "H2O"), 5, seed=6)
    write(tmp_path / "pool.extxyz", [type(a)(a.numbers, a.positions) for a in pool])
    write(tmp_path / "with_n.extxyz", rattled(("NH3", "CH4"), 6, seed=7))
    out = tmp_path / "screener.safetensors"
    res = CliRunner().invoke(compress, [str(teacher), str(tmp_path / "pool.extxyz"), "-o",
                                        str(out), "--student", "gnn", "--prune", "0,0.5",
                                        "--no-quantize", "--epochs", "3", "--minimize"])
    assert res.exit_code == 0, res.output
    s = Screener.load(out)
    assert type(s.model).__name__ == "EquivariantGNN" and s.model.config_.lmax == 1
    assert s.score(pool[:3], progress=False).mean.shape == (3,)
    report = json.loads((tmp_path / "compress_report.json").read_text())
    assert {r["name"] for r in report["rows"]} == {"distilled", "pruned 0.5"}
    bad = CliRunner().invoke(compress, [str(teacher), str(tmp_path / "with_n.extxyz"),
                                        "--student", "gnn"])
    assert bad.exit_code != 0 and "not seen in training" in str(bad.exception)


def _teacher(tmp_path):
    y = np.array([len(s) + 3 * s.count("O") for s in POOL], dtype=float)
    fp = FingerprintSurrogate(n_bits=128, hidden=(16,), epochs=20, device="cpu")
    return Ensemble(fp, n_members=2).fit(POOL, y).save(tmp_path / "teacher.safetensors")


def test_reads_every_pool_format_a_campaign_reads(tmp_path):
    """.smi, .csv, extxyz and the ASE database a campaign caches its 3D structures in (before:
    '.smi: structure 0 is a str', the db a UTF-8 decode error)."""
    from ase.io import write

    from active_learning import MoleculePool
    from active_learning._cli._compress import read_pool

    smi = tmp_path / "pool.smi"
    smi.write_text("# a comment\n" + "\n".join(f"{s} m{i}" for i, s in enumerate(POOL[:6])))
    assert read_pool(smi, "smiles") == POOL[:6]
    csv_path = tmp_path / "pool.csv"
    csv_path.write_text("name,smi\n" + "\n".join(f"m{i},{s}" for i, s in enumerate(POOL[:5])))
    assert read_pool(csv_path, "smiles", column="smi", id_column="name") == POOL[:5]
    cache = tmp_path / "campaign.artifacts" / "pool_cache" / "pool_atoms.db"
    pool = MoleculePool([*POOL[:4], "C1CC(C"], cache_path=cache)
    pool.get(range(5), "atoms")  # builds and caches; the bad SMILES is cached as a failure
    atoms = read_pool(cache, "atoms")
    assert [a.info["smiles"] for a in atoms] == [a.info["smiles"] for a in
                                                 pool.get(range(4), "atoms")]
    assert len(read_pool(cache, "atoms", limit=2)) == 2
    write(tmp_path / "pool.extxyz", atoms)
    assert [len(a) for a in read_pool(tmp_path / "pool.extxyz", "atoms")] == \
        [len(a) for a in atoms]


def test_a_screener_below_the_allowed_loss_is_not_saved(tmp_path, monkeypatch):
    """One epoch of a 2-unit student cannot keep the teacher's top 1%: with --max-loss 0.05
    nothing is saved and the command fails with one line; the report still says why."""
    monkeypatch.setitem(cli.COMMANDS, "compress", "active_learning._cli._compress:compress")
    teacher = _teacher(tmp_path)
    pool = tmp_path / "pool.smi"
    pool.write_text("\n".join(POOL))
    out = tmp_path / "screener.safetensors"
    args = ["compress", str(teacher), str(pool), "-o", str(out), "--prune", "0",
            "--no-quantize", "--hidden", "2", "--epochs", "1", "--seed", "3"]
    res = CliRunner().invoke(cli.main, args)
    report = json.loads((tmp_path / "compress_report.json").read_text())
    assert report["chosen"] is None and max(r["top_k_recall"] for r in report["rows"]) < 0.95
    assert res.exit_code == 2 and "nothing saved" in res.output and not out.exists()
    assert "Traceback" not in res.output
    ok = CliRunner().invoke(cli.main, [*args, "--max-loss", "1"])  # any loss allowed
    assert ok.exit_code == 0 and out.is_file()
