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

from ._plugins import PluginRegistry, constructor_option_types, constructor_options

__all__ = [
    "INPUT_KINDS",
    "SIMULATORS",
    "TARGETS",
    "CandidateError",
    "SimulationError",
    "SimulationResult",
    "Simulator",
    "TargetInfo",
    "make_simulator",
    "register_simulator",
]

#: what a simulator's candidates are: 3D structures (``ase.Atoms``; SMILES are built in 3D
#: first), ids looked up in a table, sequences of one-letter residues, design vectors, or
#: ``"any"`` (the simulator takes whatever the pool hands it)
INPUT_KINDS = ("atoms", "id", "sequence", "vector", "any")


@dataclass(frozen=True)
class TargetInfo:
    """What one named value of a simulator means: the table reports, exports and plots read.

    Attributes:
        name: the value's name (``"gap"``).
        unit: its unit as printed on an axis (``"eV"``, ``"e·Å"``, ``"µM"``; ``""`` for a
            dimensionless ratio or an unknown unit).
        shape: ``"scalar"``, ``"vector"`` (a fixed small vector, e.g. the dipole),
            ``"per_atom"`` (one row per atom) or ``"curve"`` (one value per dose).
        extensive: grows with the size of the system (a total energy) or not (a gap).
        log_scale: spans decades and is read, fitted and plotted on a log axis (EC50, K).
        description: a few words for a caption.
    """

    name: str
    unit: str = ""
    shape: str = "scalar"
    extensive: bool = False
    log_scale: bool = False
    description: str = ""

    @property
    def label(self) -> str:
        """``"gap (eV)"``, or the bare name when there is no unit."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


def _targets(*infos: TargetInfo) -> dict[str, TargetInfo]:
    return {t.name: t for t in infos}


#: the values the built-in simulators return, with their units (ASE's: eV, Å; doses in µM)
TARGETS: dict[str, TargetInfo] = _targets(
    TargetInfo("energy", "eV", extensive=True, description="total energy"),
    TargetInfo("energy_per_atom", "eV", description="energy per atom"),
    TargetInfo("forces", "eV/Å", "per_atom", description="forces −∂E/∂x"),
    TargetInfo("gap", "eV", description="HOMO–LUMO gap"),
    TargetInfo("homo", "eV", description="highest occupied orbital energy"),
    TargetInfo("lumo", "eV", description="lowest unoccupied orbital energy"),
    TargetInfo("dipole", "e·Å", "vector", description="dipole moment"),
    TargetInfo("dipole_norm", "e·Å", description="dipole moment magnitude"),
    TargetInfo("positions", "Å", "per_atom", description="geometry the values belong to"),
    TargetInfo("numbers", "", "per_atom", description="atomic numbers of that geometry"),
    TargetInfo("stress", "eV/Å³", "vector", description="stress (Voigt)"),
    TargetInfo("charges", "e", "per_atom", description="atomic charges"),
    TargetInfo("energies", "eV", "per_atom", description="per-atom energies"),
    TargetInfo("response", "", "curve", description="response on the dose grid"),
    TargetInfo("response_std", "", "curve", description="cell-to-cell spread of the response"),
    TargetInfo("ec50", "µM", log_scale=True, description="dose of half-maximal response"),
    TargetInfo("K", "µM", log_scale=True, description="Hill half-saturation constant"),
    TargetInfo("Ka", "µM", log_scale=True,
               description="inducer dissociation constant, active state"),
    TargetInfo("Ki", "µM", log_scale=True,
               description="inducer dissociation constant, inactive state"),
    TargetInfo("doses", "µM", "curve", log_scale=True, description="inducer doses"),
    TargetInfo("log10_ec50", "log10 µM", description="log10 of the EC50"),
    TargetInfo("dynamic_range", "", description="saturated minus basal response"),
    TargetInfo("fold_induction", "", description="saturated over basal response"),
    TargetInfo("leakiness", "", description="response without inducer"),
    TargetInfo("saturation", "", description="response at saturating inducer"),
    TargetInfo("hill_n", "", description="effective Hill coefficient"),
)


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

    A subclass declares, at class level, what it reads (``input_kind``, one of
    :data:`INPUT_KINDS`) and what it returns (``targets``, or :meth:`targets_for` when the
    options decide), then implements :meth:`evaluate_one`; the hooks :meth:`setup` and
    :meth:`teardown` do nothing by default. Campaign configs, reports and exports read these
    declarations (never ``hasattr`` or the kind's name).
    """

    #: names of the values a successful result carries (a class default; instances whose
    #: options decide set their own, see :meth:`targets_for`)
    targets: tuple[str, ...] = ()
    #: what a candidate is (see :data:`INPUT_KINDS`)
    input_kind: ClassVar[str] = "any"
    #: units and meaning of targets beyond the common table :data:`TARGETS`
    target_units: ClassVar[Mapping[str, TargetInfo]] = {}
    #: the dose grid (µM) of a dose-response simulator's ``response``; ``None`` otherwise
    doses: np.ndarray | None = None
    #: True when :meth:`truth` knows every answer (a table of published results)
    has_truth: ClassVar[bool] = False

    @classmethod
    def targets_for(cls, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The targets a simulator built with ``options`` (a config table) returns, known
        before it is built; override when options decide them."""
        return tuple(cls.targets)

    @classmethod
    def target_info(cls, name: str) -> TargetInfo:
        """Unit and meaning of target ``name`` (an unknown name gets no unit)."""
        return cls.target_units.get(name) or TARGETS.get(name) or TargetInfo(name)

    @classmethod
    def option_names(cls) -> tuple[frozenset[str], bool]:
        """Keyword options the constructor takes, and whether it takes any (``**kwargs``)."""
        return constructor_options(cls)

    @classmethod
    def option_types(cls) -> Mapping[str, Any]:
        """The type each option must have (a config checks its values against them); by
        default the constructor's annotations. Override to declare them otherwise."""
        return constructor_option_types(cls)

    def truth(self) -> Mapping[str, Mapping[str, float]] | None:
        """Every answer the simulator knows without simulating (``{target: {id: value}}``),
        for scoring a finished campaign (reports, benchmarks); ``None`` for a real simulator.
        A campaign never calls it."""
        return None

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
