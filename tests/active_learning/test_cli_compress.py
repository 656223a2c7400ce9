"""``scout compress``: teacher file + pool file → screener file, JSON report and plot."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from active_learning import cli
from active_learning._cli_compress import compress
from surrogates import Ensemble, FingerprintSurrogate, Screener

POOL = [pre + "C" * k + post for k in range(1, 8) for pre in ("", "c1ccccc1")
        for post in ("", "O", "N", "C(=O)O")]


def test_compress_writes_screener_and_report(tmp_path):
    y = np.array([len(s) for s in POOL], dtype=float)
    fp = FingerprintSurrogate(n_bits=128, hidden=(16,), max_epochs=20, device="cpu")
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
    monkeypatch.setitem(cli.COMMANDS, "compress", "active_learning._cli_compress:compress")
    res = CliRunner().invoke(cli.main, ["compress", str(tmp_path / "none.safetensors"),
                                        str(tmp_path / "pool.smi")])
    assert res.exit_code == 2
    assert "does not exist" in res.output and "Traceback" not in res.output
