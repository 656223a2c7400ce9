"""`scout report` and `scout status` read like a scientist's: units from the target table,
error bars, log axes for log-scale targets, integer rounds, the simulations in the time
split, RDKit drawings of the best candidates, failures with reasons, captions that say what
each plot shows."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.container import ErrorbarContainer

from active_learning._report import _plots
from active_learning.cli import main
from physics import TARGETS
from tests.active_learning.report._molecules import run_campaign


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return run_campaign(tmp_path_factory.mktemp("report"))


def test_status_table_shows_smiles_and_units(cfg):
    res = CliRunner().invoke(main, ["status", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "SMILES" in res.output and "gap (eV)" in res.output
    assert "c1ccccc1" in res.output and re.search(r"best so far: \w+ = [\d.]+ eV", res.output)


def test_the_html_page_has_units_structures_failures_and_captions(cfg, tmp_path):
    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["report", str(cfg), "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "index.html").read_text()
    assert "<th>gap (eV)</th>" in page and "<th>SMILES</th>" in page
    # the failure with its reason, in a table
    assert re.search(r"<td>salt</td><td>\[Na\+\]\.\[Cl-\]</td>.*Too close", page)
    # every figure has a caption saying what it shows, not its file name
    figures = re.findall(r'<img src="([^"]+)"[^>]*><figcaption>([^<]+)</figcaption>', page)
    names = [f for f, _ in figures]
    assert {"top_structures.png", "best_so_far.png", "time_split.png",
            "parity_round_001.png"} <= set(names)
    for name, caption in figures:
        assert (out / name).stat().st_size > 1000 and len(caption) > 60 and name not in caption
    assert "simulations themselves" in dict(figures)["time_split.png"]
    assert "± 1 standard deviation" in dict(figures)["parity_round_001.png"]


def _capture(monkeypatch):
    figs = []
    monkeypatch.setattr(_plots, "_save",
                        lambda fig, out, name, caption: figs.append((fig, caption)) or
                        [_plots.Plot(name, caption)])
    return figs


def test_parity_draws_error_bars_and_log_axes_for_ec50(monkeypatch, tmp_path):
    from active_learning._ledger._ledger import Record

    figs = _capture(monkeypatch)
    batch, y = [0, 1, 2], [0.5, 8.0, 120.0]  # EC50 spans decades (µM)
    plan = {"round": 1, "batch": batch, "mean": [0.6, 5.0, 200.0], "std": [0.1, 2.0, 50.0],
            "n_train": 8}
    records = {i: Record(i, f"v{i}", 1, "COMPLETE", v, None, i) for i, v in zip(batch, y)}
    plots, curve = _plots.parity(TARGETS["ec50"], [plan], records, tmp_path)
    ax = figs[0][0].axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert any(isinstance(c, ErrorbarContainer) for c in ax.containers)
    assert ax.get_xlabel() == "simulated ec50 (µM)"
    # the error of a log-scale target is in decades: log10 ratios 0.079, 0.204, 0.222
    expected = np.sqrt(np.mean(np.log10([0.6 / 0.5, 5.0 / 8.0, 200 / 120]) ** 2))
    assert curve[0][1] == pytest.approx(expected) and curve[0][2] == "decades"
    assert "3 of 3 within ± 2 std" in plots[0].caption
    gap = TARGETS["gap"]
    _plots.parity(gap, [plan], records, tmp_path)
    assert figs[1][0].axes[0].get_xscale() == "linear"


def test_time_split_has_integer_rounds_and_the_simulations(monkeypatch, tmp_path):
    figs = _capture(monkeypatch)
    plans = [{"round": r, "times": {"train": 1.0 * r, "select": 0.1}} for r in range(3)]
    plots = _plots.time_split(plans, [4.0, 5.0, 6.0], tmp_path)
    ax = figs[0][0].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["train", "select", "simulation"]
    ticks = [t for t in ax.get_xticks() if -0.5 <= t <= 2.5]
    assert all(float(t).is_integer() for t in ticks)
    assert "15 s in all" in plots[0].caption and "prescreen" not in plots[0].caption
