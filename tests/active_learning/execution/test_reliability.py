"""Reliability: per-candidate time-outs, resuming a moved campaign, storage URL rules and
redaction, the ``[executor]`` section, and plug-in simulators through entry points."""

from __future__ import annotations

import importlib.metadata
import shutil
import time
import warnings

import numpy as np
import pytest

from active_learning._config._campaign import CampaignConfig
from active_learning._coordinator._campaign import Campaign
from active_learning._execution._worker import run_worker
from active_learning._ledger._ledger import journal_path, make_storage, redact_url
from active_learning._ledger._session import config_hash, open_session
from physics import SIMULATORS, make_simulator
from tests.active_learning import _sleep_sim


# --- per-candidate time-out ------------------------------------------------------------------
def _timeout_config(folder, n: int):
    """Rows 1 and 3 hang for 60 s; the config allows 1.5 s per candidate."""
    folder.mkdir()
    cfg = _sleep_sim.write_config(folder, n=n, seconds=0.01, budget=n, batch_size=n,
                                  faults={1: 4, 3: 4}, hang=60.0)
    cfg.write_text(cfg.read_text().replace("max_retries = 2", "max_retries = 2\ntimeout = 1.5"))
    config = CampaignConfig.from_toml(cfg)
    assert config.campaign.timeout == 1.5
    return config


def _check_timed_out(session, failed, completed) -> None:
    recs = session.ledger.records()
    X = session.pool.get(np.arange(len(session.pool)), "vector")
    for i in failed:
        assert recs[i].state == "FAIL" and recs[i].error == "timed out after 1.5 s"
        assert 1.5 <= recs[i].seconds < 15 and recs[i].retries == 0  # final, like a crash
    for i in completed:
        assert recs[i].state == "COMPLETE" and recs[i].value == _sleep_sim.truth(*X[i, :2])


def test_campaign_timeout_fails_a_hung_candidate_in_a_worker(tmp_path):
    config = _timeout_config(tmp_path / "w", n=2)
    session = open_session(config, create=True)
    for i in (0, 1):  # `scout worker`'s code path (run_worker) simulates these
        session.ledger.enqueue(i, session.pool.ids[i], 0)
    t0 = time.monotonic()
    stats = run_worker(config, idle_timeout=0.0)
    assert time.monotonic() - t0 < 45  # the hang was cut off, not waited for
    assert (stats.completed, stats.failed) == (1, 1)
    _check_timed_out(session, failed=[1], completed=[0])


def test_campaign_timeout_fails_a_hung_candidate_in_process(tmp_path):
    config = _timeout_config(tmp_path / "c", n=4)
    t0 = time.monotonic()
    summary = Campaign(config, progress=False).run()  # the coordinator's in-process worker
    assert time.monotonic() - t0 < 60
    assert summary["evaluations"] == 2 and summary["failed"] == 2
    _check_timed_out(open_session(config), failed=[1, 3], completed=[0, 2])


@pytest.mark.parametrize("value", [0, -1, "10", True])
def test_campaign_timeout_must_be_positive_seconds(tmp_path, value):
    cfg = _sleep_sim.write_config(tmp_path, n=4, seconds=0.0)
    data = CampaignConfig.from_toml(cfg).to_dict()
    data["campaign"]["timeout"] = value
    with pytest.raises(ValueError, match=r"campaign\.timeout"):
        CampaignConfig.from_dict(data, tmp_path)


# --- resume robustness -----------------------------------------------------------------------
def test_a_moved_campaign_folder_resumes_and_an_edited_pool_does_not(tmp_path):
    old, new = tmp_path / "old", tmp_path / "moved"
    old.mkdir()
    cfg = _sleep_sim.write_config(old, n=12, seconds=0.0, budget=4, batch_size=4)
    first = Campaign.from_toml(cfg, progress=False).run()
    assert first["finished"] and first["evaluations"] == 4
    shutil.move(old, new)  # the study file (sqlite:///<config dir>/scaleout.db) moves along
    moved = CampaignConfig.from_toml(new / "campaign.toml")
    assert moved.pool.path == new / "pool.csv" and moved.storage.endswith("moved/scaleout.db")
    session = open_session(moved)  # the hash still matches
    assert len(session.ledger.records()) == 4
    again = Campaign(moved, progress=False).run()
    assert again["evaluations"] == 4 and again["trials"] == first["trials"]
    # the hash is what the campaign computes: same content = same hash, edited pool = new one
    pool = new / "pool.csv"
    lines = pool.read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[1], "0.123456789")
    pool.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="config of campaign 'scaleout' changed"):
        open_session(new / "campaign.toml")


