"""A cheap/expensive pair of lookup tables on the synthetic landscape, and a lookup simulator
that logs every id it is asked for (so tests can count cheap calls across processes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from physics import LookupSimulator, register_simulator
from physics._base import SIMULATORS
from tests.active_learning import _fakes
from tests.active_learning._toml import write_campaign


class LoggedLookup(LookupSimulator):
    """``LookupSimulator`` that appends each id to ``<log_to>/calls.log`` (one line per call;
    ``log_to`` is a folder, so the file's changing content never enters the config hash) and
    sleeps ``sleep`` seconds per candidate."""

    def __init__(self, path: str, key_column: str = "id", value_column: str = "score",
                 log_to: str | None = None, sleep: float = 0.0) -> None:
        super().__init__(path, key_column=key_column, value_column=value_column)
        self.log_to = log_to
        self.sleep = sleep

    def evaluate_one(self, candidate: Any) -> Any:
        if self.log_to:
            with open(Path(self.log_to) / "calls.log", "a") as fh:
                fh.write(f"{candidate}\n")
        if self.sleep:
            time.sleep(self.sleep)
        return super().evaluate_one(candidate)


if "scout-test-logged-lookup" not in SIMULATORS:
    register_simulator("scout-test-logged-lookup")(LoggedLookup)


def write_tables(folder: Path, n: int = 300, noise: float = 0.05,
                 cheap_missing: float = 0.05) -> tuple[Path, Path, dict[str, float],
                                                        dict[str, float]]:
    """The designs pool (``pool.csv``), ``expensive.csv`` (y = the landscape) and
    ``cheap.csv`` (y + N(0, noise²), seeded; a ``cheap_missing`` share has no value, so the
    cheap judge fails there). Returns the two paths and both tables as dicts."""
    _fakes.write_pool(folder, n=n)
    rows = [line.split(",") for line in (folder / "pool.csv").read_text().split()[1:]]
    ids = [r[0] for r in rows]
    y = _fakes.landscape(np.array([[float(r[1]), float(r[2])] for r in rows]))
    rng = np.random.default_rng(7)
    cheap = y + rng.normal(0.0, noise, y.shape)
    cheap[rng.uniform(size=y.shape) < cheap_missing] = np.nan
    exp_path, cheap_path = folder / "expensive.csv", folder / "cheap.csv"
    exp_path.write_text("id,y\n" + "".join(f"{i},{v:.12f}\n" for i, v in zip(ids, y)))
    cheap_path.write_text("id,y\n" + "".join(f"{i},{'' if np.isnan(v) else f'{v:.12f}'}\n"
                                             for i, v in zip(ids, cheap)))
    return exp_path, cheap_path, dict(zip(ids, y)), dict(zip(ids, cheap))


def write_config(folder: Path, *, budget: int = 16, batch_size: int = 4, initial: int = 8,
                 per_round: int = 12, use_as_feature: bool = True, acquisition: str = "greedy",
                 sleep: float = 0.0, cheap_missing: float = 0.05) -> Path:
    """A multi-fidelity campaign TOML (expensive and cheap lookups, RFF ridge teacher)."""
    write_tables(folder, cheap_missing=cheap_missing)
    (folder / "cheaplog").mkdir(exist_ok=True)
    return write_campaign(folder, {
        "campaign": {"name": "mf", "objective": "y", "direction": "maximize",
                     "budget": budget, "batch_size": batch_size, "initial": initial, "seed": 0},
        "pool": {"kind": "designs", "path": "pool.csv", "id_column": "id"},
        "simulator": {"kind": "lookup", "path": "expensive.csv", "value_column": "y"},
        "fidelity": {"kind": "scout-test-logged-lookup", "path": "cheap.csv",
                     "value_column": "y", "log_to": str(folder / "cheaplog"), "sleep": sleep,
                     "per_round": per_round, "use_as_feature": use_as_feature},
        "surrogate": {"kind": "scout-test-rff", "ensemble": 4},
        "acquisition": {"kind": acquisition},
    })
