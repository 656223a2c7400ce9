"""The ledger: enqueue/pop/tell on SQLite and journal storages, stale trials, redaction."""

from __future__ import annotations

import math
import time

import pytest
from optuna.trial import TrialState

from active_learning._ledger._ledger import STALE_REASON, Ledger, make_storage, redact_url


@pytest.fixture(params=["sqlite", "journal"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return f"journal:///{tmp_path / 'ledger.log'}"


def test_enqueue_pop_tell_and_records(url):
    ledger = Ledger(make_storage(url, max_retries=1), "c", pool_size=10)
    for i in (3, 7):
        ledger.enqueue(i, f"id{i}", round_=0)
    a, b = ledger.pop(), ledger.pop()
    assert ledger.pop() is None  # never samples a trial that was not enqueued
    assert len(ledger.trials()) == 2
    assert {a.user_attrs["index"], b.user_attrs["index"]} == {3, 7}
    assert a.state == TrialState.RUNNING and a.params == {"index": a.user_attrs["index"]}
    ledger.complete(a, 1.5, {"y": 1.5, "forces": [[0.0, 1.0, 2.0]]}, seconds=0.25)
    ledger.fail(b, "SCF not converged", seconds=0.5)
    recs = ledger.records()
    ra, rb = recs[a.user_attrs["index"]], recs[b.user_attrs["index"]]
    assert (ra.state, ra.value, ra.values["forces"], ra.seconds) == \
        ("COMPLETE", 1.5, [[0.0, 1.0, 2.0]], 0.25)
    assert rb.state == "FAIL" and rb.error == "SCF not converged" and math.isnan(rb.value)
    assert ra.candidate_id == f"id{ra.index}" and ra.round == 0
    # the trial's parameter lives on an integer distribution over the whole pool
    t = ledger.study.trials[0]
    assert t.distributions["index"].low == 0 and t.distributions["index"].high == 9


def test_enqueue_rejects_index_outside_pool(url):
    ledger = Ledger(make_storage(url), "c", pool_size=5)
    with pytest.raises(ValueError, match=r"pool index 5 is outside 0\.\.4"):
        ledger.enqueue(5, "x", 0)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("journal", marks=pytest.mark.slow)])
def test_stale_trial_is_retried_then_failed_with_reason(kind, tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}" if kind == "sqlite" else f"journal:///{tmp_path / 'l.log'}"
    ledger = Ledger(make_storage(url, max_retries=1), "c", pool_size=4)
    ledger.set_heartbeat(1, 2)
    ledger.enqueue(2, "id2", 1)
    first = ledger.pop()  # a worker claims it and dies (no more heartbeats)
    assert first is not None
    time.sleep(3.2)
    assert ledger.reap_stale() == 1
    assert ledger.reap_stale() == 0  # idempotent
    retry = ledger.pop()
    assert retry is not None and retry.user_attrs == {"candidate_id": "id2", "round": 1,
                                                      "index": 2}
    assert retry.system_attrs["retry_history"] == [first.number]
    time.sleep(3.2)
    ledger.reap_stale()
    assert ledger.pop() is None  # max_retries = 1: no third attempt
    rec = ledger.records()[2]
    assert (rec.state, rec.error, rec.retries) == ("FAIL", STALE_REASON, 1)


def test_release_re_enqueues_once(url):
    ledger = Ledger(make_storage(url, max_retries=2), "c", pool_size=3)
    ledger.enqueue(0, "a", 0)
    t = ledger.pop()
    ledger.release(t, "SIGTERM")
    again = ledger.pop()
    assert again is not None and again.user_attrs["index"] == 0
    assert "error" not in again.user_attrs
    ledger.complete(again, 2.0, {"y": 2.0}, 0.1)
    rec = ledger.records()[0]
    assert (rec.state, rec.value, rec.retries) == ("COMPLETE", 2.0, 1)


def test_redact_url_hides_password():
    url = "postgresql://scout:s3cret@db.example.org:5432/campaigns"
    assert "s3cret" not in redact_url(url)
    assert redact_url(url).startswith("postgresql://scout:***@db.example.org")


def test_bad_storage_urls():
    with pytest.raises(ValueError, match="not a URL"):
        make_storage("campaign.db")
    with pytest.raises(ValueError, match="unsupported scheme 'redis'"):
        make_storage("redis://localhost")
