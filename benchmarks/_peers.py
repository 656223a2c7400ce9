"""The tools a user would pick instead of scoutlab, run beside it in the same benchmark run.

Each peer runs in its own venv (``_common.ensure_venv``: chemprop and BayBE pin stacks
scoutlab cannot share) as a subprocess, on exactly the data and protocol our arms get:

- :func:`chemprop_campaign`: MolPAL's own model family, chemprop's D-MPNN, greedy: each round
  it is trained (CLI defaults, 50 epochs) on every value acquired so far and the untried pool's
  best predictions are acquired (``_chemprop_run.py``, one process per round);
- :func:`baybe_campaign`: BayBE with its ECFP substance encoding and default recommender, one
  process for the whole campaign (``_baybe_run.py``), under a memory and a time cap; the rounds
  it finished before a cap stopped it are kept, and the cap is reported.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import ensure_venv

__all__ = ["baybe_campaign", "chemprop_campaign"]

HERE = Path(__file__).resolve().parent


def _run(py: Path, script: str, payload: dict[str, Any], timeout: float | None = None,
         memory_gb: float | None = None) -> tuple[dict[str, Any] | None, str]:
    """Run ``script`` with ``payload`` in the peer's python; ``(output, "")`` or
    ``(partial output or None, reason it stopped)``."""
    with tempfile.TemporaryDirectory(prefix="scout-peer-") as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(payload))

        def limit() -> None:  # in the child: an address-space cap (BayBE reached 15 GB)
            if memory_gb is not None:
                cap = int(memory_gb * 2**30)
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        reason = ""
        try:
            proc = subprocess.run([str(py), str(HERE / script), str(inp), str(out)],
                                  capture_output=True, text=True, timeout=timeout,
                                  preexec_fn=limit, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                         "MKL_NUM_THREADS": "1"})
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                reason = f"exit {proc.returncode}: {' | '.join(tail)}"
        except subprocess.TimeoutExpired:
            reason = f"time cap of {timeout:.0f} s"
        result = json.loads(out.read_text()) if out.is_file() else None
        if reason and "MemoryError" in reason:
            reason = f"memory cap of {memory_gb:g} GB"
        return result, reason


def chemprop_campaign(smiles: Sequence[str], judge: Callable[[list[int]], np.ndarray],
                      initial: Sequence[int], per_round: int, rounds: int, seed: int,
                      maximize: bool, epochs: int = 50) -> dict[str, Any]:
    """Greedy chemprop campaign over pool ``smiles``; ``judge(indices)`` returns the values
    of newly acquired candidates. Returns ``indices_by_round``, ``seconds_by_round`` (the
    peer's own CPU seconds) and ``wall_by_round``, or ``error``."""
    py = ensure_venv("chemprop", ["chemprop==2.3.1"], "import chemprop")
    if py is None:
        return {"error": "chemprop venv could not be built"}
    picked = [int(i) for i in initial]
    values = list(judge(picked))
    by_round, cpu, wall = [list(picked)], [0.0], [0.0]
    for r in range(1, rounds):
        t0 = time.perf_counter()
        untried = np.setdiff1d(np.arange(len(smiles)), picked)
        out, reason = _run(py, "_chemprop_run.py", {
            "train_smiles": [smiles[i] for i in picked], "train_y": [float(v) for v in values],
            "pool_smiles": [smiles[i] for i in untried], "seed": seed * 1000 + r,
            "epochs": epochs})
        if out is None:
            return {"error": reason, "indices_by_round": by_round}
        pred = np.asarray(out["pred"], dtype=float)
        order = np.argsort(-pred if maximize else pred, kind="stable")[:per_round]
        batch = [int(i) for i in untried[order]]
        values += list(judge(batch))
        picked += batch
        by_round.append(batch)
        cpu.append(float(out["seconds"]))
        wall.append(time.perf_counter() - t0)
    return {"indices_by_round": by_round, "seconds_by_round": cpu, "wall_by_round": wall}


def baybe_campaign(ids: Sequence[str], smiles: Sequence[str], scores: Sequence[float],
                   initial: Sequence[str], per_round: int, rounds: int, seed: int,
                   direction: str, memory_gb: float = 8.0,
                   time_s: float = 3600.0) -> dict[str, Any]:
    """A BayBE campaign (see the module docstring); ``ids_by_round`` for the rounds it
    finished, ``seconds_by_round`` (BayBE's CPU seconds) and ``stopped`` (a cap, or "")."""
    py = ensure_venv("baybe", ["baybe[chem]==0.15.0"], "import baybe, skfp")
    if py is None:
        return {"error": "BayBE venv could not be built", "ids_by_round": [], "stopped": ""}
    t0 = time.perf_counter()
    out, reason = _run(py, "_baybe_run.py", {
        "ids": list(ids), "smiles": list(smiles), "scores": [float(s) for s in scores],
        "initial": list(initial), "per_round": int(per_round), "rounds": int(rounds),
        "seed": int(seed), "direction": direction}, timeout=time_s, memory_gb=memory_gb)
    out = out or {"ids_by_round": [], "seconds_by_round": []}
    out["stopped"] = reason
    out["wall_s"] = time.perf_counter() - t0
    return out
