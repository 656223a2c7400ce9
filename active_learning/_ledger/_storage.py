"""Storages of the ledger: building them from a URL, retrying through outages, redaction.

:func:`make_storage`: ``sqlite:///…`` and ``postgresql://…`` become an ``RDBStorage`` with
Optuna's heartbeat and a bounded retry of stale trials (:class:`_RetryStale`); ``journal:///path``
becomes a ``JournalStorage`` on a ``JournalFileBackend`` (for shared file systems: never SQLite
on NFS; paths follow SQLite's slash rule, see :func:`journal_path`). Optuna's journal storage
has no heartbeat, so the ledger keeps one itself there, as a trial system attribute holding
wall-clock seconds.

PostgreSQL: the standard ``postgresql://user:pw@host/db`` is what SQLAlchemy 2.1 maps to
psycopg 3, which the ``hpc`` extra installs (``postgresql+psycopg2://`` works too, with
psycopg2). MySQL is refused: the ledger's atomic pop is tested on SQLite, PostgreSQL and
journal files only. A storage that cannot be reached, or whose driver is missing, is a
``ValueError`` of one line naming the redacted URL and the reason.

Every storage call goes through :func:`retrying` (exponential back-off while a SQLite file is
locked or a PostgreSQL server is away); calls that only read go through :func:`reading`, which
on SQLite opens a plain ``BEGIN`` instead of ``BEGIN IMMEDIATE``. :func:`redact_url` is the one
function that makes a storage URL safe to print.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import optuna
from optuna.exceptions import StorageInternalError
from optuna.storages import (
    BaseStorage,
    JournalStorage,
)
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.trial import FrozenTrial, TrialState

from .._config._storage_url import SCHEMES, check_scheme, redact_url
from ._keys import BEAT_TIME_KEY
from ._optuna import rdb_storage

__all__ = ["SCHEMES", "check_scheme", "journal_path", "make_storage", "reading", "redact_url",
           "retrying"]

ID_ATTRS = ("candidate_id", "round", "index")
_T = TypeVar("_T")


def retrying(fn: Callable[..., _T], *args: Any, attempts: int = 8, **kwargs: Any) -> _T:
    """Call ``fn`` and retry with exponential back-off while the storage is unavailable.

    A locked SQLite file or a dropped PostgreSQL connection raises ``StorageInternalError`` or
    SQLAlchemy's ``OperationalError``; after ``attempts`` tries (≈ 25 s in all) it re-raises.
    """
    from sqlalchemy.exc import OperationalError

    delay = 0.1
    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except (StorageInternalError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


class _RetryStale:
    """The stale-trial callback a storage calls (Optuna's ``(study, trial) -> None``): a
    bounded retry, idempotent and with a clean copy.

    Like Optuna's ``RetryHeartbeatStaleTrialCallback`` it re-enqueues the trial (same params,
    ``failed_trial`` and ``retry_history`` in system attributes) at most ``max_retry`` times;
    unlike it, it refuses a second retry of the same trial (two processes reaping at once) and
    copies only the identifying user attributes, so the retry never inherits an old error,
    value or heartbeat. It is our own class, not a subclass, so it needs none of Optuna's
    private state (and works across Optuna's renaming of that callback in 4.9).
    """

    def __init__(self, max_retry: int | None = None) -> None:
        self.max_retry = max_retry

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        for t in study.get_trials(deepcopy=False):
            hist = t.system_attrs.get("retry_history", [])
            if hist and hist[-1] == trial.number:
                return  # another process already re-enqueued this one
        history = [*trial.system_attrs.get("retry_history", []), trial.number]
        if self.max_retry is not None and len(history) > self.max_retry:
            return
        system_attrs = {k: v for k, v in trial.system_attrs.items() if k != BEAT_TIME_KEY}
        system_attrs["failed_trial"] = trial.system_attrs.get("failed_trial", trial.number)
        system_attrs["retry_history"] = history
        keep = {k: trial.user_attrs[k] for k in ID_ATTRS if k in trial.user_attrs}
        study.add_trial(optuna.create_trial(
            state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
            user_attrs=keep, system_attrs=system_attrs))


class _HeartbeatJournal(JournalStorage):
    """A journal storage plus the heartbeat settings the ledger applies itself."""

    def __init__(self, path: str, heartbeat_interval: int, grace_period: int,
                 callback: _RetryStale) -> None:
        super().__init__(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
        self.scout_heartbeat_interval = heartbeat_interval
        self.scout_grace_period = grace_period
        self.scout_callback = callback


def make_storage(url: str, *, heartbeat_interval: int = 10, grace_period: int | None = None,
                 max_retries: int = 2, connect_attempts: int = 8) -> BaseStorage:
    """Build the Optuna storage for ``url`` (see the module docstring for the kinds).

    Args:
        url: ``sqlite:///path.db``, ``postgresql://user:pw@host/db`` or ``journal:///path.log``.
        heartbeat_interval: seconds between a worker's heartbeats.
        grace_period: seconds without a heartbeat before a running trial is stale
            (default ``2 * heartbeat_interval``).
        max_retries: how many times a stale trial is re-enqueued before it stays failed.
        connect_attempts: tries of the first connection (8: ≈ 25 s of back-off, as later calls).

    Raises:
        ValueError: an unsupported URL, a missing database driver, or a storage that cannot
            be reached (one line; the password is never shown).
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"storage URL {url!r} is not a URL (sqlite:///…, postgresql://…, journal:///…)")
    if int(heartbeat_interval) < 1:
        raise ValueError(f"heartbeat_interval must be >= 1 s, got {heartbeat_interval}")
    grace = int(grace_period) if grace_period is not None else 2 * int(heartbeat_interval)
    with warnings.catch_warnings():  # Optuna marks the heartbeat API experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        callback = _RetryStale(max_retry=int(max_retries))
    if url.startswith("journal:"):
        path = journal_path(url)
        return _HeartbeatJournal(path, int(heartbeat_interval), grace, callback)
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    check_scheme(url)
    engine_kwargs: dict[str, Any] = {}
    if scheme == "sqlite":
        engine_kwargs = {"connect_args": {"timeout": 60}}
        _sqlite_wal(url)
    else:
        engine_kwargs = {"pool_pre_ping": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = _connect(url, engine_kwargs, int(heartbeat_interval), grace, callback,
                           connect_attempts)
    if scheme == "sqlite":
        from sqlalchemy import event

        event.listen(storage.engine, "connect", _sqlite_pragmas)
        event.listen(storage.engine, "begin", _sqlite_begin)
        storage.engine.dispose()  # later connections get the pragmas
    return storage


def _connect(url: str, engine_kwargs: dict[str, Any], interval: int, grace: int,
             callback: _RetryStale, attempts: int) -> BaseStorage:
    """``rdb_storage`` with a few quick tries; failures become one-line ``ValueError``s.

    Two processes opening a new SQLite or PostgreSQL file at once (a coordinator and its first
    worker) race to create Optuna's tables: the loser's schema insert fails on a unique key
    while the winner's stands, so that ``IntegrityError`` is retried once the winner is done."""
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    shown = redact_url(url)
    try:
        for race in range(3):
            try:
                return retrying(rdb_storage, url, engine_kwargs, interval, grace, callback,
                                attempts=max(1, int(attempts)))
            except IntegrityError:
                if race == 2:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")
    except ImportError as exc:
        raise ValueError(f"storage {shown}: the database driver is not installed ("
                         f"{_scrub(exc, url)}); pip install 'scoutlab[hpc]' installs psycopg 3 "
                         f"for postgresql:// URLs") from None
    except (StorageInternalError, SQLAlchemyError) as exc:
        raise ValueError(f"storage {shown} cannot be reached: {_scrub(exc, url)}") from None


def _scrub(exc: BaseException, url: str) -> str:
    """The first line of a driver's error, any password of ``url`` replaced by ``***``."""
    from sqlalchemy.engine import make_url

    cause = getattr(exc, "orig", None) or exc.__cause__ or exc
    lines = [ln.strip() for ln in str(cause).strip().splitlines() if ln.strip()]
    text = lines[0] if lines else type(cause).__name__
    try:
        password = make_url(url).password
    except Exception:  # an unparsable URL: nothing to hide beyond what redact_url hides
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text


def journal_path(url: str) -> str:
    """The file of a ``journal:`` URL, by SQLAlchemy's SQLite rule: ``journal:///run.log`` is
    relative (a config resolves it against its folder first), ``journal:////abs/run.log``
    is absolute."""
    if not url.startswith("journal:///") or not url[len("journal:///"):]:
        raise ValueError(f"journal storage URL {url!r} is not journal:///relative/path.log "
                         f"or journal:////absolute/path.log")
    return url[len("journal:///"):]


def _sqlite_wal(url: str) -> None:
    """Put a (local) SQLite file in write-ahead-log mode: readers never block the writer."""
    import sqlite3

    path = url.split(":///", 1)[1].split("?", 1)[0]
    if not path or path == ":memory:":
        return
    con = sqlite3.connect(path, timeout=60)
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Per connection: in WAL mode ``synchronous=NORMAL`` survives a killed process (it only
    risks the last commits on power loss) and saves an fsync per commit."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    # Python's sqlite3 opens a transaction only before a write, so a SELECT … FOR UPDATE
    # followed by an UPDATE is *not* atomic: two workers could both see a trial WAITING and
    # both claim it. Take the transactions over (below) so each one is one atomic unit.
    dbapi_connection.isolation_level = None


#: per thread: the ledger is inside a read-only storage call (see :func:`_sqlite_begin`)
_READING = threading.local()


def _sqlite_begin(conn: Any) -> None:
    """Every writing transaction starts with ``BEGIN IMMEDIATE`` (the write lock, waiting up
    to the busy timeout): the read-check-write of :meth:`Ledger.pop` is serialised across
    processes. Reads the ledger marks read-only (:func:`reading`) take a plain ``BEGIN``: in
    WAL mode they see a consistent snapshot without the write lock, so eight workers' queue
    looks and trial reads no longer queue up behind one another's writes."""
    conn.exec_driver_sql("BEGIN" if getattr(_READING, "on", False) else "BEGIN IMMEDIATE")


def reading(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``retrying(fn, ...)`` for a storage call that only reads (no write lock on SQLite)."""
    _READING.on = True
    try:
        return retrying(fn, *args, **kwargs)
    finally:
        _READING.on = False
