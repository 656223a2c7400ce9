"""Executors: what starts a campaign's workers — local processes, Dask, or SLURM/PBS jobs.

Every worker is the same stateless ``run_worker`` (:mod:`._worker`): it joins the campaign
through its storage, pops enqueued trials, simulates and tells, and exits when the coordinator
marks the campaign finished or after ``idle_timeout`` seconds with nothing to do. An executor
only decides *where* those workers run. :class:`~._campaign.Campaign` (``scout run``) builds
one from the config's ``[executor]`` section with :func:`make_executor`. Call order::

    executor.start(config)      # launch n_workers workers for this campaign
    executor.alive()            # any worker still running (or still queued)?
    executor.stop(finished)     # finished: let them exit on their own; else stop them

- :class:`LocalExecutor`: worker processes on this machine, by default from a *forkserver*
  that has imported the scientific stack once, so each worker starts in well under a second.
  They are not daemonic (a worker runs time-limited simulations in a child process) and stop
  by themselves when the process that started them dies.
- :class:`DaskExecutor`: one long-running ``run_worker`` task per Dask worker, through a
  ``distributed.Client`` — an existing scheduler (``address``), a ``LocalCluster``, or a
  dask-jobqueue ``SLURMCluster``/``PBSCluster`` (one batch job per worker; see
  :func:`jobqueue_cluster`).

GPU workers pin one device each: worker ``i`` gets ``CUDA_VISIBLE_DEVICES = gpus[i % len(gpus)]``
before anything touches CUDA, so ``device="auto"`` (:func:`physics._device.resolve_device`)
then picks exactly that GPU. On SLURM/PBS, ``gpus_per_worker`` asks the scheduler for the GPUs
(``--gres=gpu:N`` / ``ngpus=N``) and the scheduler sets ``CUDA_VISIBLE_DEVICES`` itself.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any

from .._config._campaign import CampaignConfig
from .._config._executor import ExecutorConfig

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "jobqueue_cluster",
    "make_executor",
    "plugin_modules",
]

#: Dask resource every scout worker task holds, so each Dask worker runs exactly one of them
RESOURCE = "scout-worker"
#: modules a local forkserver imports once, before it forks the workers
PRELOAD = ("numpy", "torch", "optuna", "physics", "surrogates", "active_learning._execution._worker")


def _prepare(device: str | None, imports: tuple[str, ...]) -> None:
    """Make ``device`` the only GPU this process sees (before any CUDA call), then import the
    modules that register plug-in simulators and surrogates."""
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
    for name in imports:
        importlib.import_module(name)


def _check_imports(imports: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out = tuple(imports)
    for name in out:
        if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
            raise ValueError(f"imports: {name!r} is not a dotted module name")
    return out


def _check_n_workers(n_workers: int) -> int:
    if int(n_workers) < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    return int(n_workers)


def plugin_modules(config: CampaignConfig) -> tuple[str, ...]:
    """Modules outside scoutlab that define the config's simulator and surrogate classes
    (registered in this process by an import or a test): what a worker must import too."""
    from physics import SIMULATORS
    from surrogates import SURROGATES

    kinds = [SIMULATORS.get(config.simulator.kind), SURROGATES.get(config.surrogate.kind)]
    if config.fidelity is not None:
        kinds.append(SIMULATORS.get(config.fidelity.simulator.kind))
    mods = {getattr(k, "__module__", "") for k in kinds if k is not None}
    return tuple(sorted(m for m in mods if m and m != "__main__"
                        and m.split(".")[0] not in ("physics", "surrogates", "active_learning")))


def _stop_with_parent() -> None:
    """SIGTERM this process (finish the trial, then exit) once the process that started it
    is gone, so a killed coordinator leaves no idle workers behind."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="scout-parent-watch").start()


def _local_worker_main(device: str | None, imports: tuple[str, ...], config: dict[str, Any],
                       base_dir: str, idle_timeout: float) -> None:
    """A local worker process: its own process group (a Ctrl-C in the terminal reaches only
    the coordinator, which then sends each worker exactly one SIGTERM), its device, the
    plug-ins, then the worker loop."""
    os.setpgrp()
    _prepare(device, imports)
    _stop_with_parent()
    from ._worker import run_worker

    run_worker(CampaignConfig.from_dict(config, base_dir), idle_timeout=idle_timeout)


def _dask_worker_task(config: dict[str, Any], base_dir: str, idle_timeout: float,
                      device: str | None, imports: tuple[str, ...]) -> dict[str, Any]:
    """A Dask task: one ``run_worker`` until the campaign is over; returns its stats."""
    _prepare(device, imports)
    from ._worker import run_worker

    stats = run_worker(CampaignConfig.from_dict(config, base_dir), idle_timeout=idle_timeout)
    return {**asdict(stats), "pid": os.getpid(), "device": device}


