"""Before a campaign spends anything: read the whole pool, build its parts, reach its storage.

:func:`preflight` is what ``scout check CONFIG`` prints and what ``scout run`` does before it
creates the study (a study that exists and matches the config is resumed without it). It

1. reaches the storage (one line when it cannot: the password is never shown) and looks for
   the study: new, resumable, or started with another config (naming the keys that changed,
   and whether ``--restart`` may start it afresh);
2. reads the whole pool: every SMILES parsed, unusable ones listed with their line/row and id
   and how to leave them out (:func:`.._pool._check.check_pool`);
3. builds the simulator (and the cheap one of ``[fidelity]``), the surrogate and the student,
   so a bad option (``method = "GFN9-xTB"``) is one line here, not a traceback in round 0
   (option *types* were checked when the config was read);
4. says what the campaign will do and what it will cost: rounds and batch sizes, the number
   of simulations, and — with ``probe`` — the measured seconds of one simulation.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._config._campaign import CampaignConfig
from .._ledger._keys import HASH_KEY
from .._ledger._session import (
    completed_count,
    config_changed_message,
    config_hash,
    load_config,
    study_exists,
)

__all__ = ["Preflight", "preflight"]


@dataclass
class Preflight:
    """What :func:`preflight` found: ``lines`` (what the campaign will do and cost, for a
    person), ``problems`` (each one line; the campaign cannot run while there are any) and the
    state of the study (``"new"``, ``"resume"``, ``"restart"`` or ``"changed"``)."""

    config: CampaignConfig
    lines: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    study: str = "new"
    pool_size: int | None = None
    seconds_per_simulation: float | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        """``ValueError`` of one line holding every problem (nothing when there is none)."""
        if self.problems:
            raise ValueError("; ".join(self.problems) if len(self.problems) > 1
                             else self.problems[0])

    def text(self) -> str:
        """The report ``scout check`` prints: one ``label  text`` line per item."""
        width = max((len(k) for k, _ in self.lines), default=0)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.lines)


def preflight(config: CampaignConfig | str | os.PathLike, *, restart: bool = False,
              probe: int = 0, deep: bool | None = None) -> Preflight:
    """Check a campaign without spending a simulation (``probe`` > 0 spends that many, to
    time them).

    Args:
        config: a :class:`CampaignConfig` or the path of its TOML file.
        restart: the run will start an existing study afresh (``scout run --restart``).
        probe: simulate this many pool candidates (the first usable ones) to measure their
            cost; nothing is recorded.
        deep: read the pool and build the parts (``None``: unless a study of this very config
            exists, which a run simply resumes).
    """
    cfg = load_config(config)
    out = Preflight(cfg)
    out.lines.append(("campaign", f"{cfg.name} ({cfg.base_dir})"))
    _check_storage(cfg, out, restart)
    if deep is False or (deep is None and out.study == "resume"):
        return out
    pool = _check_pool(cfg, out)
    sim = _check_simulators(cfg, out)
    _check_models(cfg, out)
    _describe_plan(cfg, out)
    if probe and pool is not None and sim is not None:
        _probe(cfg, out, pool, sim, int(probe))
    _describe_cost(cfg, out)
    return out


# --- 1. the storage and the study --------------------------------------------------------------
def _check_storage(cfg: CampaignConfig, out: Preflight, restart: bool) -> None:
    from .._ledger._ledger import Ledger
    from .._ledger._storage import make_storage

    url, shown = cfg.storage, cfg.redacted_storage
    for prefix in ("sqlite:///", "journal:///"):
        if url.startswith(prefix) and not Path(url[len(prefix):]).exists():
            folder = _existing_parent(Path(url[len(prefix):]))
            if not os.access(folder, os.W_OK):
                out.problems.append(f"storage {shown}: cannot create the file (folder "
                                    f"{str(folder)!r} is not writable)")
            else:
                out.lines.append(("storage", f"{shown}: new study (the file is created by "
                                             f"`scout run`)"))
            return
    try:
        storage = make_storage(url, max_retries=cfg.campaign.max_retries, connect_attempts=2)
    except ValueError as exc:
        out.problems.append(str(exc))
        return
    if not study_exists(storage, cfg.name):
        out.lines.append(("storage", f"{shown}: reachable; new study"))
        return
    ledger = Ledger(storage, cfg.name, pool_size=0, direction=cfg.campaign.direction or
                    "minimize")
    attrs = ledger.attrs()
    done = completed_count(storage, cfg.name)
    if restart:
        if done:
            out.problems.append(f"campaign {cfg.name!r} has {done} completed simulations; "
                                f"--restart would discard them")
        out.study = "restart"
        out.lines.append(("storage", f"{shown}: the study exists ({done} completed); "
                                     f"--restart starts it afresh"))
    elif HASH_KEY not in attrs:
        out.lines.append(("storage", f"{shown}: the study exists but is not set up; "
                                     f"`scout run` sets it up"))
    elif attrs[HASH_KEY] != config_hash(cfg):
        out.study = "changed"
        out.problems.append(config_changed_message(cfg, ledger, attrs))
    else:
        out.study = "resume"
        out.lines.append(("storage", f"{shown}: the study exists ({done} completed); "
                                     f"`scout run` resumes it"))


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- 2. the pool ------------------------------------------------------------------------------
def _check_pool(cfg: CampaignConfig, out: Preflight) -> Any:
    from .._pool._check import check_pool

    try:
        found = check_pool(cfg.pool)
    except (ValueError, FileNotFoundError) as exc:
        out.problems.append(f"pool: {exc}")
        return None
    out.pool_size = found.size
    source = f" from {found.path.name} ({found.format})" if found.path is not None else \
        " (a combinatorial library)"
    if found.bad:
        out.problems.append(found.message())
        checked = f"{len(found.bad)} unusable"
    else:
        checked = "every SMILES parsed" if found.kind == "molecules" else "read"
    out.lines.append(("pool", f"{found.size} {found.kind}{source}; {checked}"))
    return found.pool


# --- 3. the parts -----------------------------------------------------------------------------
def _build(what: str, make: Any, out: Preflight) -> Any:
    """``make()``, or ``None`` with one problem line naming ``what`` and the reason."""
    try:
        return make()
    except Exception as exc:  # a mis-configured part: SimulationError, ValueError, TypeError…
        text = str(exc).strip().splitlines()
        out.problems.append(f"{what}: {text[0] if text else type(exc).__name__}")
        return None


def _check_simulators(cfg: CampaignConfig, out: Preflight) -> Any:
    sim_cfg, camp = cfg.simulator, cfg.campaign
    sim = _build(f"simulator {sim_cfg.kind!r}", sim_cfg.build, out)
    info = sim_cfg.simulator_class.target_info(camp.objective)
    goal = camp.direction or f"into the window {list(camp.target or ())}"
    if sim is not None:
        out.lines.append(("judge", f"{sim!r}: objective {info.label}, {goal}"))
    if cfg.fidelity is not None:
        fid = cfg.fidelity
        cheap = _build(f"fidelity simulator {fid.simulator.kind!r}", fid.simulator.build, out)
        if cheap is not None:
            obj = fid.objective or camp.objective
            out.lines.append(("cheap judge", f"{cheap!r}: {obj} pre-screens each shortlist"))
    return sim


def _check_models(cfg: CampaignConfig, out: Preflight) -> None:
    sur = cfg.surrogate
    if _build(f"surrogate {sur.kind!r}", lambda: sur.build(random_state=0), out) is None:
        return
    text = f"{sur.kind} × {sur.ensemble} (ensemble)" if sur.ensemble > 1 else sur.kind
    out.lines.append(("scout", f"{text}, retrained every round on all completed simulations"))
    comp = cfg.compression
    if comp.enabled:
        if _build("compression.student", comp.build_student, out) is None:
            return
        student = comp.student.get("kind", "the default student") if comp.student else \
            "the default student"
        out.lines.append(("screener", f"{student} distilled from the scout screens the whole "
                                      f"pool; the best {comp.screen_fraction:.0%} is re-ranked "
                                      f"by the scout"))


# --- 4. what it does and costs ----------------------------------------------------------------
def _rounds(cfg: CampaignConfig, pool_size: int | None) -> tuple[int, int, int]:
    """(simulations at most, model rounds at most, initial design size)."""
    camp = cfg.campaign
    budget = camp.budget if pool_size is None else min(camp.budget, pool_size)
    initial = min(camp.initial, budget)
    model_rounds = math.ceil((budget - initial) / camp.batch_size)
    if camp.rounds is not None:
        model_rounds = min(model_rounds, camp.rounds - 1)
    return min(budget, initial + model_rounds * camp.batch_size), model_rounds, initial


def _describe_plan(cfg: CampaignConfig, out: Preflight) -> None:
    camp, acq = cfg.campaign, cfg.acquisition
    _, model_rounds, initial = _rounds(cfg, out.pool_size)
    text = f"round 0: {initial} candidates ({acq.initial_design} initial design)"
    if model_rounds:
        diversity = "" if acq.diversity == "none" else f", {acq.diversity} diversity"
        text += (f"; then up to {model_rounds} round(s) of {camp.batch_size} chosen by "
                 f"{acq.kind}{diversity}")
    if camp.stop_patience is not None:
        text += f"; stops early when the top-{camp.top_k} is unchanged for " \
                f"{camp.stop_patience} rounds"
    out.lines.append(("plan", text))
    ex = cfg.executor
    where = "in-process (the coordinator simulates)" if ex.kind == "local" and \
        ex.n_workers <= 1 else f"{ex.n_workers} {ex.kind} workers"
    timeout = "" if camp.timeout is None else f"; each simulation at most {camp.timeout:g} s"
    out.lines.append(("workers", where + timeout))


def _describe_cost(cfg: CampaignConfig, out: Preflight) -> None:
    sims, model_rounds, _ = _rounds(cfg, out.pool_size)
    share = f" ({sims / out.pool_size:.0%} of the pool)" if out.pool_size else ""
    text = f"at most {sims} simulations of {cfg.simulator.kind}{share}"
    if cfg.fidelity is not None:
        per = cfg.fidelity.per_round or 4 * cfg.campaign.batch_size
        text += (f", plus up to {per} cheap {cfg.fidelity.simulator.kind} simulations in each "
                 f"of {model_rounds} model round(s)")
    if out.seconds_per_simulation is not None:
        total = sims * out.seconds_per_simulation
        text += (f"; ≈ {out.seconds_per_simulation:.3g} s each (measured) → "
                 f"≈ {_duration(total)} of simulation on one worker")
    else:
        text += "; `scout check --probe 1` times one"
    out.lines.append(("cost", text))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _probe(cfg: CampaignConfig, out: Preflight, pool: Any, sim: Any, n: int) -> None:
    """Simulate the first ``n`` usable candidates once each; record the mean seconds."""
    from .._pool._check import smiles_problem

    picked = []
    for i in range(len(pool)):
        if len(picked) == n:
            break
        if pool.kind == "molecules" and pool.simulator_input == "smiles" and \
                smiles_problem(pool.get([i], "smiles")[0]) is not None:
            continue
        picked.append(i)
    seconds, failures = [], []
    sim.setup()
    try:
        for i in picked:
            t0 = time.perf_counter()
            result = sim.evaluate([pool.get([i], "simulator")[0]])[0]
            seconds.append(time.perf_counter() - t0)
            if not result.ok:
                failures.append(f"{pool.ids[i]}: {result.error}")
    finally:
        sim.teardown()
    if seconds:
        out.seconds_per_simulation = float(sum(seconds) / len(seconds))
        note = f"; failed: {'; '.join(failures)}" if failures else ""
        out.lines.append(("probe", f"{len(seconds)} simulation(s) of {cfg.simulator.kind}: "
                                   f"{out.seconds_per_simulation:.3g} s each{note}"))
