"""A seed gives the same campaign whatever the machine's load: training budgets are epochs;
``max_time`` is only a safety cap, and when it binds the round says so."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from active_learning._coordinator._campaign import Campaign
from active_learning._ledger._keys import round_key
from active_learning._ledger._session import open_session
from active_learning.cli import main
from tests.active_learning.coordinator.test_real_pools import _write_campaign


def _batches(cfg) -> list[list[int]]:
    attrs = open_session(cfg, load_pool=False).ledger.attrs()
    return [attrs[round_key(r)]["batch"] for r in range(3)]


def _campaign(folder, max_time: float):
    folder.mkdir()
    cfg, _ = _write_campaign(folder)
    cfg.write_text(cfg.read_text().replace("epochs = 6\n", f"epochs = 6\nmax_time = {max_time}\n"))
    return cfg


def test_same_seed_same_batches_beside_a_busy_loop(tmp_path):
    quiet = _campaign(tmp_path / "quiet", max_time=600.0)
    Campaign.from_toml(quiet, progress=False).run()
    loaded = _campaign(tmp_path / "loaded", max_time=600.0)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        Campaign.from_toml(loaded, progress=False).run()
    finally:
        busy.kill()
        busy.wait()
    assert _batches(quiet) == _batches(loaded)
    attrs = open_session(loaded, load_pool=False).ledger.attrs()
    assert all(not attrs[round_key(r)].get("notes") for r in (1, 2))  # no cap bound


def test_a_binding_time_cap_is_logged_and_shown_by_status(tmp_path):
    cfg = _campaign(tmp_path / "capped", max_time=1e-6)
    Campaign.from_toml(cfg, progress=False).run()
    attrs = open_session(cfg, load_pool=False).ledger.attrs()
    assert "max_time safety cap" in attrs[round_key(1)]["notes"][0]
    out = CliRunner().invoke(main, ["status", str(cfg)])
    assert out.exit_code == 0 and "round 1" in out.output and "max_time" in out.output