class Executor(ABC):
    """Starts and stops the workers of one campaign (see the module docstring)."""

    n_workers: int = 1

    @abstractmethod
    def start(self, config: CampaignConfig) -> None:
        """Launch the workers for ``config``'s campaign (its study must exist or soon will)."""

    @abstractmethod
    def alive(self) -> bool:
        """Whether any worker is still running or still waiting to start."""

    @abstractmethod
    def stop(self, finished: bool, timeout: float | None = 60.0) -> None:
        """``finished``: wait for the workers to see the campaign's end and exit. Otherwise stop
        them now (a local worker finishes or releases its trial on SIGTERM). ``timeout``:
        seconds to wait for them (``None``: as long as they take)."""

    def wait(self, timeout: float | None = None, poll: float = 0.2) -> bool:
        """Block until no worker is alive; ``False`` if ``timeout`` s passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.alive():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True


class LocalExecutor(Executor):
    """``n_workers`` worker processes on this machine.

    Args:
        n_workers: processes to start.
        gpus: device ids pinned round-robin (worker ``i`` sees only ``gpus[i % len(gpus)]``).
        idle_timeout: seconds a worker waits with nothing to do before it exits.
        start_method: ``"forkserver"`` (default on Linux; fast, CUDA-safe) or ``"spawn"``.
        imports: modules each worker imports first (ones that register plug-in simulators or
            surrogates with ``register_simulator``/``register_surrogate``).
    """

    def __init__(self, n_workers: int = 1, gpus: tuple[str, ...] | list[str] = (),
                 idle_timeout: float = 300.0, start_method: str | None = None,
                 imports: tuple[str, ...] | list[str] = ()) -> None:
        self.n_workers = _check_n_workers(n_workers)
        self.gpus = tuple(str(g) for g in gpus)
        self.idle_timeout = float(idle_timeout)
        methods = mp.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods
                                             else "spawn")
        if self.start_method not in ("forkserver", "spawn"):
            raise ValueError(f"start_method must be 'forkserver' or 'spawn' (fork is unsafe "
                             f"with threads and CUDA), got {self.start_method!r}")
        self.imports = _check_imports(imports)
        self.processes: list[Any] = []

    def start(self, config: CampaignConfig) -> None:
        ctx = mp.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload([*PRELOAD, *self.imports])
        data, base = config.to_dict(), str(config.base_dir)
        for i in range(self.n_workers):
            device = self.gpus[i % len(self.gpus)] if self.gpus else None
            # not daemonic: a worker may run its simulations in a child process (time-outs)
            p = ctx.Process(target=_local_worker_main,
                            args=(device, self.imports, data, base, self.idle_timeout),
                            name=f"scout-worker-{i}")
            p.start()
            self.processes.append(p)

    def alive(self) -> bool:
        return any(p.is_alive() for p in self.processes)

    def stop(self, finished: bool, timeout: float | None = 60.0) -> None:
        if not finished:
            for p in self.processes:
                if p.is_alive():
                    p.terminate()  # SIGTERM: finish (or on a second one release) the trial
        deadline = None if timeout is None else time.monotonic() + timeout
        for p in self.processes:
            p.join(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        for p in self.processes:
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
        self.processes = []

    @property
    def exitcodes(self) -> list[int | None]:
        return [p.exitcode for p in self.processes]


class DaskExecutor(Executor):
    """One ``run_worker`` task per Dask worker.

    Args:
        n_workers: worker tasks to submit (and workers to start when this executor makes the
            cluster).
        client: a ``distributed.Client`` to use as is (not closed by :meth:`stop`).
        address: a scheduler address (``tcp://host:8786``) to connect to.
        cluster: a cluster object (``LocalCluster``, ``SLURMCluster``, ...) whose workers
            each hold one ``scout-worker`` resource (:func:`jobqueue_cluster` makes such).
        gpus: device ids pinned round-robin per task (for a LocalCluster on a GPU node).
        idle_timeout: seconds a worker waits with nothing to do before its task returns.
        local_directory: scratch folder of the workers of a LocalCluster made here.
        close_cluster: close ``cluster`` in :meth:`stop` (cancels its batch jobs).
        imports: modules each task imports first (plug-in simulators and surrogates).
        processes: a LocalCluster made here runs worker processes (``False``: threads of
            this process — quick to start, for tests and small simulators that release the
            GIL).

    With none of ``client``/``address``/``cluster`` a ``LocalCluster`` of ``n_workers``
    single-threaded worker processes is made. A scheduler reached by ``address`` should run
    one thread per worker (or ``--resources scout-worker=1``) so that tasks do not share one.
    """

    def __init__(self, n_workers: int = 1, *, client: Any = None, address: str | None = None,
                 cluster: Any = None, gpus: tuple[str, ...] | list[str] = (),
                 idle_timeout: float = 300.0, local_directory: str | None = None,
                 close_cluster: bool = False, imports: tuple[str, ...] | list[str] = (),
                 processes: bool = True) -> None:
        self.n_workers = _check_n_workers(n_workers)
        self.gpus = tuple(str(g) for g in gpus)
        self.idle_timeout = float(idle_timeout)
        self.local_directory = local_directory
        self._client, self._address, self._cluster = client, address, cluster
        self._own_client, self._own_cluster = False, bool(close_cluster)
        self._resources = cluster is not None
        self.processes = bool(processes)
        self.imports = _check_imports(imports)
        self.futures: list[Any] = []
        self._results: list[dict[str, Any]] = []

    @property
    def client(self) -> Any:
        if self._client is None:
            from distributed import Client, LocalCluster

            if self._address is not None:
                self._client = Client(self._address)
            else:
                if self._cluster is None:
                    self._cluster = LocalCluster(
                        n_workers=self.n_workers, threads_per_worker=1,
                        processes=self.processes,
                        resources={RESOURCE: 1}, dashboard_address=None,
                        local_directory=self.local_directory)
                    self._own_cluster = self._resources = True
                self._client = Client(self._cluster)
            self._own_client = True
        return self._client

    def start(self, config: CampaignConfig) -> None:
        data, base = config.to_dict(), str(config.base_dir)
        tag = uuid.uuid4().hex[:8]
        extra = {"resources": {RESOURCE: 1}} if self._resources else {}
        for i in range(self.n_workers):
            device = self.gpus[i % len(self.gpus)] if self.gpus else None
            self.futures.append(self.client.submit(
                _dask_worker_task, data, base, self.idle_timeout, device, self.imports,
                pure=False,
                key=f"scout-worker-{config.name}-{tag}-{i}", **extra))

    def alive(self) -> bool:
        return any(not f.done() for f in self.futures)

    def results(self) -> list[dict[str, Any]]:
        """Each finished task's worker stats (``completed``, ``failed``, ``pid``, ...); kept
        after :meth:`stop`."""
        if not self.futures:
            return list(self._results)
        return [f.result() for f in self.futures if f.done() and f.status == "finished"]

    def stop(self, finished: bool, timeout: float | None = 60.0) -> None:
        if finished:
            self.wait(timeout)
        self._results = self.results()
        for f in self.futures:
            if not f.done():
                f.cancel()
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._own_cluster and self._cluster is not None:
            self._cluster.close()  # workers die; trials they held go stale and are retried
            self._cluster = None
        self._own_client = False
        self.futures = []


def jobqueue_cluster(ex: ExecutorConfig, scale: bool = True) -> Any:
    """A dask-jobqueue ``SLURMCluster``/``PBSCluster`` from ``[executor]``, scaled (when
    ``scale``: this submits the jobs) to ``n_workers`` jobs of one single-threaded Dask worker
    each, holding one ``scout-worker`` resource, so one ``run_worker`` per job."""
    if ex.kind not in ("slurm", "pbs"):
        raise ValueError(f"executor.kind = {ex.kind!r} is not a batch scheduler (slurm, pbs)")
    from dask_jobqueue import PBSCluster, SLURMCluster

    extra = list(ex.job_extra)
    kwargs: dict[str, Any] = {
        "cores": ex.cores, "processes": 1, "memory": ex.memory, "walltime": ex.walltime,
        "queue": ex.queue, "account": ex.account,
        "worker_extra_args": ["--resources", f"{RESOURCE}=1", "--nthreads", "1"],
    }
    if ex.python is not None:
        kwargs["python"] = ex.python
    if ex.local_directory is not None:
        kwargs["local_directory"] = ex.local_directory
    if ex.kind == "slurm":
        if ex.gpus_per_worker:
            extra.append(f"--gres=gpu:{ex.gpus_per_worker}")
        cluster = SLURMCluster(job_extra_directives=extra, **kwargs)
    else:
        spec = f"select=1:ncpus={ex.cores}:mem={ex.memory.replace(' ', '')}"
        if ex.gpus_per_worker:
            spec += f":ngpus={ex.gpus_per_worker}"
        cluster = PBSCluster(job_extra_directives=extra, resource_spec=spec, **kwargs)
    if scale:
        cluster.scale(jobs=ex.n_workers)
    return cluster


def make_executor(ex: ExecutorConfig, imports: tuple[str, ...] | list[str] = ()) -> Executor:
    """The executor an ``[executor]`` section describes (``imports``: see the executors)."""
    if ex.kind == "local":
        return LocalExecutor(ex.n_workers, ex.gpus, ex.idle_timeout, imports=imports)
    if ex.kind == "dask":
        return DaskExecutor(ex.n_workers, address=ex.address, gpus=ex.gpus,
                            idle_timeout=ex.idle_timeout, local_directory=ex.local_directory,
                            imports=imports)
    return DaskExecutor(ex.n_workers, cluster=jobqueue_cluster(ex), idle_timeout=ex.idle_timeout,
                        close_cluster=True, imports=imports)
