"""Any ASE calculator as the judge: EMT, Lennard-Jones, or a user's own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import ase
import numpy as np

from ._base import CandidateError, SimulationError, Simulator, register_simulator
from ._molecules import structure_values, to_atoms

__all__ = ["ASESimulator"]


def _emt(**kwargs: Any) -> Any:
    from ase.calculators.emt import EMT

    return EMT(**kwargs)


def _lj(**kwargs: Any) -> Any:
    from ase.calculators.lj import LennardJones

    return LennardJones(**kwargs)


#: built-in calculators by name; anything else is passed as a factory
_CALCULATORS: dict[str, Callable[..., Any]] = {"emt": _emt, "lj": _lj}

#: targets read from the calculator, with the ASE getter used for each
_GETTERS: dict[str, Callable[[ase.Atoms], Any]] = {
    "energy": lambda a: a.get_potential_energy(),
    "forces": lambda a: a.get_forces(),
    "stress": lambda a: a.get_stress(),
    "dipole": lambda a: a.get_dipole_moment(),
    "charges": lambda a: a.get_charges(),
    "energies": lambda a: a.get_potential_energies(),
    "energy_per_atom": lambda a: a.get_potential_energy() / len(a),
}


@register_simulator("ase")
class ASESimulator(Simulator):
    """Wrap an ASE calculator so any code with an ASE interface can be the simulator.

    Args:
        calculator: ``"emt"``, ``"lj"``, or a callable taking ``**calc_kwargs`` and returning a
            fresh ``ase.calculators.calculator.Calculator`` (one per candidate, so no state
            leaks between candidates).
        targets: values to return, from ``energy`` (eV), ``energy_per_atom`` (eV), ``forces``
            (``[n_atoms, 3]`` eV/Å), ``stress`` (``[6]`` eV/Å³, Voigt), ``dipole`` (``[3]``
            e·Å), ``charges`` and ``energies`` (``[n_atoms]``). Every result also holds the
            structure (``numbers``, ``positions`` in Å) its values belong to.
        seed: embedding seed when a candidate is a SMILES string.
        **calc_kwargs: passed to the calculator factory (e.g. ``sigma``, ``epsilon`` for LJ).

    A calculator that raises for a candidate (an element EMT does not know, say) gives a
    failed result with the calculator's message.
    """

    input_kind: ClassVar[str] = "atoms"

    @classmethod
    def targets_for(cls, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The ``targets`` option (default energy and forces)."""
        targets = options.get("targets", ("energy", "forces"))
        return (targets,) if isinstance(targets, str) else tuple(targets)

    def __init__(
        self,
        calculator: str | Callable[..., Any] = "emt",
        targets: Sequence[str] = ("energy", "forces"),
        seed: int = 0,
        **calc_kwargs: Any,
    ) -> None:
        if isinstance(calculator, str):
            if calculator.lower() not in _CALCULATORS:
                raise SimulationError(
                    f"unknown ASE calculator {calculator!r}; choose one of "
                    f"{sorted(_CALCULATORS)} or pass a callable returning a Calculator"
                )
            factory = _CALCULATORS[calculator.lower()]
        elif callable(calculator):
            factory = calculator
        else:
            raise SimulationError(f"calculator must be a name or a callable, got {calculator!r}")
        targets = (targets,) if isinstance(targets, str) else tuple(targets)
        unknown = [t for t in targets if t not in _GETTERS]
        if not targets or unknown:
            raise SimulationError(
                f"unsupported targets {unknown or '(none)'}; choose from {sorted(_GETTERS)}"
            )
        try:
            probe = factory(**calc_kwargs)
        except TypeError as exc:
            raise SimulationError(f"cannot build calculator {calculator!r}: {exc}") from None
        implemented = set(getattr(probe, "implemented_properties", _GETTERS))
        missing = [t for t in targets if t.split("_per_atom")[0] not in implemented]
        if missing:
            raise SimulationError(
                f"calculator {type(probe).__name__} does not implement {missing}"
            )
        self.calculator = calculator
        self.targets = targets
        self.seed = int(seed)
        self.calc_kwargs = dict(calc_kwargs)
        self._factory = factory

    def __repr__(self) -> str:
        name = self.calculator if isinstance(self.calculator, str) else getattr(
            self.calculator, "__name__", type(self.calculator).__name__)
        return f"ASESimulator(calculator={name!r}, targets={self.targets})"

    def evaluate_one(self, candidate: ase.Atoms | str) -> Mapping[str, Any]:
        atoms = to_atoms(candidate, seed=self.seed)
        atoms.calc = self._factory(**self.calc_kwargs)
        values = {}
        for target in self.targets:
            try:
                values[target] = np.asarray(_GETTERS[target](atoms), dtype=float)
            except Exception as exc:  # calculators signal a bad structure in many ways
                message = str(exc).strip() or type(exc).__name__
                raise CandidateError(
                    f"{type(atoms.calc).__name__} failed on {atoms.get_chemical_formula()} "
                    f"({target}): {message}"
                ) from None
        return {**{k: (float(v) if v.ndim == 0 else v) for k, v in values.items()},
                **structure_values(atoms)}
