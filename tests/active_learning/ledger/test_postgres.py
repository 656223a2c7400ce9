"""PostgreSQL storage: four worker processes on one study, and credentials never printed.

Needs ``SCOUT_TEST_POSTGRES_URL`` (``.ci/run`` sources ``.ci/postgres.sh``, which starts a
throwaway server on 127.0.0.1 and exports it, or exports ``SCOUT_TEST_POSTGRES_SKIP`` with the
reason it could not). Locally: ``source .ci/postgres.sh``, run pytest in that shell, ``pg_stop``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import time
import uuid

import pytest
from click.testing import CliRunner

from active_learning._cli._campaign import status_command
from active_learning._coordinator._campaign import Campaign
from active_learning._execution._executors import PRELOAD
from active_learning._ledger._session import open_session
from tests.active_learning import _sleep_sim

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
    assert _sleep_sim.max_concurrency(out["trials"]) >= 2  # the workers ran side by side


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


def _pg_ctl(*args: str) -> None:
    """Run ``pg_ctl`` on the CI server (as its owner when we are root); argv only, no shell."""
    exe = os.path.join(os.environ["SCOUT_TEST_POSTGRES_BIN"], "pg_ctl")
    cmd = [exe, "-D", os.environ["SCOUT_TEST_POSTGRES_DATA"], *args]
    user = os.environ.get("SCOUT_TEST_POSTGRES_USER")
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)


@pytest.mark.skipif(not all(os.environ.get(f"SCOUT_TEST_POSTGRES_{k}")
                            for k in ("BIN", "DATA", "OPTS", "LOG")),
                    reason="the outage test needs .ci/postgres.sh's server (SCOUT_TEST_POSTGRES_"
                           "BIN/DATA/OPTS) to stop and restart it")
def test_a_postgres_outage_mid_campaign_is_waited_out(tmp_path):
    """Stop the server for ~4 s while a coordinator and a worker are mid-round: every storage
    call retries with back-off, the campaign completes, each candidate is told once."""
    name = f"pg{uuid.uuid4().hex[:8]}"
    cfg = _sleep_sim.write_config(tmp_path, n=30, seconds=0.3, budget=12, batch_size=6,
                                  name=name, storage=URL, max_retries=5)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([*PRELOAD, _sleep_sim.MODULE])
    procs = [ctx.Process(target=_sleep_sim.coordinator_main, args=(str(cfg),)),
             ctx.Process(target=_sleep_sim.worker_main, args=(str(cfg),))]
    for p in procs:
        p.start()
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until the first results are in: the outage hits a running round
            try:
                done = _sleep_sim.ledger_view(cfg)
            except ValueError:  # the study does not exist yet
                done = []
            if sum(s == "COMPLETE" for _, _, s, _ in done) >= 3:
                break
            assert time.monotonic() < deadline, "the campaign did not start"
            time.sleep(0.2)
        start = ("start", "-w", "-l", os.environ["SCOUT_TEST_POSTGRES_LOG"],
                 "-o", os.environ["SCOUT_TEST_POSTGRES_OPTS"])
        _pg_ctl("stop", "-m", "fast", "-w")
        try:
            time.sleep(4.0)
        finally:
            _pg_ctl(*start)  # the server must come back whatever happens
        for p in procs:
            p.join(timeout=240)
            assert p.exitcode == 0, f"{p.name} exit code {p.exitcode} after the outage"
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    view = _sleep_sim.ledger_view(cfg)
    assert len(view) == 12 and all(state == "COMPLETE" for _, _, state, _ in view)
    trials = open_session(cfg, load_pool=False).ledger.trials()
    told = [t.user_attrs["candidate_id"] for t in trials if t.state.name == "COMPLETE"]
    assert sorted(told) == sorted(set(told)) and len(told) == 12  # exactly once each


def test_the_standard_postgresql_url_works_with_the_hpc_extra():
    """CI gives the form of Optuna's docs, ``postgresql://user@host/db``: SQLAlchemy 2.1 maps
    it to psycopg 3, which the ``hpc`` extra installs (before: 'Failed to import DB access
    module', the extra had only psycopg2)."""
    from active_learning._ledger._storage import make_storage

    assert URL.startswith("postgresql://"), f"CI must test the standard form, got {URL[:20]}"
    storage = make_storage(URL)
    assert storage.engine.dialect.driver == "psycopg"
    assert storage.get_all_studies() is not None
