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
    assert cfg.fidelity.use_as_feature and cfg.fidelity.per_round > cfg.campaign.batch_size


def test_demo_is_bounded_and_uses_its_student_table():
    cfg = CampaignConfig.from_toml(EXAMPLES / "molecules" / "campaign.toml")
    assert cfg.surrogate.options["max_time"] > 0
    student = cfg.compression.build_student(0)
    assert type(student).__name__ == "FingerprintSurrogate" and list(student.hidden) == [64, 32]