def test_a_study_whose_set_up_was_cut_short_is_set_up_again(tmp_path):
    """A coordinator SIGKILLed between creating the study and writing its hash (found by the
    20-kill fault run): workers wait, the next coordinator finishes the set-up."""
    from active_learning._ledger._keys import POOL_SIZE_KEY
    from active_learning._ledger._ledger import Ledger

    cfg = CampaignConfig.from_toml(_sleep_sim.write_config(tmp_path, n=8, seconds=0.0,
                                                           budget=4, batch_size=4))
    ledger = Ledger(make_storage(cfg.storage), cfg.name, pool_size=0, direction="maximize")
    ledger.set_attr(POOL_SIZE_KEY, 8)  # ... killed here, before the hash
    with pytest.raises(ValueError, match=r"has not started.*start it with"):
        open_session(cfg)  # what a worker (or `scout status`) sees meanwhile
    summary = Campaign(cfg, progress=False).run()
    assert summary["finished"] and summary["evaluations"] == 4


def test_operational_settings_do_not_change_the_config_hash(tmp_path):
    cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.0)
    base = CampaignConfig.from_toml(cfg)
    text = cfg.read_text()
    variants = {
        "executor": text + '\n[executor]\nkind = "dask"\nn_workers = 4\n',
        "timeout": text.replace("max_retries = 2", "max_retries = 2\ntimeout = 30"),
        "workers": text.replace("max_retries = 2", "max_retries = 2\nworkers = 3"),
        "storage": text.replace("max_retries = 2", 'max_retries = 2\nstorage = "sqlite:///x.db"'),
    }
    for what, body in variants.items():
        cfg.write_text(body)
        assert config_hash(CampaignConfig.from_toml(cfg)) == config_hash(base), what
    cfg.write_text(text.replace("seed = 7", "seed = 8"))  # what the campaign computes
    assert config_hash(CampaignConfig.from_toml(cfg)) != config_hash(base)


# --- the [executor] section -----------------------------------------------------------------
def test_executor_section_is_part_of_the_config(tmp_path):
    cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.0,
                                  more={"executor": {"kind": "local", "n_workers": 3,
                                                     "gpus": [0, "1"], "idle_timeout": 20}})
    c = CampaignConfig.from_toml(cfg)
    assert (c.executor.kind, c.executor.n_workers, c.executor.gpus) == ("local", 3, ("0", "1"))
    assert c.executor.idle_timeout == 20.0
    assert CampaignConfig.from_dict(c.to_dict(), c.base_dir) == c
    (tmp_path / "x").mkdir()
    plain = CampaignConfig.from_toml(_sleep_sim.write_config(tmp_path / "x", n=8, seconds=0))
    assert plain.executor.kind == "local" and plain.executor.n_workers == 1
    data = c.to_dict()
    data["campaign"]["workers"] = 2  # disagrees with executor.n_workers = 3
    with pytest.raises(ValueError, match=r"executor\.n_workers = 3 disagrees with campaign"):
        CampaignConfig.from_dict(data, tmp_path)
    data["campaign"]["workers"] = 3
    assert CampaignConfig.from_dict(data, tmp_path).executor.n_workers == 3
    del data["executor"]["n_workers"]  # [campaign] workers alone sets it
    assert CampaignConfig.from_dict(data, tmp_path).executor.n_workers == 3
    data["executor"]["walltime"] = "soon"
    with pytest.raises(ValueError, match=r"executor.walltime = 'soon' is not \[D-\]HH:MM"):
        CampaignConfig.from_dict(data, tmp_path)


# --- storage URLs ---------------------------------------------------------------------------
def test_journal_urls_follow_sqlites_slash_rule(tmp_path, monkeypatch):
    cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.0)
    rel = "journal:///runs/ledger.log"  # three slashes: relative to the config's folder
    monkeypatch.setenv("SCOUT_STORAGE", rel)
    c = CampaignConfig.from_toml(cfg)
    assert c.storage == f"journal:///{tmp_path / 'runs' / 'ledger.log'}"
    absolute = tmp_path / "abs" / "j.log"  # four slashes: an absolute path, kept as it is
    monkeypatch.setenv("SCOUT_STORAGE", f"journal:///{absolute}")
    assert CampaignConfig.from_toml(cfg).storage == f"journal:///{absolute}"
    assert journal_path(f"journal:///{absolute}") == str(absolute)
    assert journal_path("journal:///rel/x.log") == "rel/x.log"
    absolute.parent.mkdir()
    make_storage(f"journal:///{absolute}")
    assert absolute.is_file()
    monkeypatch.chdir(tmp_path)  # outside a config a relative journal path is from the cwd
    (tmp_path / "cwd").mkdir()
    make_storage("journal:///cwd/k.log")
    assert (tmp_path / "cwd" / "k.log").is_file()
    monkeypatch.setenv("SCOUT_STORAGE", "journal://host/x.log")
    with pytest.raises(ValueError, match=r"campaign\.storage = 'journal://host/x\.log'"):
        CampaignConfig.from_toml(cfg)
    with pytest.raises(ValueError, match="is not journal:///relative"):
        make_storage("journal://x.log")


