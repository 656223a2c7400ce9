"""Opening a campaign from its config: the storage, the ledger, the pool — one entry point.

The coordinator creates the study (``create=True``); workers, ``scout status`` and ``scout
report`` only join an existing one. The study's user attributes pin what must not change
under a running campaign: a hash of the config (:func:`config_hash`), the pool size, and the
heartbeat settings the workers and the reaper share.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config._campaign import CampaignConfig
from ._cheap import CheapLedger
from ._keys import HASH_KEY, HEARTBEAT_SETTINGS_KEY, POOL_SIZE_KEY
from ._ledger import Ledger
from ._storage import make_storage, retrying

__all__ = ["Session", "config_hash", "file_identity", "load_config", "open_session"]

DEFAULT_HEARTBEAT = (10, 30)


def load_config(config: CampaignConfig | str | os.PathLike) -> CampaignConfig:
    """A config object as is, or read from a TOML path."""
    if isinstance(config, CampaignConfig):
        return config
    return CampaignConfig.from_toml(config)


#: settings that say how or where a campaign runs, not what it computes: a resume may change them
_OPERATIONAL = ("storage", "workers", "timeout")


def config_hash(cfg: CampaignConfig) -> str:
    """SHA-256 (16 hex digits) of what the campaign computes.

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
    data = _paths_to_identities(data, cfg.base_dir)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


def _study_exists(storage: Any, name: str) -> bool:
    try:
        retrying(storage.get_study_id_from_name, name)
    except KeyError:
        return False
    return True


def open_session(config: CampaignConfig | str | os.PathLike, *, create: bool = False,
                 load_pool: bool = True, heartbeat: tuple[int, int] | None = None) -> Session:
    """Open the campaign's study (creating it when ``create``) and, optionally, its pool.

    Args:
        config: a :class:`CampaignConfig` or the path of its TOML file.
        create: create the study when absent (the coordinator); otherwise a missing study is
            a ``ValueError`` telling the user to start it with ``scout run``.
        load_pool: also build the :class:`Pool` (cached under the artifacts folder).
        heartbeat: ``(interval, grace)`` seconds for a new study; an existing study keeps
            the values it was created with.
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
    exists = _study_exists(storage, cfg.name)
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
        ledger.set_attr(HASH_KEY, digest)
        attrs = ledger.attrs()
    elif attrs[HASH_KEY] != digest:
        raise ValueError(f"the config of campaign {cfg.name!r} changed since it started "
                         f"(hash {digest} != {attrs[HASH_KEY]}); give it a new campaign.name "
                         f"or restore the old settings")
    size = int(attrs[POOL_SIZE_KEY])
    if pool is not None and len(pool) != size:
        raise ValueError(f"the pool of campaign {cfg.name!r} has {len(pool)} candidates but the "
                         f"study was started with {size}; the pool file changed")
    ledger.pool_size = size
    ledger.set_heartbeat(*attrs.get(HEARTBEAT_SETTINGS_KEY, DEFAULT_HEARTBEAT))
    return Session(cfg, ledger, pool)


def _load_pool(cfg: CampaignConfig) -> Any:
    from .._pool._base import Pool

    pool = Pool.from_config(cfg.pool, cfg.artifacts_dir / "pool_cache")
    if len(pool) == 0:
        raise ValueError(f"the pool of campaign {cfg.name!r} is empty")
    return pool
