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

The section is part of :class:`CampaignConfig` (``config.executor``) but not of the campaign's
config hash, so changing where workers run never invalidates a resume. ``n_workers`` defaults
to ``[campaign] workers``; giving both with different values is an error. Paths are resolved
against the config's folder; nothing in the file is executed, expanded by a shell, or
evaluated.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ._values import (
    check_keys,
    read_choice,
    read_float,
    read_int,
    read_path,
    read_str,
    read_str_list,
    thaw,
)

__all__ = ["EXECUTOR_KINDS", "ExecutorConfig"]

EXECUTOR_KINDS = ("local", "dask", "slurm", "pbs")
#: a device id as CUDA_VISIBLE_DEVICES takes it: an index or a GPU/MIG UUID
_DEVICE = r"\d{1,3}|(GPU|MIG)-[A-Za-z0-9-]{1,80}"
#: a scheduler directive: an option, never a shell command or a second line
_DIRECTIVE = r"-{1,2}[A-Za-z][A-Za-z0-9_-]*([= ][A-Za-z0-9_.:,=/@+-]{1,200})?"
_WALLTIME = r"(\d+-)?\d{1,3}:\d{2}(:\d{2})?"
_MEMORY = r"\d+(\.\d+)?\s?([KMGTkmgt]i?[Bb])"
_ADDRESS = r"(tcp|tls|inproc|ucx)://[^\s]+"
_WORD = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"


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
    def from_dict(cls, data: Mapping[str, Any], base_dir: str | os.PathLike,
                  workers: int | None = None) -> ExecutorConfig:
        """Check an ``[executor]`` table; ``ValueError`` names ``executor.key`` and the problem.

        ``workers``: ``[campaign] workers``, the default of ``n_workers`` (a value other
        than 1 must agree with an explicit ``n_workers``).
        """
        w = "executor"
        if not isinstance(data, Mapping):
            raise ValueError(f"[executor] must be a table, got {type(data).__name__}")
        check_keys(w, data, [f.name for f in fields(cls)])
        base = Path(base_dir)
        n_workers = read_int(w, data, "n_workers", workers or 1, minimum=1)
        if "n_workers" in data and workers not in (None, 1, n_workers):
            raise ValueError(f"executor.n_workers = {n_workers} disagrees with campaign.workers "
                             f"= {workers}; give only one of them")
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
        return cls(
            kind=read_choice(w, data, "kind", EXECUTOR_KINDS, "local"),
            n_workers=n_workers,
            gpus=read_str_list(w, data, "gpus", pattern=_DEVICE,
                               what="a device id (an index or a GPU UUID)"),
            idle_timeout=read_float(w, data, "idle_timeout", 300.0, minimum=0.0),
            address=read_str(w, data, "address", None, pattern=_ADDRESS,
                             what="a Dask scheduler address (tcp://host:port)"),
            cores=read_int(w, data, "cores", 1, minimum=1),
            memory=read_str(w, data, "memory", "4GB", pattern=_MEMORY,
                            what="a size like '4GB'"),
            walltime=read_str(w, data, "walltime", "01:00:00", pattern=_WALLTIME,
                              what="[D-]HH:MM[:SS]"),
            queue=read_str(w, data, "queue", None, pattern=_WORD, what="a queue name"),
            account=read_str(w, data, "account", None, pattern=_WORD, what="an account name"),
            gpus_per_worker=read_int(w, data, "gpus_per_worker", 0, minimum=0),
            job_extra=read_str_list(w, data, "job_extra", pattern=_DIRECTIVE,
                                    what="a scheduler option like '--constraint=a100'"),
            python=python,
            local_directory=local_dir,
        )

    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped data (None-valued keys left out); ``from_dict`` rebuilds it."""
        return {f.name: thaw(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) is not None}

    def device_for(self, i: int) -> str | None:
        """The device pinned for worker ``i`` (round-robin over ``gpus``), or ``None``."""
        return self.gpus[i % len(self.gpus)] if self.gpus else None
