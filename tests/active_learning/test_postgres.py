"""PostgreSQL storage: four worker processes on one study, and credentials never printed.

Needs ``SCOUT_TEST_POSTGRES_URL`` (``.ci/run`` sources ``.ci/postgres.sh``, which starts a
throwaway server on 127.0.0.1 and exports it, or exports ``SCOUT_TEST_POSTGRES_SKIP`` with the
reason it could not). Locally: ``source .ci/postgres.sh``, run pytest in that shell, ``pg_stop``.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
from click.testing import CliRunner

from active_learning._campaign import Campaign
from active_learning._cli_campaign import status_command

from . import _sleep_sim

URL = os.environ.get("SCOUT_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason=os.environ.get("SCOUT_TEST_POSTGRES_SKIP",
                                   "SCOUT_TEST_POSTGRES_URL is not set (source .ci/postgres.sh)"))


def _with_password(url: str, password: str) -> str:
    """The server trusts loopback connections, so any password works: use a secret one."""
    scheme, rest = url.split("://", 1)
    creds, host = rest.split("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:{password}@{host}"


def test_four_workers_on_postgres_simulate_each_candidate_once(tmp_path):
    n, seconds = 16, 0.4
    # a fresh campaign name per run: the server's database outlives one test session
    folder = tmp_path / f"pg{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    out = _sleep_sim.run_workers(folder, URL, n_workers=4, n=n, seconds=seconds,
                                 name=folder.name)
    _sleep_sim.check_exactly_once(out, n)
    assert out["wall"] < 0.5 * n * seconds, f"{out['wall']:.2f} s for 4 workers"


def test_status_never_prints_the_storage_password(tmp_path, monkeypatch):
    secret = "s3cret-" + uuid.uuid4().hex[:6]
    name = f"pg{uuid.uuid4().hex[:8]}"
    cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.0, budget=4, batch_size=4,
                                  name=name)
    monkeypatch.setenv("SCOUT_STORAGE", _with_password(URL, secret))
    Campaign.from_toml(cfg, progress=False).run()
    runner = CliRunner()
    for args in ([str(cfg)], [str(cfg), "--json"]):
        res = runner.invoke(status_command, args)
        assert res.exit_code == 0, res.output
        assert secret not in res.output
    summary = json.loads(runner.invoke(status_command, [str(cfg), "--json"]).output)
    assert summary["evaluations"] == 4 and "***" in summary["storage"]
