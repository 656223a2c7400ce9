"""Before anything is spent: `scout check` and the check `scout run` makes before the study
exists; a changed config names its keys; --restart while no simulation has completed."""

from __future__ import annotations

import json

from click.testing import CliRunner

from active_learning._coordinator._campaign import Campaign
from active_learning._coordinator._preflight import preflight
from active_learning._ledger._session import open_session
from active_learning.cli import main
from tests.active_learning import _fakes
from tests.active_learning._toml import write_campaign

SMILES = ["CCO", "CC", "c1ccccc1", "CC(=O)O", "C1CC(C", "CN", "C=C", "[Xx]", "O", "C#N",
          "CCC", "CCCC"]


def _molecules(tmp_path, method: str = "GFN2-xTB"):
    lines = ["# a small pool", *(f"{s} m{i}" for i, s in enumerate(SMILES))]
    lines[13 - 1] = "C1CC(C notasmiles"  # line 13, as in the issue
    (tmp_path / "pool.smi").write_text("\n".join(lines) + "\n")
    return write_campaign(tmp_path, {
        "campaign": {"name": "mols", "objective": "gap", "direction": "minimize", "budget": 4,
                     "batch_size": 2},
        "pool": {"kind": "molecules", "path": "pool.smi"},
        "simulator": {"kind": "xtb", "method": method, "n_threads": 1},
        "surrogate": {"kind": "gp", "n_restarts": 0},
    })


def test_check_lists_every_unparsable_smiles_with_line_id_and_the_fix(tmp_path):
    cfg = _molecules(tmp_path)
    res = CliRunner().invoke(main, ["check", str(cfg)])
    assert res.exit_code == 2
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, res.output
    e = errors[0]
    assert "3 of 12 candidates cannot be simulated" in e
    assert "line 6 id 'm4' 'C1CC(C' (not valid SMILES syntax)" in e
    assert "line 13 id 'notasmiles'" in e and "line 9 id 'm7' '[Xx]'" in e
    assert "put '#' at the start of line(s) 6, 9, 13" in e  # (sorted: line 6, 9, then 13)


def test_run_refuses_before_the_study_exists_and_spends_nothing(tmp_path):
    cfg = _molecules(tmp_path, method="GFN9-xTB")
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1
    assert "simulator 'xtb': unknown xTB method 'GFN9-xTB'" in errors[0]
    assert "notasmiles" in errors[0]  # every problem on the one line
    assert not (tmp_path / "mols.db").exists()  # no study, no simulation


def test_check_prints_what_the_campaign_does_and_costs(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=20, batch_size=4, initial=8)
    res = CliRunner().invoke(main, ["check", str(cfg), "--probe", "2"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "pool      300 designs from pool.csv (csv); read" in out
    assert "round 0: 8 candidates (random initial design); then up to 3 round(s) of 4" in out
    assert "at most 20 simulations of scout-test-landscape (7% of the pool)" in out
    assert "probe     2 simulation(s)" in out and "ok: the campaign can run" in out


def test_a_config_change_names_the_keys_and_restart_is_explicit(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=8, batch_size=4, initial=4)
    session = open_session(cfg, create=True)  # a study set up, no simulation yet
    assert session.ledger.study.metric_names == ["y"]  # optuna-dashboard shows "y"
    text = cfg.read_text().replace('kind = "ucb"', 'kind = "ei"')
    cfg.write_text(text.replace("budget = 8", "budget = 12"))
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2
    line = res.output.strip().splitlines()[-1]
    assert "changed since it started: acquisition.kind (\"ucb\" → \"ei\"), " \
           "campaign.budget (8 → 12)" in line
    assert "no simulation has completed yet, so `scout run CONFIG --restart`" in line
    res = CliRunner().invoke(main, ["-q", "run", str(cfg), "--restart"])
    assert res.exit_code == 0, res.output
    records = open_session(cfg, load_pool=False).ledger.records()
    assert sum(r.state == "COMPLETE" for r in records.values()) == 12
    # with simulations completed, a restart would lose them: refused, naming how many
    cfg.write_text(cfg.read_text().replace("budget = 12", "budget = 16"))
    res = CliRunner().invoke(main, ["run", str(cfg), "--restart"])
    assert res.exit_code == 2 and "12 completed simulations; --restart would discard them" \
        in res.output
    assert "restore the old settings" not in res.output


def test_a_changed_pool_file_is_named(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=4, batch_size=4, initial=4)
    Campaign.from_toml(cfg, progress=False).run()
    pool = tmp_path / "pool.csv"
    pool.write_text(pool.read_text().replace("d0000,", "d0000x,"))
    report = preflight(cfg)
    assert report.study == "changed"
    assert "pool.path (the content of 'pool.csv' changed)" in report.problems[0]
    assert "4 simulations have completed" in report.problems[0]
    assert json.dumps(report.lines)  # what `scout check` prints is plain text
