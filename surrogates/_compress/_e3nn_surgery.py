"""Network surgery on an :class:`~surrogates._gnn._model.GNNModule`: remove irrep channels.

A channel is one copy (multiplicity index) of an irrep in a feature space, e.g. channel 7 of
the ``32x1o`` block of layer 1's output: a 3-vector per atom. Removing it deletes every weight
that writes or reads it, so the e3nn blocks are rebuilt with a smaller multiplicity and the
network stays exactly equivariant (whole irreps are removed, never components).

Feature spaces of a :class:`GNNModule` with L interaction layers (``GNNConfig.hidden_irreps``
gives one irreps string per layer)::

    F_0 = embedding output (E x 0e)                         written by: embedding
    U_k = linear_up output of layer k (irreps of F_{k-1})   read by: TP paths, linear_down
    F_k = layer k output (hidden_irreps[k-1])               written by: linear_down, self-conn.

Sliced weights are rescaled by ``path_weight_old / path_weight_new`` (e3nn normalises each
path by its fan-in), so removing channels whose weights are zero leaves the function unchanged
(tested). Which channels to keep: :mod:`._e3nn_importance`; how many: :mod:`._e3nn_budget`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from e3nn import o3

from .._gnn._model import GNNModule

__all__ = [
    "GNNKeep",
    "irrep_slots",
    "per_output_channel",
    "radial_columns",
    "radial_out",
    "shrink_gnn",
]


@dataclass
class GNNKeep:
    """Kept channel indices (sorted) per slot of every feature space.

    ``f[0]``: one array for the embedding's 0e slot; ``f[k]`` (k ≥ 1): one per slot of layer
    k's output irreps; ``u[k-1]``: one per slot of layer k's ``linear_up`` output, with the
    same counts as ``f[k-1]`` (``linear_up`` maps its input irreps to themselves) but its own
    choice of channels.
    """

    f: list[list[np.ndarray]]
    u: list[list[np.ndarray]]


def irrep_slots(irreps: Any) -> list[tuple[int, o3.Irrep]]:
    return [(mul, ir) for mul, ir in o3.Irreps(irreps)]


def _irreps_str(slots: list[tuple[int, o3.Irrep]]) -> str:
    return " + ".join(f"{mul}x{ir}" for mul, ir in slots)


def _gate_in_owners(out_slots: list[tuple[int, o3.Irrep]]) -> list[np.ndarray]:
    """For each slot of ``gate.irreps_in``, the owner ``(j, c)`` (output slot, channel) of each
    of its channels, shape ``(mul, 2)``.

    Mirrors ``layers.gate_for`` + e3nn's ``Gate``: ``irreps_in = (scalars + gates + gated)``
    stably sorted by irrep, then simplified (equal neighbours merged). The gate scalar of
    gated channel c of slot j is owned by ``(j, c)`` like the channel itself.
    """
    def own(j: int, mul: int) -> np.ndarray:
        return np.stack([np.full(mul, j), np.arange(mul)], axis=1)

    scalars = [(ir, own(j, mul)) for j, (mul, ir) in enumerate(out_slots) if ir.l == 0]
    gated = [(ir, own(j, mul)) for j, (mul, ir) in enumerate(out_slots) if ir.l > 0]
    gates = [(o3.Irrep("0e"), np.concatenate([o for _, o in gated]))] if gated else []
    blocks = sorted(scalars + gates + gated, key=lambda b: b[0])  # stable, as Irreps.sort
    merged: list[tuple[o3.Irrep, list[np.ndarray]]] = []
    for ir, owners in blocks:
        if merged and merged[-1][0] == ir:
            merged[-1][1].append(owners)
        else:
            merged.append((ir, [owners]))
    return [np.concatenate(o) for _, o in merged]


def _gate_in_keep(out_slots: list[tuple[int, o3.Irrep]], keep: list[np.ndarray]
                  ) -> list[np.ndarray]:
    """Kept indices per slot of ``gate.irreps_in`` for kept output channels ``keep``."""
    kept = {(j, int(c)) for j, k in enumerate(keep) for c in k}
    return [np.array([i for i, (j, c) in enumerate(owners) if (int(j), int(c)) in kept],
                     dtype=np.int64) for owners in _gate_in_owners(out_slots)]


def per_output_channel(out_slots: list[tuple[int, o3.Irrep]], g: list[np.ndarray]
                        ) -> list[np.ndarray]:
    """Sum, per output channel, of the values ``g`` (per gate-input slot) it owns."""
    out = [np.zeros(mul) for mul, _ in out_slots]
    for owners, vals in zip(_gate_in_owners(out_slots), g):
        for (j, c), v in zip(owners, vals):
            out[int(j)][int(c)] += float(v)
    return out


def _mid_keep(layer: torch.nn.Module, u_keep: list[np.ndarray]) -> list[np.ndarray]:
    """Kept indices per slot of the message tensor product's output (one per path)."""
    return [u_keep[ins.i_in1] for ins in layer.tp.instructions]


def _t(idx: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(idx), dtype=torch.long)


@torch.no_grad()
def _copy_linear(old: o3.Linear, new: o3.Linear, k_in: list[np.ndarray] | None,
                 k_out: list[np.ndarray] | None) -> None:
    """Copy sliced ``o3.Linear`` weights (blocks ``(mul_in, mul_out)``), rescaled for the
    new fan-in normalisation. ``None`` keeps every channel of that side."""
    for (_, ins_o, w_o), (_, ins_n, w_n) in zip(old.weight_views(yield_instruction=True),
                                                new.weight_views(yield_instruction=True)):
        w = w_o
        if k_in is not None:
            w = w[_t(k_in[ins_o.i_in])]
        if k_out is not None:
            w = w[:, _t(k_out[ins_o.i_out])]
        w_n.copy_(w * (ins_o.path_weight / ins_n.path_weight))
    if old.bias_numel:
        raise ValueError("o3.Linear with biases is not supported by the pruner")


