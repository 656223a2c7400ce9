"""An ASE calculator backed by a fitted ``EquivariantGNN`` (``atoms.calc = model.calculator()``)."""

from __future__ import annotations

from typing import Any, ClassVar

from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

__all__ = ["GNNCalculator"]


class GNNCalculator(Calculator):
    """Energy (eV) and forces (eV/Å) from the model; forces are −∂E/∂x by autograd, so
    energy is conserved in MD up to the integrator's error."""

    implemented_properties: ClassVar[list[str]] = ["energy", "free_energy", "forces"]

    def __init__(self, model: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    def calculate(self, atoms: Atoms | None = None, properties: Any = ("energy",),
                  system_changes: Any = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        energy, forces = self.model.predict_energy_forces([self.atoms])
        self.results = {"energy": float(energy[0]), "free_energy": float(energy[0]),
                        "forces": forces[0]}
