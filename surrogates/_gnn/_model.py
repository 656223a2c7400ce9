"""The network: embedding → interaction layers → per-atom readouts → structure outputs.

Scalar targets (energy, gap, energy per atom, …)::

    y_G = Σ_{i∈G} ( s · o_i + e_{z_i} )          extensive (energy)
    y_G = 1/n_G Σ_{i∈G} ( s · o_i + e_{z_i} )    intensive (gap, energy per atom)
    y_G = Σ_{i∈G} w_i s · o_i + 1/n_G Σ_{i∈G} e_{z_i}   intensive with attention pooling

where ``o_i = Σ_layers Linear_l(h_i^l)`` is the invariant (0e) per-atom output, ``s`` a fixed
scale (from the training labels), ``w_i = softmax_{i∈G}(a_i)`` weights from a learned
invariant score ``a_i`` of the last layer's features (a frontier-orbital property such as the
gap is set by a few atoms of the chromophore, which a plain mean dilutes) and ``e_z``
per-element reference values fitted by least squares before training (:func:`fit_reference`).
The reference part is added in float64 by the estimator, so the network (any dtype) only
learns the small residual. Forces are
``−∂E/∂x`` by autograd (:func:`energy_and_forces`), never a separate head.

Dipole (vector target, e·Å)::

    μ_G = Σ_{i∈G} ( (q_i − q̄_G)(x_i − x̄_G) + p_i )

with invariant charges ``q_i`` (0e) and equivariant atomic dipoles ``p_i`` (1o) from the last
layer: neutral by construction, so independent of the origin, and it rotates with the molecule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from e3nn import o3
from torch import nn

from ._graph import Graph
from ._layers import BesselBasis, Interaction, PolynomialCutoff

__all__ = ["GNNConfig", "GNNModule", "energy_and_forces", "fit_reference"]


@dataclass
class GNNConfig:
    """Everything needed to rebuild a :class:`GNNModule` (stored as JSON in model files).

    ``hidden_irreps`` has one entry per interaction layer, so a pruned network with other
    multiplicities per layer is just another config.
    """

    n_species: int
    hidden_irreps: list[str]
    embed_channels: int
    lmax: int
    cutoff: float
    n_radial: int
    avg_num_neighbors: float
    vector: bool = False  # dipole head instead of the scalar head
    extensive: bool = True
    radial_hidden: int = 64
    scale: float = 1.0
    attention: bool = False  # softmax-weighted pooling of an intensive scalar head

    def to_json(self) -> dict:
        return asdict(self)


def _sh_irreps(lmax: int) -> o3.Irreps:
    return o3.Irreps.spherical_harmonics(lmax)


class GNNModule(nn.Module):
    """E(3)-equivariant message-passing network over a batched :class:`Graph`.

    ``forward(graph)`` returns the per-structure residual output: shape (n_graphs,) for a
    scalar head (the reference part excluded, see module docstring) or (n_graphs, 3) for the
    dipole head.
    """

    def __init__(self, config: GNNConfig) -> None:
        super().__init__()
        self.config = config
        sh = _sh_irreps(config.lmax)
        self.spherical_harmonics = o3.SphericalHarmonics(sh, normalize=True,
                                                         normalization="component")
        self.radial_basis = BesselBasis(config.cutoff, config.n_radial)
        self.envelope = PolynomialCutoff(config.cutoff)
        self.embedding = o3.Linear(o3.Irreps(f"{config.n_species}x0e"),
                                   o3.Irreps(f"{config.embed_channels}x0e"))
        irreps_in = f"{config.embed_channels}x0e"
        self.layers = nn.ModuleList()
        self.readouts = nn.ModuleList()
        for irreps in config.hidden_irreps:
            self.layers.append(Interaction(irreps_in, irreps, str(sh), config.n_species,
                                           config.n_radial, config.radial_hidden,
                                           config.avg_num_neighbors))
            self.readouts.append(o3.Linear(irreps, "1x0e"))
            irreps_in = irreps
        self.vector_readout = o3.Linear(irreps_in, "1x0e + 1x1o") if config.vector else None
        self.attention = o3.Linear(irreps_in, "1x0e") \
            if config.attention and not config.vector else None

    def atom_features(self, graph: Graph) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(N, n_species) one-hot attributes and the features after each layer."""
        vec = graph.edge_vectors()  # [E, 3]
        r = vec.norm(dim=-1)  # [E]
        sh = self.spherical_harmonics(vec)  # [E, (lmax+1)^2]
        radial = self.radial_basis(r)  # [E, n_radial]
        envelope = self.envelope(r)  # [E]
        attrs = nn.functional.one_hot(graph.species, self.config.n_species).to(vec.dtype)
        h = self.embedding(attrs)
        features = []
        for layer in self.layers:
            h = layer(h, attrs, graph.src, graph.dst, sh, radial, envelope)
            features.append(h)
        return attrs, features

    def _atomic(self, features: list[torch.Tensor]) -> torch.Tensor:
        """(N,) scaled invariant per-atom residuals ``s · o_i`` from the layers' features."""
        out = sum(readout(h) for readout, h in zip(self.readouts, features))
        return self.config.scale * out.squeeze(-1)  # [N]

    def forward(self, graph: Graph) -> torch.Tensor:
        if self.vector_readout is not None:
            return self._dipole(graph)
        _, features = self.atom_features(graph)
        atomic = self._atomic(features)  # [N]
        G = graph.n_graphs
        if self.attention is not None:  # intensive: softmax weights within each structure
            return _segment_softmax_sum(self.attention(features[-1]).squeeze(-1), atomic,
                                        graph.batch, G)
        total = torch.zeros(G, dtype=atomic.dtype, device=atomic.device)
        total = total.index_add(0, graph.batch, atomic)  # [G]
        if not self.config.extensive:
            total = total / graph.n_atoms.to(total.dtype)
        return total

    def _dipole(self, graph: Graph) -> torch.Tensor:
        _, features = self.atom_features(graph)
        out = self.vector_readout(features[-1])  # [N, 1 + 3]
        q, p = out[:, 0], out[:, 1:]  # [N], [N, 3]
        n = graph.n_atoms.to(q.dtype)  # [G]
        G, dev, dt = graph.n_graphs, q.device, q.dtype
        q_mean = torch.zeros(G, dtype=dt, device=dev).index_add(0, graph.batch, q) / n
        x = graph.positions
        x_mean = torch.zeros(G, 3, dtype=dt, device=dev).index_add(0, graph.batch, x)
        x_mean = x_mean / n.unsqueeze(-1)
        local = (q - q_mean[graph.batch]).unsqueeze(-1) * (x - x_mean[graph.batch]) + p
        return self.config.scale * torch.zeros(G, 3, dtype=dt, device=dev).index_add(
            0, graph.batch, local)  # [G, 3]