@pytest.mark.parametrize("url, shown", [
    ("postgresql://scout:s3cret@db.example/scout",
     "postgresql://scout:***@db.example/scout"),
    ("postgresql+psycopg2://db.example/scout?user=scout&password=s3cret&sslmode=require",
     "postgresql+psycopg2://db.example/scout?password=***&sslmode=require&user=scout"),
    ("postgresql://db.example/scout?PWD=s3cret", "postgresql://db.example/scout?PWD=***"),
    ("mysql://u:s3cret@h/db?token=s3cret", "mysql://u:***@h/db?token=***"),
    ("garbage s3cret", "***"),
    ("postgresql://u:s3cret@h:notaport/db", "postgresql://***"),
])
def test_redact_url_hides_passwords_in_user_info_and_query(url, shown):
    assert redact_url(url) == shown and "s3cret" not in redact_url(url)


def test_config_shows_a_query_string_password_redacted(tmp_path, monkeypatch):
    cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.0)
    monkeypatch.setenv("SCOUT_STORAGE", "postgresql://db.example/scout?password=hunter2")
    c = CampaignConfig.from_toml(cfg)
    assert c.storage.endswith("hunter2") and "hunter2" not in c.redacted_storage


# --- plug-in simulators ---------------------------------------------------------------------
def _fake_entry_points(monkeypatch, registry, eps):
    """Make ``importlib.metadata.entry_points`` list ``eps`` for ``registry``'s group, and
    give the registry a fresh look at them (restored, plug-ins removed, after the test)."""
    real = importlib.metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == registry.group:
            return importlib.metadata.EntryPoints(eps)
        return real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    for attr, value in (("_eps", None), ("_tried", set()), ("_all_loaded", False)):
        monkeypatch.setattr(registry, attr, value)
    before = set(dict.keys(registry))
    yield
    for kind in set(dict.keys(registry)) - before:
        dict.pop(registry, kind)


def _ep(name: str, value: str, group: str = "scoutlab.simulators"
        ) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=group)


@pytest.fixture
def plugins(monkeypatch):
    eps = [_ep("plug-sleep", f"{_sleep_sim.MODULE}:SleepSimulator"),
           _ep("plug-broken", "no_such_package_xyz.sim:Sim"),
           _ep("plug-notasim", "math:sqrt"),
           _ep("xtb", f"{_sleep_sim.MODULE}:SleepSimulator")]  # a built-in's name
    yield from _fake_entry_points(monkeypatch, SIMULATORS, eps)


def test_entry_point_simulators_load_lazily_and_work_in_a_campaign(plugins, tmp_path):
    assert not dict.__contains__(SIMULATORS, "plug-sleep")  # nothing loaded at import
    sim = make_simulator("plug-sleep", seconds=0.0)  # a lookup loads that one entry point
    assert dict.__contains__(SIMULATORS, "plug-sleep")
    assert not dict.__contains__(SIMULATORS, "plug-broken")  # the others are still unread
    [res] = sim.evaluate([[0.2, 0.5]])
    assert res.ok and res.values["y"] == _sleep_sim.truth(0.2, 0.5)
    cfg = _sleep_sim.write_config(tmp_path, n=6, seconds=0.0, budget=3, batch_size=3)
    cfg.write_text(cfg.read_text().replace('kind = "scout-test-sleep"', 'kind = "plug-sleep"'))
    summary = Campaign.from_toml(cfg, progress=False).run()
    assert summary["finished"] and summary["evaluations"] == 3


def test_broken_plugins_warn_and_built_ins_win(plugins):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kinds = sorted(SIMULATORS)  # listing loads every entry point
    assert {"plug-sleep", "xtb", "dft"} <= set(kinds)
    assert "plug-broken" not in kinds and "plug-notasim" not in kinds
    text = " | ".join(str(w.message) for w in caught)
    assert "'plug-broken'" in text and "ModuleNotFoundError" in text
    assert "'plug-notasim'" in text and "not a Simulator subclass" in text
    assert SIMULATORS["xtb"].__module__.startswith("physics")  # not replaced by the plug-in
    with pytest.raises(ValueError, match="unknown simulator kind 'plug-missing'"):
        make_simulator("plug-missing")


def test_entry_point_surrogates_join_the_registry_and_the_model_files(monkeypatch, tmp_path):
    from surrogates import SURROGATES, Surrogate
    from tests.active_learning._fakes import RFFRidge

    eps = [_ep("plug-rff", "tests.active_learning._fakes:RFFRidge", "scoutlab.surrogates")]
    gen = _fake_entry_points(monkeypatch, SURROGATES, eps)
    next(gen)
    try:
        assert not dict.__contains__(SURROGATES, "plug-rff")
        assert SURROGATES["plug-rff"] is RFFRidge and "plug-rff" in sorted(SURROGATES)
        cfg = _sleep_sim.write_config(tmp_path, n=8, seconds=0.0)
        cfg.write_text(cfg.read_text().replace('kind = "scout-test-rff"', 'kind = "plug-rff"'))
        assert CampaignConfig.from_toml(cfg).surrogate.kind == "plug-rff"
        model = RFFRidge().fit(np.random.default_rng(0).uniform(size=(10, 2)), np.arange(10.0))
        path = model.save(tmp_path / "m.safetensors")  # a plug-in model file loads back
        assert isinstance(Surrogate.load(path), RFFRidge)
    finally:
        next(gen, None)
