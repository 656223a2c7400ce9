"""Every documented example config is valid, and says what its comments promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from active_learning import CampaignConfig

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize("name", sorted(p.parent.name for p in EXAMPLES.glob("*/campaign.toml")))
def test_example_config_is_valid(name):
    cfg = CampaignConfig.from_toml(EXAMPLES / name / "campaign.toml")
    assert cfg.campaign.initial <= cfg.campaign.budget


def test_dft_example_prescreens_with_xtb():
    cfg = CampaignConfig.from_toml(EXAMPLES / "dft" / "campaign.toml")
    assert (cfg.simulator.kind, cfg.fidelity.simulator.kind) == ("dft", "xtb")
    # delta learning subtracts the xTB gap from the DFT gap: the same quantity
    assert cfg.fidelity.objective == cfg.campaign.objective == "gap"
    # the recipe benchmarks/qm9_campaign.py measured: a relaxed xTB sweep of the whole pool,
    # delta learning and xTB's values as the GP's inputs
    assert cfg.fidelity.use_as_feature and cfg.fidelity.sweep == 1.0
    assert cfg.fidelity.simulator.options["relax"] is True
    assert set(cfg.fidelity.inputs) <= set(cfg.fidelity.simulator.targets)
    assert cfg.surrogate.kind == "gp"


def test_demo_is_bounded_and_uses_its_student_table():
    cfg = CampaignConfig.from_toml(EXAMPLES / "molecules" / "campaign.toml")
    # the budget is epochs; a wall-clock cap far above a round's training is only a safety limit
    assert cfg.surrogate.options["epochs"] <= 100 and cfg.surrogate.options["max_time"] >= 300
    student = cfg.compression.build_student(0)
    assert type(student).__name__ == "FingerprintSurrogate" and list(student.hidden) == [64, 32]


@pytest.mark.slow
def test_the_demo_readme_quotes_what_the_seeded_demo_produces(tmp_path):
    """Runs `make demo`'s campaign (a copy, a few minutes) and checks every number the README's
    'recorded run' paragraph quotes: the best gap after round 0 and after round 1, and where
    the best candidate comes from."""
    import re
    import shutil

    from active_learning import Campaign
    from active_learning._ledger._keys import round_key
    from active_learning._ledger._session import open_session

    for name in ("campaign.toml", "library.smi"):
        shutil.copy(EXAMPLES / "molecules" / name, tmp_path / name)
    summary = Campaign.from_toml(tmp_path / "campaign.toml", progress=False).run()
    attrs = open_session(tmp_path / "campaign.toml", load_pool=False).ledger.attrs()
    text = " ".join((EXAMPLES / "molecules" / "README.md").read_text().split())  # unwrap lines
    quoted = re.search(r"best gap went from ([\d.]+) eV \((\S+), round 0\) to ([\d.]+) eV "
                       r"\((\S+), round (\d)\)", text)
    assert quoted, "the README's recorded-run sentence is missing"
    r0, id0, r1, id1, rnd = quoted.groups()
    assert f"{attrs[round_key(0, done=True)]['best']:.3f}" == r0
    assert attrs[round_key(0, done=True)]["best_id"] == id0
    assert f"{summary['best']['value']:.3f}" == r1 and summary["best"]["id"] == id1
    assert str(summary["best"]["round"]) == rnd
    assert summary["evaluations"] == 48
    records = open_session(tmp_path / "campaign.toml", load_pool=False).ledger.records()
    rmse = []
    for r in (1, 2):
        plan = attrs[round_key(r)]
        err = [m - records[i].value for i, m in zip(plan["batch"], plan["mean"])]
        rmse.append(float(sum(e * e for e in err) / len(err)) ** 0.5)
    quoted = re.search(r"round-1 RMSE of ([\d.]+) eV and round-2 RMSE of ([\d.]+) eV", text)
    assert quoted and (f"{rmse[0]:.1f}", f"{rmse[1]:.2f}") == quoted.groups()