def _segment_softmax_sum(score: torch.Tensor, value: torch.Tensor, batch: torch.Tensor,
                         n_graphs: int) -> torch.Tensor:
    """``Σ_{i∈G} softmax_{i∈G}(score)_i · value_i`` per structure: (N,), (N,) → (G,)."""
    top = torch.full((n_graphs,), -torch.inf, dtype=score.dtype, device=score.device)
    top = top.scatter_reduce(0, batch, score, reduce="amax", include_self=True)
    w = torch.exp(score - top[batch].detach())  # shift by the max: no overflow, same softmax
    zeros = torch.zeros(n_graphs, dtype=score.dtype, device=score.device)
    return zeros.index_add(0, batch, w * value) / zeros.index_add(0, batch, w)


def energy_and_forces(module: GNNModule, graph: Graph,
                      create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual energies (n_graphs,) and forces (N, 3) = −∂E/∂x by autograd (eV, eV/Å).

    The reference energies do not depend on positions, so these forces are the full forces.
    """
    positions = graph.positions.detach().requires_grad_(True)
    graph.positions = positions
    energy = module(graph)
    (grad,) = torch.autograd.grad(energy.sum(), positions, create_graph=create_graph)
    return energy, -grad


def fit_reference(counts: np.ndarray, y: np.ndarray, extensive: bool) -> np.ndarray:
    """Per-element reference values by least squares, in float64.

    Args:
        counts: (n_structures, n_species) number of atoms of each element.
        y: (n_structures,) labels (eV for energy).
        extensive: fit ``y ≈ counts @ e`` (energy) or ``y ≈ (counts / n) @ e`` (intensive).

    Returns:
        (n_species,) reference values ``e_z``; the minimum-norm solution when compositions do
        not determine them (e.g. one molecule's conformers).
    """
    A = np.asarray(counts, dtype=float)
    if not extensive:
        A = A / A.sum(axis=1, keepdims=True)
    return np.linalg.lstsq(A, np.asarray(y, dtype=float), rcond=None)[0]
