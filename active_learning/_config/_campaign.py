"""``CampaignConfig``: one campaign described by a TOML file, checked up front.

Sections (each a frozen dataclass; see the example configs under ``examples/``)::

    [campaign]     name, direction | target, objective, budget, batch_size, initial, rounds,
                   seed, storage, workers, timeout, max_retries, stop_patience, top_k
    [pool]         kind = "molecules" | "sequences" | "designs", path, columns, or a
                   combinatorial library (sites, wild_type)
    [simulator]    kind (a key of physics.SIMULATORS) + its options, passed to make_simulator
    [surrogate]    kind (a key of surrogates.SURROGATES), ensemble (K) + the model's options
    [compression]  enabled, student (options of the distilled model), prune_amount, quantize,
                   screen_fraction
    [acquisition]  kind (a key of ACQUISITIONS), beta, xi, diversity, initial_design
    [fidelity]     optional cheap simulator: kind, objective, per_round, use_as_feature + options
    [executor]     where workers run: kind = "local" | "dask" | "slurm" | "pbs", n_workers, ...
                   (:mod:`._executor_config`)

Storage URLs follow SQLAlchemy's SQLite rule, for ``journal:`` files too: three slashes and a
relative path (``sqlite:///run.db``, ``journal:///run.log``) are taken from the config's
folder; four slashes (``journal:////scratch/run.log``) are an absolute path.

Unknown sections or keys raise ``ValueError`` naming ``section.key`` and the allowed keys; a
missing file raises ``FileNotFoundError`` naming the key and the resolved path. Paths are
resolved relative to the config file. ``to_dict()`` round-trips: ``from_dict(c.to_dict(),
c.base_dir) == c``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from ._executor import ExecutorConfig
from ._pool import PoolConfig
from ._sections import (
    AcquisitionConfig,
    CompressionConfig,
    FidelityConfig,
    SimulatorConfig,
    SurrogateConfig,
    check_fidelity_inputs,
    check_objective,
)
from ._storage_url import check_scheme
from ._values import (
    check_float,
    check_keys,
    read_choice,
    read_float,
    read_int,
    read_str,
    read_table,
    thaw,
)

__all__ = [
    "AcquisitionConfig",
    "CampaignConfig",
    "CampaignSection",
    "CompressionConfig",
    "ExecutorConfig",
    "FidelityConfig",
    "PoolConfig",
    "SimulatorConfig",
    "SurrogateConfig",
]

#: environment variable that overrides ``[campaign] storage`` (e.g. on a cluster)
STORAGE_ENV = "SCOUT_STORAGE"
_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"


@dataclass(frozen=True)
class CampaignSection:
    """``[campaign]``: what to optimise and how much to spend.

    ``budget`` counts high-fidelity simulations in all (initial design included);
    ``storage`` is an Optuna storage URL (default ``sqlite:///<config dir>/<name>.db``);
    ``workers`` the number of worker processes (``[executor] n_workers``); ``timeout`` the
    wall-clock seconds one simulation may take before it is killed and told FAIL ("timed
    out after N s"; ``None``: no limit).
    """

    name: str
    objective: str
    budget: int
    batch_size: int
    initial: int
    direction: str | None = None
    target: tuple[float, float] | None = None
    rounds: int | None = None
    seed: int = 0
    storage: str = ""
    workers: int = 1
    timeout: float | None = None
    max_retries: int = 2
    stop_patience: int | None = None
    top_k: int = 10

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path) -> CampaignSection:
        w = "campaign"
        check_keys(w, data, [f.name for f in fields(cls)])
        name = read_str(w, data, "name", pattern=_NAME_PATTERN)
        direction = read_choice(w, data, "direction", ("minimize", "maximize"), None)
        target = data.get("target")
        if target is not None:
            if not isinstance(target, (list, tuple)) or len(target) != 2:
                raise ValueError(f"campaign.target must be a window [lo, hi], got {target!r}")
            lo, hi = (check_float(f"campaign.target[{i}]", v) for i, v in enumerate(target))
            if not lo < hi:
                raise ValueError(f"campaign.target must have lo < hi, got [{lo}, {hi}]")
            target = (lo, hi)
        if (direction is None) == (target is None):
            raise ValueError("campaign: give exactly one of direction (\"minimize\" or "
                             "\"maximize\") or target ([lo, hi] window)")
        budget = read_int(w, data, "budget", minimum=1)
        batch_size = read_int(w, data, "batch_size", minimum=1)
        initial = read_int(w, data, "initial", batch_size, minimum=1)
        if initial > budget:
            raise ValueError(f"campaign.initial ({initial}) exceeds campaign.budget ({budget})")
        storage = os.environ.get(STORAGE_ENV) or read_str(w, data, "storage", "")
        return cls(
            name=name,
            objective=read_str(w, data, "objective"),
            budget=budget,
            batch_size=batch_size,
            initial=initial,
            direction=direction,
            target=target,
            rounds=read_int(w, data, "rounds", None, minimum=1),
            seed=read_int(w, data, "seed", 0, minimum=0),
            storage=_resolve_storage(storage, name, base_dir),
            workers=read_int(w, data, "workers", 1, minimum=1),
            timeout=_read_timeout(data),
            max_retries=read_int(w, data, "max_retries", 2, minimum=0),
            stop_patience=read_int(w, data, "stop_patience", None, minimum=1),
            top_k=read_int(w, data, "top_k", 10, minimum=1),
        )


def _read_timeout(data: Mapping[str, Any]) -> float | None:
    timeout = read_float("campaign", data, "timeout", None, minimum=0.0)
    if timeout is not None and timeout <= 0:
        raise ValueError(f"campaign.timeout must be > 0 seconds, got {timeout}")
    return timeout


def _resolve_storage(url: str, name: str, base_dir: Path) -> str:
    """Default SQLite file next to the config; a relative SQLite or journal file path is taken
    from the config's folder too."""
    if not url:
        return f"sqlite:///{base_dir / f'{name}.db'}"
    if "\x00" in url or "\n" in url:
        raise ValueError("campaign.storage must be one line (an Optuna storage URL)")
    check_scheme(url)
    if url.startswith("journal:") and not url.startswith("journal:///"):
        raise ValueError(f"campaign.storage = {url!r}: a journal file is journal:///relative"
                         f"/path.log (from the config's folder) or journal:////absolute/path.log")
    for prefix in ("sqlite:///", "journal:///"):
        rest = url[len(prefix):]
        if url.startswith(prefix) and rest and not rest.startswith("/") and rest != ":memory:":
            return prefix + str(base_dir / rest)
    return url


_SECTIONS = ("campaign", "pool", "simulator", "surrogate", "compression", "acquisition",
             "fidelity", "executor")


@dataclass(frozen=True)
class CampaignConfig:
    """A whole campaign. Build with :meth:`from_toml` or :meth:`from_dict`."""

    campaign: CampaignSection
    pool: PoolConfig
    simulator: SimulatorConfig
    surrogate: SurrogateConfig
    compression: CompressionConfig
    acquisition: AcquisitionConfig
    fidelity: FidelityConfig | None
    base_dir: Path
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> CampaignConfig:
        """Read and check a TOML config; ``[campaign] name`` defaults to the file's stem."""
        path = Path(os.path.expanduser(os.fspath(path))).absolute()
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} does not exist")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from None
        campaign = data.get("campaign")
        if isinstance(campaign, dict) and "name" not in campaign:
            campaign["name"] = path.stem
        return cls.from_dict(data, path.parent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: str | os.PathLike) -> CampaignConfig:
        """Check a config given as TOML-shaped data; relative paths are taken from ``base_dir``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a config is a table of sections, got {type(data).__name__}")
        base = Path(os.path.expanduser(os.fspath(base_dir))).absolute()
        if not all(isinstance(k, str) for k in data):
            raise ValueError("config: section names must be strings")
        check_keys("", data, _SECTIONS)
        tables = {s: read_table("", data, s, required=s in _SECTIONS[:4]) for s in _SECTIONS}
        campaign = CampaignSection.from_dict(tables["campaign"], base)
        simulator = SimulatorConfig.from_dict(tables["simulator"], base)
        check_objective("campaign.objective", campaign.objective, simulator)
        pool = PoolConfig.from_dict(tables["pool"], base,
                                    simulator_input_kind=simulator.input_kind)
        fidelity = FidelityConfig.from_dict(tables["fidelity"], base) \
            if "fidelity" in data else None
        if fidelity is not None:
            check_objective("fidelity.objective", fidelity.objective or campaign.objective,
                             fidelity.simulator)
            check_fidelity_inputs(fidelity, tables["surrogate"].get("kind"))
        return cls(
            campaign=campaign,
            pool=pool,
            simulator=simulator,
            surrogate=SurrogateConfig.from_dict(tables["surrogate"], base),
            compression=CompressionConfig.from_dict(tables["compression"], base),
            acquisition=AcquisitionConfig.from_dict(tables["acquisition"], base),
            fidelity=fidelity,
            base_dir=base,
            executor=ExecutorConfig.from_dict(tables["executor"], base, campaign.workers),
        )

    @property
    def name(self) -> str:
        return self.campaign.name

    @property
    def storage(self) -> str:
        """The Optuna storage URL (may hold credentials: print :attr:`redacted_storage`)."""
        return self.campaign.storage

    @property
    def redacted_storage(self) -> str:
        """The storage URL with any password replaced by ``***``; safe to print."""
        from ._storage_url import redact_url  # the one implementation (SQLAlchemy's parser)

        return redact_url(self.campaign.storage)

    @property
    def artifacts_dir(self) -> Path:
        """Folder beside the config for per-round models, screeners, caches and reports."""
        return self.base_dir / f"{self.campaign.name}.artifacts"

    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped data (None-valued keys left out); ``from_dict`` rebuilds an equal config."""
        camp = {f.name: thaw(getattr(self.campaign, f.name)) for f in fields(self.campaign)}
        out: dict[str, Any] = {
            "campaign": {k: v for k, v in camp.items() if v is not None},
            "pool": self.pool.to_dict(),
            "simulator": self.simulator.to_dict(),
            "surrogate": self.surrogate.to_dict(),
            "compression": self.compression.to_dict(),
            "acquisition": self.acquisition.to_dict(),
        }
        if self.fidelity is not None:
            out["fidelity"] = self.fidelity.to_dict()
        out["executor"] = self.executor.to_dict()
        return out
