"""The model-side sections of a campaign config: ``[simulator]``, ``[fidelity]``,
``[surrogate]``, ``[compression]`` and ``[acquisition]`` (frozen dataclasses).

A simulator or surrogate section holds a registered ``kind`` and that class's constructor
options, checked against the options the class declares (``option_names()``; an unknown option
names ``section.key`` and the allowed keys) and their declared types (``option_types()``:
``relax = "false"`` is refused, see :mod:`._option_types`). What a simulator reads and returns comes from its
class's declarations (``input_kind``, ``targets_for(options)``), never from its kind's name.
Options named ``path``/``*_path``/``*_file`` are files: resolved against the config's folder
and checked to exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._acquisition._functions import ACQUISITIONS
from ._option_types import check_option_types
from ._values import (
    check_keys,
    freeze,
    read_bool,
    read_choice,
    read_float,
    read_int,
    read_path,
    read_str,
    read_str_list,
    read_table,
    thaw,
)

__all__ = [
    "AcquisitionConfig",
    "CompressionConfig",
    "FidelityConfig",
    "SimulatorConfig",
    "SurrogateConfig",
    "check_fidelity_inputs",
    "check_objective",
]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


def _check_options(where: str, options: Mapping[str, Any], cls: Any,
                   reserved: tuple[str, ...] = ()) -> None:
    """Names against ``cls.option_names()``, values against ``cls.option_types()``."""
    names, open_ended = cls.option_names()
    if not open_ended:
        check_keys(where, options, names | {"kind", *reserved})
    check_option_types(where, {k: v for k, v in options.items()
                               if k != "kind" and k not in reserved}, cls.option_types())


def _resolve_option_paths(where: str, options: dict[str, Any], base_dir: Path) -> None:
    """Options named ``path`` or ``*_path``/``*_file`` are files the user named: resolve them."""
    for key, value in options.items():
        if key == "path" or key.endswith(("_path", "_file")):
            options[key] = str(read_path(f"{where}.{key}", value, base_dir))


def _simulator_class(where: str, kind: str) -> Any:
    from physics import SIMULATORS  # importing physics registers the built-in simulators
    if kind not in SIMULATORS:
        raise ValueError(f"{where}.kind = {kind!r} is not a known simulator; choose one of: "
                         f"{', '.join(sorted(SIMULATORS)) or '(none registered)'}")
    return SIMULATORS[kind]


def check_objective(name: str, objective: str, simulator: SimulatorConfig) -> None:
    """The objective must be a target the simulator returns, where its class declares them
    (``targets_for(options)``; an empty declaration means "not known up front")."""
    known = simulator.targets
    if known and objective not in known:
        raise ValueError(f"{name} = {objective!r} is not a target of simulator "
                         f"{simulator.kind!r}; it returns: {', '.join(map(str, known))}")


def check_fidelity_inputs(fidelity: FidelityConfig, surrogate_kind: Any) -> None:
    """``fidelity.inputs`` needs a surrogate that reads extra inputs (``extra_inputs``)."""
    import surrogates

    if not fidelity.inputs or surrogate_kind not in surrogates.SURROGATES:
        return  # no inputs, or an unknown kind the [surrogate] check names
    names, _ = surrogates.SURROGATES[surrogate_kind].option_names()
    if "extra_inputs" not in names:
        takes = sorted(k for k in surrogates.SURROGATES
                       if "extra_inputs" in surrogates.SURROGATES[k].option_names()[0])
        raise ValueError(f"fidelity.inputs = {list(fidelity.inputs)}: surrogate kind "
                         f"{surrogate_kind!r} cannot read the cheap judge's values; kinds that "
                         f"can: {', '.join(takes) or '(none)'}")


@dataclass(frozen=True)
class SimulatorConfig:
    """``[simulator]`` (or ``[fidelity]``): a registered kind and its constructor options."""

    kind: str
    options: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path, where: str = "simulator",
                  reserved: tuple[str, ...] = ()) -> SimulatorConfig:
        kind = read_str(where, data, "kind")
        sim_cls = _simulator_class(where, kind)
        options = {k: v for k, v in data.items() if k != "kind" and k not in reserved}
        _check_options(where, options, sim_cls, reserved)
        _resolve_option_paths(where, options, base_dir)
        return cls(kind=kind, options=freeze(where, options))

    @property
    def simulator_class(self) -> Any:
        """The registered simulator class of ``kind``."""
        return _simulator_class("simulator", self.kind)

    @property
    def input_kind(self) -> str:
        """What the simulator reads, as its class declares (``physics.INPUT_KINDS``)."""
        return str(self.simulator_class.input_kind)

    @property
    def targets(self) -> tuple[str, ...]:
        """The values the simulator returns with these options (its class's declaration)."""
        return tuple(self.simulator_class.targets_for(thaw(self.options)))

    def build(self) -> Any:
        """The simulator: ``physics.make_simulator(kind, **options)``."""
        from physics import make_simulator

        return make_simulator(self.kind, **thaw(self.options))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **thaw(self.options)}