@torch.no_grad()
def _copy_fctp(old: o3.TensorProduct, new: o3.TensorProduct, k_in1: list[np.ndarray],
               k_out: list[np.ndarray]) -> None:
    """Self-connection ``(uvw)`` weights: slice input 1 and output channels."""
    for (_, ins_o, w_o), (_, ins_n, w_n) in zip(old.weight_views(yield_instruction=True),
                                                new.weight_views(yield_instruction=True)):
        w = w_o[_t(k_in1[ins_o.i_in1])][:, :, _t(k_out[ins_o.i_out])]
        w_n.copy_(w * (ins_o.path_weight / ins_n.path_weight))


def _radial_weights(layer: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The radial network's weight matrices, input side first."""
    return [p for name, p in layer.radial.named_parameters() if name.endswith("weight")]


def radial_out(layer: torch.nn.Module) -> torch.nn.Parameter:
    """The radial network's last weight matrix ``(hidden, tp.weight_numel)``."""
    return _radial_weights(layer)[-1]


def radial_columns(layer: torch.nn.Module) -> list[tuple[Any, slice]]:
    """``(instruction, column slice)`` of every weighted path of the message TP."""
    out, offset = [], 0
    for ins in layer.tp.instructions:
        if ins.has_weight:
            size = int(np.prod(ins.path_shape))
            out.append((ins, slice(offset, offset + size)))
            offset += size
    return out


@torch.no_grad()
def _copy_interaction(old: torch.nn.Module, new: torch.nn.Module, f_in: list[np.ndarray],
                      u: list[np.ndarray], f_out: list[np.ndarray],
                      out_slots: list[tuple[int, o3.Irrep]]) -> None:
    g_keep = _gate_in_keep(out_slots, f_out)
    _copy_linear(old.linear_up, new.linear_up, f_in, u)
    _copy_linear(old.linear_down, new.linear_down, _mid_keep(old, u), g_keep)
    _copy_fctp(old.self_connection, new.self_connection, f_in, g_keep)
    for w_o, w_n in zip(_radial_weights(old)[:-1], _radial_weights(new)[:-1]):
        w_n.copy_(w_o)
    w_old, w_new = radial_out(old), radial_out(new)
    for (ins_o, cols_o), (ins_n, cols_n) in zip(radial_columns(old), radial_columns(new)):
        block = w_old[:, cols_o].reshape(w_old.shape[0], *ins_o.path_shape)  # [h, u, 1]
        block = block[:, _t(u[ins_o.i_in1])] * (ins_o.path_weight / ins_n.path_weight)
        w_new[:, cols_n] = block.reshape(w_old.shape[0], -1)


def shrink_gnn(module: GNNModule, keep: GNNKeep) -> GNNModule:
    """A new, smaller :class:`GNNModule` keeping the channels in ``keep`` (weights copied)."""
    cfg = module.config
    L = len(cfg.hidden_irreps)
    if len(keep.f) != L + 1 or len(keep.u) != L:
        raise ValueError(f"keep needs {L + 1} feature spaces and {L} linear_up spaces")
    out_slots = [irrep_slots(h) for h in cfg.hidden_irreps]
    for k, slots in enumerate(out_slots, start=1):
        if len(keep.f[k]) != len(slots):
            raise ValueError(f"layer {k}: {len(keep.f[k])} keep arrays for {len(slots)} slots")
    keep = GNNKeep([[np.sort(np.asarray(a, dtype=np.int64)) for a in s] for s in keep.f],
                   [[np.sort(np.asarray(a, dtype=np.int64)) for a in s] for s in keep.u])
    for space in (*keep.f, *keep.u):
        if any(len(a) == 0 for a in space):
            raise ValueError("every irrep slot must keep at least one channel")
    for k in range(L):  # linear_up maps irreps_in -> irreps_in: same multiplicities
        if [len(a) for a in keep.u[k]] != [len(a) for a in keep.f[k]]:
            raise ValueError(f"layer {k + 1}: linear_up keeps {[len(a) for a in keep.u[k]]} "
                             f"channels but its input keeps {[len(a) for a in keep.f[k]]}")
    new_hidden = [_irreps_str([(len(a), ir) for a, (_, ir) in zip(keep.f[k + 1], slots)])
                  for k, slots in enumerate(out_slots)]
    new_cfg = replace(cfg, hidden_irreps=new_hidden, embed_channels=len(keep.f[0][0]))
    p = next(module.parameters())
    new = GNNModule(new_cfg).to(device=p.device, dtype=p.dtype)
    _copy_linear(module.embedding, new.embedding, None, keep.f[0])
    for k in range(L):
        _copy_interaction(module.layers[k], new.layers[k], keep.f[k], keep.u[k], keep.f[k + 1],
                          out_slots[k])
        _copy_linear(module.readouts[k], new.readouts[k], keep.f[k + 1], None)
    if module.vector_readout is not None:
        _copy_linear(module.vector_readout, new.vector_readout, keep.f[L], None)
    if module.attention is not None:
        _copy_linear(module.attention, new.attention, keep.f[L], None)
    return new.eval()
