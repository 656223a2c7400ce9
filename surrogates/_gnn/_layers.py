"""Building blocks: radial basis with a smooth cutoff, and the e3nn interaction block.

Every block is composed of small e3nn parts (``o3.Linear``, ``o3.TensorProduct`` with
explicit instructions, ``o3.FullyConnectedTensorProduct``, ``nn.Gate``) over ``o3.Irreps``, so
a pruner can rebuild a block with fewer multiplicities just by passing other irreps.
"""

from __future__ import annotations

import math

import torch
from e3nn import o3
from e3nn.nn import FullyConnectedNet, Gate
from torch import nn

__all__ = ["BesselBasis", "Interaction", "PolynomialCutoff", "gate_for", "hidden_irreps"]


def hidden_irreps(channels: int, lmax: int) -> str:
    """``channels`` copies of every l ≤ lmax with the parity of spherical harmonics:
    ``"32x0e + 32x1o + 32x2e"`` for (32, 2)."""
    if channels < 1 or lmax < 0:
        raise ValueError(f"need channels >= 1 and lmax >= 0, got {channels}, {lmax}")
    return " + ".join(f"{channels}x{ell}{'e' if ell % 2 == 0 else 'o'}" for ell in range(lmax + 1))


class BesselBasis(nn.Module):
    """``b_n(r) = sqrt(2/c) · sin(nπ r / c) / r`` for n = 1..n_radial; r, c in Å.

    Input (E,) distances → output (E, n_radial). Frequencies are fixed (not trained).
    """

    def __init__(self, cutoff: float, n_radial: int) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        self.register_buffer("freq", torch.arange(1, n_radial + 1) * math.pi / self.cutoff)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        r = r.unsqueeze(-1)  # [E, 1]
        return math.sqrt(2.0 / self.cutoff) * torch.sin(self.freq * r) / r  # [E, n_radial]


class PolynomialCutoff(nn.Module):
    """Smooth envelope ``f(x) = 1 − (p+1)(p+2)/2 xᵖ + p(p+2) xᵖ⁺¹ − p(p+1)/2 xᵖ⁺²``, x = r/c.

    f(0) = 1; f, f' and f'' vanish at r = c, so energies and forces are continuous when a
    neighbour crosses the cutoff (Klicpera et al., DimeNet, 2020). Zero beyond c.
    """

    def __init__(self, cutoff: float, p: int = 6) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        self.p = int(p)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        p, x = self.p, r / self.cutoff
        f = (1.0 - (p + 1) * (p + 2) / 2 * x**p + p * (p + 2) * x ** (p + 1)
             - p * (p + 1) / 2 * x ** (p + 2))
        return f * (x < 1.0)


def gate_for(irreps_out: o3.Irreps) -> Gate:
    """A gated non-linearity whose output is ``irreps_out``: SiLU on even scalars, tanh on
    odd scalars, and each l > 0 irrep multiplied by a sigmoid gate scalar."""
    irreps_out = o3.Irreps(irreps_out)
    scalars = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l == 0])
    gated = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l > 0])
    acts = [nn.functional.silu if ir.p == 1 else torch.tanh for _, ir in scalars]
    gates = o3.Irreps(f"{gated.num_irreps}x0e") if gated.num_irreps else o3.Irreps("")
    return Gate(scalars, acts, gates, [torch.sigmoid] * len(gates), gated)


class Interaction(nn.Module):
    """One equivariant message-passing layer (NequIP-style convolution).

    For centre i with neighbours j (r_ij within the cutoff)::

        m_i = 1/⟨n⟩ Σ_j  TP( W₁ h_j ,  Y(r̂_ij) ;  R(|r_ij|) · f_cut(|r_ij|) )
        h_i' = Gate( W₂ m_i + SC(h_i, onehot(z_i)) )

    ``TP`` is an ``o3.TensorProduct`` with explicit "uvu" instructions (one path per pair of
    input irreps whose product contains an output irrep) whose weights per edge come from the
    radial MLP ``R``; ``SC`` is a species-dependent self-connection; ⟨n⟩ the average number of
    neighbours in the training set.

    Shapes: ``h`` (N, irreps_in.dim) → (N, irreps_out.dim).
    """

    def __init__(self, irreps_in: str, irreps_out: str, irreps_sh: str, n_species: int,
                 n_radial: int, radial_hidden: int, avg_num_neighbors: float) -> None:
        super().__init__()
        self.irreps_in = o3.Irreps(irreps_in)
        self.irreps_out = o3.Irreps(irreps_out)
        irreps_sh = o3.Irreps(irreps_sh)
        self.avg_num_neighbors = float(avg_num_neighbors)
        wanted = {ir for _, ir in self.irreps_out}
        mid, instructions = [], []
        for i, (mul, ir_in) in enumerate(self.irreps_in):
            for j, (_, ir_sh) in enumerate(irreps_sh):
                for ir in ir_in * ir_sh:
                    if ir in wanted:
                        instructions.append((i, j, len(mid), "uvu", True))
                        mid.append((mul, ir))
        self.linear_up = o3.Linear(self.irreps_in, self.irreps_in)
        self.tp = o3.TensorProduct(self.irreps_in, irreps_sh, o3.Irreps(mid), instructions,
                                   shared_weights=False, internal_weights=False)
        self.radial = FullyConnectedNet([n_radial, radial_hidden, self.tp.weight_numel],
                                        nn.functional.silu)
        self.gate = gate_for(self.irreps_out)
        self.linear_down = o3.Linear(self.tp.irreps_out, self.gate.irreps_in)
        self.self_connection = o3.FullyConnectedTensorProduct(
            self.irreps_in, o3.Irreps(f"{n_species}x0e"), self.gate.irreps_in)

    def forward(self, h: torch.Tensor, attrs: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                sh: torch.Tensor, radial: torch.Tensor, envelope: torch.Tensor) -> torch.Tensor:
        """``h`` (N, in), ``attrs`` (N, n_species) one-hot, ``sh`` (E, sh), ``radial``
        (E, n_radial), ``envelope`` (E,) → (N, out)."""
        weights = self.radial(radial) * envelope.unsqueeze(-1)  # [E, weight_numel]
        msg = self.tp(self.linear_up(h)[src], sh, weights)  # [E, mid]
        agg = torch.zeros(h.shape[0], msg.shape[1], dtype=msg.dtype, device=msg.device)
        agg = agg.index_add(0, dst, msg) / self.avg_num_neighbors  # [N, mid]
        return self.gate(self.linear_down(agg) + self.self_connection(h, attrs))
