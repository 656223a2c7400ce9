"""The E(3)-equivariant GNN surrogate (private; ``EquivariantGNN`` is re-exported by
``surrogates``)."""

from ._estimator import EquivariantGNN

__all__ = ["EquivariantGNN"]
