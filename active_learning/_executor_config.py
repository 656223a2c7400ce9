"""``[executor]``: where a campaign's workers run (local processes, Dask, SLURM, PBS).

A TOML section, checked up front like the rest of the config::

    [executor]
    kind = "local"          # "local" | "dask" | "slurm" | "pbs"
    n_workers = 4           # worker processes (local), Dask tasks, or batch jobs
    gpus = ["0", "1"]       # optional: devices pinned round-robin, one per worker
    idle_timeout = 300      # seconds a worker waits with nothing to do before it exits
    # dask:  address = "tcp://scheduler:8786"   (absent: a LocalCluster on this machine)
    # slurm / pbs (one worker per batch job):
    cores = 1               # cores per job
    memory = "4GB"          # memory per job
    walltime = "01:00:00"
    queue = "gpu"           # partition (SLURM) / queue (PBS)
    account = "proj123"
    gpus_per_worker = 1     # SLURM: --gres=gpu:N; PBS: ngpus=N in the resource list
    job_extra = ["--constraint=a100"]   # more #SBATCH / #PBS directives
    python = "/opt/venv/bin/python"     # interpreter on the compute nodes (checked to exist)
    local_directory = "scratch"         # Dask worker scratch folder (resolved, created)

:func:`load_campaign` reads a campaign TOML holding an ``[executor]`` section: the executor
part is split off and the rest is the ordinary :class:`CampaignConfig` (so the campaign's config
hash, which workers check, never depends on where workers run). Paths are resolved against
the config's folder; nothing in the file is executed, expanded by a shell, or evaluated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from ._config import CampaignConfig
from ._config_values import (
    check_keys,
    read_choice,
    read_float,
    read_int,
    read_path,
    read_str,
)

__all__ = ["EXECUTOR_KINDS", "ExecutorConfig", "load_campaign"]

EXECUTOR_KINDS = ("local", "dask", "slurm", "pbs")
#: a device id as CUDA_VISIBLE_DEVICES takes it: an index or a GPU/MIG UUID
_DEVICE = re.compile(r"^(\d{1,3}|(GPU|MIG)-[A-Za-z0-9-]{1,80})$")
#: a scheduler directive: an option, never a shell command or a second line
_DIRECTIVE = re.compile(r"^-{1,2}[A-Za-z][A-Za-z0-9_-]*([= ][A-Za-z0-9_.:,=/@+-]{1,200})?$")
_WALLTIME = re.compile(r"^(\d+-)?\d{1,3}:\d{2}(:\d{2})?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s?([KMGT]i?B)$", re.IGNORECASE)
_WORD = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


def _str_list(where: str, data: Mapping[str, Any], key: str, pattern: re.Pattern[str],
              what: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key} must be a list of strings, got {value!r}")
    out = []
    for i, item in enumerate(value):
        item = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if not isinstance(item, str) or not pattern.match(item):
            raise ValueError(f"{where}.{key}[{i}] = {item!r} is not {what}")
        out.append(item)
    return tuple(out)


@dataclass(frozen=True)
class ExecutorConfig:
    """Where and how many workers run. See the module docstring for every key."""

    kind: str = "local"
    n_workers: int = 1
    gpus: tuple[str, ...] = ()
    idle_timeout: float = 300.0
    address: str | None = None
    cores: int = 1
    memory: str = "4GB"
    walltime: str = "01:00:00"
    queue: str | None = None
    account: str | None = None
    gpus_per_worker: int = 0
    job_extra: tuple[str, ...] = field(default_factory=tuple)
    python: str | None = None
    local_directory: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: str | os.PathLike) -> ExecutorConfig:
        """Check an ``[executor]`` table; ``ValueError`` names ``executor.key`` and the problem."""
        w = "executor"
        if not isinstance(data, Mapping):
            raise ValueError(f"[executor] must be a table, got {type(data).__name__}")
        check_keys(w, data, [f.name for f in fields(cls)])
        base = Path(base_dir)
        kind = read_choice(w, data, "kind", EXECUTOR_KINDS, "local")
        address = read_str(w, data, "address", None)
        if address is not None and not re.match(r"^(tcp|tls|inproc|ucx)://[^\s]+$", address):
            raise ValueError(f"executor.address = {address!r} is not a Dask scheduler address "
                             f"(tcp://host:port)")
        python = read_str(w, data, "python", None)
        if python is not None:
            exe = read_path("executor.python", python, base)
            if not os.access(exe, os.X_OK) or exe.is_dir():
                raise ValueError(f"executor.python = {str(exe)!r} is not an executable file")
            python = str(exe)
        local_dir = read_str(w, data, "local_directory", None)
        if local_dir is not None:
            local_dir = str(read_path("executor.local_directory", local_dir, base,
                                      must_exist=False))
        walltime = read_str(w, data, "walltime", "01:00:00")
        if not _WALLTIME.match(walltime):
            raise ValueError(f"executor.walltime = {walltime!r} is not [D-]HH:MM[:SS]")
        memory = read_str(w, data, "memory", "4GB")
        if not _MEMORY.match(memory):
            raise ValueError(f"executor.memory = {memory!r} is not a size like '4GB'")
        return cls(
            kind=kind,
            n_workers=read_int(w, data, "n_workers", 1, minimum=1),
            gpus=_str_list(w, data, "gpus", _DEVICE, "a device id (an index or a GPU UUID)"),
            idle_timeout=read_float(w, data, "idle_timeout", 300.0, minimum=0.0),
            address=address,
            cores=read_int(w, data, "cores", 1, minimum=1),
            memory=memory,
            walltime=walltime,
            queue=read_str(w, data, "queue", None, pattern=_WORD),
            account=read_str(w, data, "account", None, pattern=_WORD),
            gpus_per_worker=read_int(w, data, "gpus_per_worker", 0, minimum=0),
            job_extra=_str_list(w, data, "job_extra", _DIRECTIVE,
                                "a scheduler option like '--constraint=a100'"),
            python=python,
            local_directory=local_dir,
        )

    def device_for(self, i: int) -> str | None:
        """The device pinned for worker ``i`` (round-robin over ``gpus``), or ``None``."""
        return self.gpus[i % len(self.gpus)] if self.gpus else None


def load_campaign(path: str | os.PathLike) -> tuple[CampaignConfig, ExecutorConfig]:
    """Read a campaign TOML that may hold an ``[executor]`` section.

    Returns the campaign config (as :meth:`CampaignConfig.from_toml` would build it from the
    file without its ``[executor]`` section) and the executor config (defaults when absent).
    """
    path = Path(os.path.expanduser(os.fspath(path))).absolute()
    if not path.is_file():
        raise FileNotFoundError(f"config file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    executor = ExecutorConfig.from_dict(data.pop("executor", {}), path.parent)
    campaign = data.get("campaign")
    if isinstance(campaign, dict) and "name" not in campaign:
        campaign["name"] = path.stem
    return CampaignConfig.from_dict(data, path.parent), executor