@dataclass(frozen=True)
class FidelityConfig:
    """``[fidelity]``: a cheap simulator that narrows the choice for the expensive one.

    - ``objective``: the cheap value that matches the campaign's objective (default: the same
      name);
    - ``per_round``: cheap evaluations per round on the teacher's shortlist (default 4 ×
      batch_size, decided by the loop when ``None``);
    - ``sweep``: share of the pool the cheap judge covers. ``1`` evaluates the whole pool
      before the first model round, and every round then chooses among the swept candidates;
      ``0 < sweep < 1`` widens each round's shortlist to that share of the untried pool;
      ``0`` (the default) keeps the ``per_round`` shortlist;
    - ``use_as_feature``: Δ-learning: the teacher learns ``expensive − cheap`` and predicts
      ``cheap + Δ̂`` (the two must measure one quantity in one unit);
    - ``inputs``: cheap values the teacher reads as inputs (e.g. ``["gap", "homo", "lumo",
      "dipole"]``; a vector enters as its norm); needs a surrogate with ``extra_inputs``.
    """

    simulator: SimulatorConfig
    objective: str | None = None
    per_round: int | None = None
    use_as_feature: bool = True
    sweep: float = 0.0
    inputs: tuple[str, ...] = ()

    _RESERVED = ("objective", "per_round", "use_as_feature", "sweep", "inputs")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path) -> FidelityConfig:
        w = "fidelity"
        simulator = SimulatorConfig.from_dict(data, base_dir, w, cls._RESERVED)
        inputs = read_str_list(w, data, "inputs", pattern=r"[A-Za-z_][A-Za-z0-9_]*",
                               what="a value name")
        known = simulator.targets
        unknown = [name for name in inputs if known and name not in known]
        if unknown:
            raise ValueError(f"fidelity.inputs: {unknown[0]!r} is not a value the cheap "
                             f"simulator {simulator.kind!r} returns; it returns: "
                             f"{', '.join(known)}")
        return cls(
            simulator=simulator,
            objective=read_str(w, data, "objective", None),
            per_round=read_int(w, data, "per_round", None, minimum=1),
            use_as_feature=read_bool(w, data, "use_as_feature", True),
            sweep=read_float(w, data, "sweep", 0.0, minimum=0.0, maximum=1.0),
            inputs=inputs,
        )

    def to_dict(self) -> dict[str, Any]:
        out = self.simulator.to_dict()
        out.update({k: v for k, v in (("objective", self.objective),
                                      ("per_round", self.per_round)) if v is not None})
        out["use_as_feature"] = self.use_as_feature
        if self.sweep:  # keys at their defaults stay out: older campaigns keep their hash
            out["sweep"] = self.sweep
        if self.inputs:
            out["inputs"] = list(self.inputs)
        return out


@dataclass(frozen=True)
class SurrogateConfig:
    """``[surrogate]``: a kind from ``surrogates.SURROGATES``, ensemble size K, model options."""

    kind: str
    ensemble: int = 5
    options: Mapping[str, Any] = field(default_factory=_empty)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path) -> SurrogateConfig:
        w = "surrogate"
        kind = read_str(w, data, "kind")
        import surrogates  # lazy: torch and the models load only when a config is checked

        if kind not in surrogates.SURROGATES:
            raise ValueError(f"surrogate.kind = {kind!r} is not a known surrogate; choose one "
                             f"of: {', '.join(sorted(surrogates.SURROGATES)) or '(none)'}")
        options = {k: v for k, v in data.items() if k not in ("kind", "ensemble")}
        _check_options(w, options, surrogates.SURROGATES[kind], ("ensemble",))
        default_k = 1 if surrogates.SURROGATES[kind].native_std else 5
        return cls(kind=kind, ensemble=read_int(w, data, "ensemble", default_k, minimum=1),
                   options=freeze(w, options))

    def build(self, random_state: int = 0, pool: Any = None,
              overrides: Mapping[str, Any] | None = None) -> Any:
        """An unfitted ``surrogates.Ensemble`` of K members (a bare model when K = 1).

        ``pool``: the campaign's pool; options the model class declares in ``pool_options``
        (e.g. every element of the pool) are taken from it unless the config sets them.
        ``overrides``: options the loop sets (the cheap judge's ``extra_inputs``).
        """
        import surrogates

        cls = surrogates.SURROGATES[self.kind]
        options = {**thaw(self.options), **(overrides or {})}
        if pool is not None:
            for key, value in pool.options_for(cls.pool_options).items():
                options.setdefault(key, value)
        model = cls(**options)
        if self.ensemble == 1:
            return model.set_params(random_state=random_state) \
                if "random_state" in model.get_params() else model
        return surrogates.Ensemble(model, n_members=self.ensemble, random_state=random_state)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ensemble": self.ensemble, **thaw(self.options)}


