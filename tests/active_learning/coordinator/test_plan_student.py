"""The planner builds the screener's student from ``[compression.student]``."""

from __future__ import annotations

from active_learning._coordinator._campaign import Campaign
from surrogates import MLPSurrogate, Screener
from tests.active_learning import _fakes


def test_compression_student_table_is_honoured(tmp_path):
    cfg = _fakes.write_config(tmp_path, budget=15, batch_size=5, initial=10, n=200)
    cfg.write_text(cfg.read_text() + "\n[compression]\nenabled = true\nscreen_fraction = 0.2\n"
                   "prune_amount = 0.0\n\n[compression.student]\nkind = \"mlp\"\n"
                   "hidden = [7]\nepochs = 30\n")
    summary = Campaign.from_toml(cfg, progress=False).run()
    assert summary["evaluations"] == 15
    screener = Screener.load(tmp_path / "synthetic.artifacts" / "round_001"
                             / "screener.safetensors")
    # the default student for a vector teacher is an MLP (64, 32): width 7 can only come
    # from the table, and the saved params prove it was built with its options
    assert isinstance(screener.model, MLPSurrogate)
    assert list(screener.model.hidden) == [7]
    assert screener.model.epochs == 30
