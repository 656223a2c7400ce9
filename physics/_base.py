"""The simulator contract: batch in, batch out, never raising for one bad candidate.

Call order for a plug-in author (like ASE's ``Calculator.calculate`` filling ``results``):

1. ``Simulator.evaluate(candidates)`` validates the batch (a non-empty sequence), then
2. calls ``self.evaluate_one(candidate)`` for each item, timing it; an item that raises
   :class:`CandidateError` (or any other exception) becomes a failed
   :class:`SimulationResult` carrying the reason, and the loop goes on.

Batched simulators (the sensor model on a GPU, say) override ``evaluate`` itself and keep the
same contract. ``SimulationError`` is raised only for a mis-configured simulator (an unknown
method, a missing table), never for a single candidate.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._plugins import PluginRegistry

__all__ = [
    "SIMULATORS",
    "CandidateError",
    "SimulationError",
    "SimulationResult",
    "Simulator",
    "make_simulator",
    "register_simulator",
]


class SimulationError(RuntimeError):
    """A simulator is mis-configured (raised at construction or for a whole batch)."""


class CandidateError(ValueError):
    """One candidate cannot be simulated; the message is the recorded reason."""


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of simulating one candidate.

    Attributes:
        ok: ``True`` when ``values`` holds results.
        values: named targets, e.g. ``energy`` (eV), ``forces`` ((n_atoms, 3) eV/Å),
            ``gap`` (eV), ``dipole`` ((3,) e·Å), ``response`` ((n_doses,) on a µM dose grid).
        error: the reason for a failure, ``None`` on success.
        seconds: wall-clock cost of this candidate.
    """

    ok: bool
    values: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @classmethod
    def success(cls, values: Mapping[str, Any], seconds: float = 0.0) -> SimulationResult:
        bad = [k for k, v in values.items() if not np.all(np.isfinite(np.asarray(v, dtype=float)))]
        if bad:
            return cls.failure(f"non-finite value for {', '.join(sorted(bad))}", seconds)
        return cls(ok=True, values=dict(values), error=None, seconds=float(seconds))

    @classmethod
    def failure(cls, error: str, seconds: float = 0.0) -> SimulationResult:
        return cls(ok=False, values={}, error=str(error) or "unknown failure", seconds=float(seconds))

    def value(self, target: str) -> float:
        """A scalar target as a float (``nan`` for a failure or a missing target)."""
        if not self.ok or target not in self.values:
            return math.nan
        return float(np.asarray(self.values[target], dtype=float).reshape(-1)[0])

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: arrays become nested lists."""
        return {
            "ok": self.ok,
            "values": {k: np.asarray(v).tolist() for k, v in self.values.items()},
            "error": self.error,
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SimulationResult:
        values = {k: np.asarray(v) if isinstance(v, list) else v for k, v in data["values"].items()}
        return cls(ok=bool(data["ok"]), values=values, error=data.get("error"),
                   seconds=float(data.get("seconds", 0.0)))


class Simulator(ABC):
    """Base class of every expensive judge.

    Subclasses set ``targets`` (the names of the values they return) and implement
    :meth:`evaluate_one`; the hooks :meth:`setup` and :meth:`teardown` do nothing by default.
    """

    #: names of the values a successful result carries
    targets: ClassVar[tuple[str, ...]] = ()

    def setup(self) -> None:
        """Hook: acquire expensive resources once (a GPU context, a table). Default: nothing."""

    def teardown(self) -> None:
        """Hook: release what :meth:`setup` acquired. Default: nothing."""

    @abstractmethod
    def evaluate_one(self, candidate: Any) -> Mapping[str, Any]:
        """Simulate one candidate and return its values; raise CandidateError with a reason."""

    def evaluate(self, candidates: Sequence[Any]) -> list[SimulationResult]:
        """Simulate a batch; one result per candidate, in order, failures included."""
        candidates = _check_batch(candidates)
        results = []
        for cand in candidates:
            t0 = time.perf_counter()
            try:
                values = self.evaluate_one(cand)
            except CandidateError as exc:
                results.append(SimulationResult.failure(str(exc), time.perf_counter() - t0))
            except (SimulationError, KeyboardInterrupt):
                raise
            except Exception as exc:  # one bad candidate never sinks the batch
                reason = f"{type(exc).__name__}: {exc}"
                results.append(SimulationResult.failure(reason, time.perf_counter() - t0))
            else:
                results.append(SimulationResult.success(values, time.perf_counter() - t0))
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_batch(candidates: Sequence[Any]) -> list[Any]:
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence):
        raise TypeError(
            f"evaluate() takes a sequence of candidates, got {type(candidates).__name__}"
        )
    if len(candidates) == 0:
        raise ValueError("evaluate() got an empty batch: pass at least one candidate")
    return list(candidates)


def _adopt_simulator(kind: str, obj: Any) -> None:
    """Register a class an entry point of ``scoutlab.simulators`` names."""
    if not (isinstance(obj, type) and issubclass(obj, Simulator)):
        raise TypeError(f"entry point {kind!r} names {obj!r}, not a Simulator subclass")
    SIMULATORS.add(kind, obj)


#: registry of simulator kinds (config ``[simulator] kind``); the CLI's choices come from here.
#: Plug-ins join through the entry point group ``scoutlab.simulators`` (see ``_plugins``).
SIMULATORS: PluginRegistry = PluginRegistry("scoutlab.simulators", "simulator",
                                            _adopt_simulator)


def register_simulator(kind: str) -> Callable[[type[Simulator]], type[Simulator]]:
    """Class decorator adding a simulator under ``kind``; duplicates are rejected."""

    def deco(cls: type[Simulator]) -> type[Simulator]:
        SIMULATORS.add(kind, cls)
        return cls

    return deco


def make_simulator(kind: str, **options: Any) -> Simulator:
    """Build a registered simulator from its kind and keyword options (a config table)."""
    if kind not in SIMULATORS:
        raise ValueError(f"unknown simulator kind {kind!r}; choose one of {sorted(SIMULATORS)}")
    try:
        return SIMULATORS[kind](**options)
    except TypeError as exc:
        raise ValueError(f"simulator {kind!r}: {exc}") from None
