"""Opening a campaign from its config: the storage, the ledger, the pool — one entry point.

The coordinator creates the study (``create=True``); workers, ``scout status`` and ``scout
report`` only join an existing one. The study's user attributes pin what must not change
under a running campaign: a hash of the config (:func:`config_hash`) and the config itself
(:func:`config_snapshot`, so a changed config names the keys that changed), the pool size, and
the heartbeat settings the workers and the reaper share. A study in which no simulation has
completed may be started afresh (``restart=True``, ``scout run --restart``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config._campaign import CampaignConfig
from ._cheap import SUFFIX as CHEAP_SUFFIX
from ._cheap import CheapLedger
from ._keys import CONFIG_KEY, HASH_KEY, HEARTBEAT_SETTINGS_KEY, POOL_SIZE_KEY
from ._ledger import Ledger
from ._storage import make_storage, retrying

__all__ = ["Session", "changed_keys", "completed_count", "config_changed_message", "config_hash",
           "config_snapshot", "file_identity", "load_config", "open_session", "study_exists"]

DEFAULT_HEARTBEAT = (10, 30)


def load_config(config: CampaignConfig | str | os.PathLike) -> CampaignConfig:
    """A config object as is, or read from a TOML path."""
    if isinstance(config, CampaignConfig):
        return config
    return CampaignConfig.from_toml(config)


#: settings that say how or where a campaign runs, not what it computes: a resume may change them
_OPERATIONAL = ("storage", "workers", "timeout")


def config_snapshot(cfg: CampaignConfig) -> dict[str, Any]:
    """What the campaign computes, as JSON-ready data (what :func:`config_hash` hashes).

    Left out: ``[executor]``, ``campaign.storage``, ``campaign.workers`` and
    ``campaign.timeout`` (a cluster may point ``SCOUT_STORAGE`` elsewhere, add workers or
    allow slower simulations). Every file path in the config enters as its path relative to
    the config's folder plus, for a file, its size and content hash (:func:`file_identity`),
    so moving or copying the campaign folder keeps its resume, while editing the pool file
    does not.
    """
    data = cfg.to_dict()
    data.pop("executor", None)
    for key in _OPERATIONAL:
        data["campaign"].pop(key, None)
    return json.loads(json.dumps(_paths_to_identities(data, cfg.base_dir), sort_keys=True,
                                 default=str))


def config_hash(cfg: CampaignConfig) -> str:
    """SHA-256 (16 hex digits) of :func:`config_snapshot`."""
    text = json.dumps(config_snapshot(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """``section.key (old → new)`` for every key whose value differs between two
    :func:`config_snapshot` dicts (a file's entry differs when its content changed)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                out.append(f"{name} (added: {_short(new[key])})")
            elif key not in new:
                out.append(f"{name} (removed: was {_short(old[key])})")
            else:
                out += changed_keys(old[key], new[key], name)
        return out
    if old == new:
        return []
    was, now = (_IDENTITY.fullmatch(v) if isinstance(v, str) else None for v in (old, new))
    if was and now and was.group(1) == now.group(1):
        return [f"{prefix} (the content of {was.group(1)!r} changed)"]
    return [f"{prefix} ({_short(old)} → {_short(new)})"]


#: a file's entry in a snapshot: ``relative/path:size:sha256-prefix`` (:func:`file_identity`)
_IDENTITY = re.compile(r"(.+):(\d+):([0-9a-f]{16})")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _paths_to_identities(value: Any, base: Path) -> Any:
    """Replace each absolute path string in config data by its :func:`file_identity`."""
    if isinstance(value, dict):
        return {k: _paths_to_identities(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_paths_to_identities(v, base) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        return file_identity(Path(value), base)
    return value


@functools.lru_cache(maxsize=64)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def file_identity(path: Path, base: Path) -> str:
    """``relative/path`` (a path inside ``base``; others stay absolute), plus
    ``:size:sha256`` for an existing file (hashed once per process and file version)."""
    rel = os.path.relpath(path, base) if path.is_relative_to(base) else str(path)
    if path.is_file():
        st = path.stat()
        return f"{rel}:{st.st_size}:{_digest(path, st.st_size, st.st_mtime_ns)}"
    return rel


@dataclass
class Session:
    """An open campaign: its config, its ledger, and (when loaded) its pool."""

    config: CampaignConfig
    ledger: Ledger
    pool: Any = None
    _cheap: CheapLedger | None = field(default=None, repr=False)

    @property
    def direction(self) -> str:
        """Optuna's direction of the study (a target window is stored as ``minimize``)."""
        return self.config.campaign.direction or "minimize"

    @property
    def cheap(self) -> CheapLedger:
        """The cheap judge's ledger (``[fidelity]`` campaigns), opened on first use."""
        if self._cheap is None:
            self._cheap = CheapLedger(self.ledger.storage, self.config.name,
                                      self.ledger.pool_size, legacy=self.ledger.attrs())
        return self._cheap


def study_exists(storage: Any, name: str) -> bool:
    """Whether the storage holds a study called ``name``."""
    try:
        retrying(storage.get_study_id_from_name, name)
    except KeyError:
        return False
    return True


def open_session(config: CampaignConfig | str | os.PathLike, *, create: bool = False,
                 load_pool: bool = True, heartbeat: tuple[int, int] | None = None,
                 restart: bool = False) -> Session:
    """Open the campaign's study (creating it when ``create``) and, optionally, its pool.

    Args:
        config: a :class:`CampaignConfig` or the path of its TOML file.
        create: create the study when absent (the coordinator); otherwise a missing study is
            a ``ValueError`` telling the user to start it with ``scout run``.
        load_pool: also build the :class:`Pool` (cached under the artifacts folder).
        heartbeat: ``(interval, grace)`` seconds for a new study; an existing study keeps
            the values it was created with.
        restart: (with ``create``) delete an existing study and start afresh; refused with a
            ``ValueError`` when any of its simulations completed.

    Raises:
        ValueError: no such study (without ``create``), a config that changed since the study
            started (naming the keys), a changed pool, a refused restart, or a storage that
            cannot be reached (one line; the password is never shown).
    """
    cfg = load_config(config)
    url = cfg.storage
    if url.startswith("sqlite:///") and not create:
        path = Path(url[len("sqlite:///"):])
        if not path.is_file():
            raise ValueError(f"campaign {cfg.name!r} has not started: no study file {str(path)!r}"
                             f"; start it with `scout run CONFIG`")
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    storage = make_storage(url, max_retries=cfg.campaign.max_retries)
    exists = study_exists(storage, cfg.name)
    if exists and restart and create:
        _delete_for_restart(storage, cfg)
        exists = False
    if not exists and not create:
        raise ValueError(f"campaign {cfg.name!r} not found in storage {cfg.redacted_storage}; "
                         f"start it with `scout run CONFIG`")
    pool = _load_pool(cfg) if (load_pool or not exists) else None
    direction = cfg.campaign.direction or "minimize"
    ledger = Ledger(storage, cfg.name, pool_size=0, direction=direction)
    attrs = ledger.attrs()
    digest = config_hash(cfg)
    if not exists or HASH_KEY not in attrs:
        if not create:  # a coordinator is creating it (or was killed doing so)
            raise ValueError(f"campaign {cfg.name!r} has not started: its study is not set up "
                             f"yet; start it with `scout run CONFIG`")
        if pool is None:
            pool = _load_pool(cfg)
        hb = heartbeat or DEFAULT_HEARTBEAT
        # the hash goes last: it marks a study set up completely, so a coordinator killed
        # between these writes sets it up again instead of finding half of it
        ledger.set_attr(POOL_SIZE_KEY, len(pool))
        ledger.set_attr(HEARTBEAT_SETTINGS_KEY, [int(hb[0]), int(hb[1])])
        ledger.set_attr(CONFIG_KEY, config_snapshot(cfg))
        ledger.set_attr(HASH_KEY, digest)
        ledger.name_objective(cfg.campaign.objective)
        attrs = ledger.attrs()
    elif attrs[HASH_KEY] != digest:
        raise ValueError(config_changed_message(cfg, ledger, attrs))
    elif create and ledger.study.metric_names is None:  # a study from before metric names
        ledger.name_objective(cfg.campaign.objective)
    size = int(attrs[POOL_SIZE_KEY])
    if pool is not None and len(pool) != size:
        raise ValueError(f"the pool of campaign {cfg.name!r} has {len(pool)} candidates but the "
                         f"study was started with {size}; the pool file changed")
    ledger.pool_size = size
    ledger.set_heartbeat(*attrs.get(HEARTBEAT_SETTINGS_KEY, DEFAULT_HEARTBEAT))
    return Session(cfg, ledger, pool)


def completed_count(storage: Any, name: str) -> int:
    """How many trials of study ``name`` completed."""
    from optuna.trial import TrialState

    study_id = retrying(storage.get_study_id_from_name, name)
    return len(retrying(storage.get_all_trials, study_id, deepcopy=False,
                        states=(TrialState.COMPLETE,)))


def config_changed_message(cfg: CampaignConfig, ledger: Ledger, attrs: dict[str, Any]) -> str:
    """One line: which keys changed since the study started, and what the user may do."""
    old = attrs.get(CONFIG_KEY)
    keys = changed_keys(old, config_snapshot(cfg)) if old is not None else []
    what = ", ".join(keys) if keys else \
        f"hash {config_hash(cfg)} != {attrs.get(HASH_KEY)}; the study predates key tracking"
    done = completed_count(ledger.storage, cfg.name)
    if done == 0:
        todo = ("no simulation has completed yet, so `scout run CONFIG --restart` starts it "
                "afresh with the new config")
    else:
        todo = (f"{done} simulations have completed: restore the old settings to resume, or "
                f"give the new config its own campaign.name")
    return f"the config of campaign {cfg.name!r} changed since it started: {what}; {todo}"


def _delete_for_restart(storage: Any, cfg: CampaignConfig) -> None:
    """Delete the study of ``cfg`` for a restart, unless a simulation in it completed."""
    done = completed_count(storage, cfg.name)
    if done:
        raise ValueError(f"campaign {cfg.name!r} has {done} completed simulations; --restart "
                         f"would discard them: resume it with its old config, or give the new "
                         f"config its own campaign.name")
    retrying(storage.delete_study, retrying(storage.get_study_id_from_name, cfg.name))
    try:  # the cheap judge's results belonged to the old config too
        retrying(storage.delete_study, retrying(storage.get_study_id_from_name,
                                                cfg.name + CHEAP_SUFFIX))
    except KeyError:
        pass


def _load_pool(cfg: CampaignConfig) -> Any:
    from .._pool._base import Pool

    pool = Pool.from_config(cfg.pool, cfg.artifacts_dir / "pool_cache")
    if len(pool) == 0:
        raise ValueError(f"the pool of campaign {cfg.name!r} is empty")
    return pool