@dataclass(frozen=True)
class CompressionConfig:
    """``[compression]``: distil the teacher ensemble into a pruned (optionally quantised)
    student that screens the whole pool; the top ``screen_fraction`` is re-ranked by the
    teacher. ``student`` is empty (the default student for the teacher) or a table with a
    surrogate ``kind`` and that model's options; :meth:`build_student` makes it.
    ``distil_sample``: pool candidates the teacher labels each round to distil the student."""

    enabled: bool = False
    student: Mapping[str, Any] = field(default_factory=_empty)
    prune_amount: float = 0.5
    quantize: bool = False
    screen_fraction: float = 0.05
    distil_sample: int = 4096

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path) -> CompressionConfig:
        w = "compression"
        check_keys(w, data, [f.name for f in fields(cls)])
        return cls(
            enabled=read_bool(w, data, "enabled", False),
            student=_read_student(read_table(w, data, "student")),
            prune_amount=read_float(w, data, "prune_amount", 0.5, minimum=0.0, maximum=0.99),
            quantize=read_bool(w, data, "quantize", False),
            screen_fraction=read_float(w, data, "screen_fraction", 0.05, minimum=1e-9,
                                       maximum=1.0),
            distil_sample=read_int(w, data, "distil_sample", 4096, minimum=10),
        )

    def build_student(self, random_state: int = 0) -> Any:
        """The unfitted student model, or ``None`` for the teacher's default student."""
        if not self.student:
            return None
        import surrogates

        options = {k: v for k, v in thaw(self.student).items() if k != "kind"}
        cls = surrogates.SURROGATES[self.student["kind"]]
        if "random_state" in cls.option_names()[0]:
            options.setdefault("random_state", random_state)
        return cls(**options)

    def to_dict(self) -> dict[str, Any]:
        out = {"enabled": self.enabled, "student": thaw(self.student),
               "prune_amount": self.prune_amount, "quantize": self.quantize,
               "screen_fraction": self.screen_fraction}
        if self.distil_sample != 4096:  # at its default it stays out: older hashes hold
            out["distil_sample"] = self.distil_sample
        return out


def _read_student(table: Mapping[str, Any]) -> Mapping[str, Any]:
    """``[compression.student]``: empty, or ``kind`` (a surrogate kind) + its options."""
    w = "compression.student"
    if not table:
        return _empty()
    kind = read_str(w, table, "kind")
    import surrogates

    if kind not in surrogates.SURROGATES:
        raise ValueError(f"{w}.kind = {kind!r} is not a known surrogate; choose one of: "
                         f"{', '.join(sorted(surrogates.SURROGATES)) or '(none)'}")
    _check_options(w, {k: v for k, v in table.items() if k != "kind"},
                   surrogates.SURROGATES[kind])
    return freeze(w, table)


@dataclass(frozen=True)
class AcquisitionConfig:
    """``[acquisition]``: kind (from ``ACQUISITIONS``), UCB's β, EI/PI's ξ, batch diversity
    (``"none"``, ``"cluster"`` or ``"penalty"``) and the initial design (``"random"`` or
    ``"diverse"``)."""

    kind: str = "ucb"
    beta: float = 2.0
    xi: float = 0.0
    diversity: str = "none"
    initial_design: str = "random"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path) -> AcquisitionConfig:
        w = "acquisition"
        check_keys(w, data, [f.name for f in fields(cls)])
        return cls(
            kind=read_choice(w, data, "kind", ACQUISITIONS, "ucb"),
            beta=read_float(w, data, "beta", 2.0, minimum=0.0),
            xi=read_float(w, data, "xi", 0.0),
            diversity=read_choice(w, data, "diversity", ("none", "cluster", "penalty"), "none"),
            initial_design=read_choice(w, data, "initial_design", ("random", "diverse"),
                                       "random"),
        )

    @property
    def diversity_or_none(self) -> str | None:
        """``diversity`` as ``select_batch`` takes it (``None`` for ``"none"``)."""
        return None if self.diversity == "none" else self.diversity

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
