"""Channel importance of an :class:`~surrogates.EquivariantGNN` (larger = keep).

Per slot of each feature space (see :mod:`._e3nn_surgery` for the spaces F_k and U_k):

- ``"l1"`` (weight norm): ``I_c = ‖W_write[:, c]‖ · ‖W_read[c, :]‖`` with the e3nn path
  normalisation constants folded into the weights; a gated irrep (l > 0) also counts the
  weights writing its gate scalar. For ``U_k`` the read side includes the radial network's
  output weights of the tensor-product paths of channel c.
- ``"activity"``: for ``F_k``, the mean norm ``E_atoms ‖h_c‖`` of the channel's irrep on sample
  structures times its read norm (``U_k`` keeps the weight-norm score).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from e3nn import o3

from .._gnn._model import GNNModule
from ._e3nn_surgery import (
    GNNKeep,
    irrep_slots,
    per_output_channel,
    radial_columns,
    radial_out,
)

__all__ = ["METHODS", "channel_importance", "sample_graph"]

METHODS = ("l1", "activity")


def _linear_norms(lin: o3.Linear, side: str) -> list[np.ndarray]:
    """Squared effective weight norm per channel of each input (``side="in"``) or output slot
    (zeros for channels no path touches)."""
    irreps = lin.irreps_in if side == "in" else lin.irreps_out
    sums = [np.zeros(mul) for mul, _ in irreps]
    for _, ins, w in lin.weight_views(yield_instruction=True):
        w2 = (ins.path_weight * w.detach()) ** 2  # [mul_in, mul_out]
        slot, val = (ins.i_in, w2.sum(1)) if side == "in" else (ins.i_out, w2.sum(0))
        sums[slot] = sums[slot] + val.cpu().numpy().astype(float)
    return sums


def _fctp_norms(tp: o3.TensorProduct, side: str) -> list[np.ndarray]:
    """As :func:`_linear_norms` for the self-connection (``uvw`` paths, input 1 / output)."""
    irreps = tp.irreps_in1 if side == "in" else tp.irreps_out
    sums = [np.zeros(mul) for mul, _ in irreps]
    for _, ins, w in tp.weight_views(yield_instruction=True):
        w2 = (ins.path_weight * w.detach()) ** 2  # [mul1, mul2, mul_out]
        slot, val = (ins.i_in1, w2.sum((1, 2))) if side == "in" else (ins.i_out, w2.sum((0, 1)))
        sums[slot] = sums[slot] + val.cpu().numpy().astype(float)
    return sums


def _add(a: list[np.ndarray], b: list[np.ndarray]) -> list[np.ndarray]:
    return [x + y for x, y in zip(a, b)]


def _u_scores(layer: torch.nn.Module) -> list[np.ndarray]:
    """Weight-norm importance of the ``linear_up`` output channels of one layer."""
    write = _linear_norms(layer.linear_up, "out")
    mid = _linear_norms(layer.linear_down, "in")
    w = radial_out(layer).detach()
    read = [np.zeros_like(x) for x in write]
    for (ins, cols) in radial_columns(layer):
        radial = (w[:, cols] ** 2).sum(0).cpu().numpy().reshape(ins.path_shape).sum(1)  # [u]
        read[ins.i_in1] = read[ins.i_in1] + radial * mid[ins.i_out]
    return [np.sqrt(a * b) for a, b in zip(write, read)]


def sample_graph(model: Any, X: Any) -> Any:
    """One batched graph of the sample structures ``X`` in the model's species, dtype, device."""
    return model.batched_graph(X)


def channel_importance(model: Any, method: str = "l1", X: Any = None) -> GNNKeep:
    """Importance of every channel (same layout as :class:`GNNKeep`, scores instead of indices).

    ``X``: sample structures (``ase.Atoms``), needed by ``"activity"``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown GNN pruning method {method!r}; choose one of {METHODS}")
    module: GNNModule = model.module_
    L = len(module.layers)
    out_slots = [irrep_slots(h) for h in module.config.hidden_irreps]
    write = [_linear_norms(module.embedding, "out")]  # F_0
    layer_reads = []  # what layer k reads from its input space
    for k, layer in enumerate(module.layers):
        g = _add(_linear_norms(layer.linear_down, "out"),
                 _fctp_norms(layer.self_connection, "out"))
        write.append(per_output_channel(out_slots[k], g))
        layer_reads.append(_add(_linear_norms(layer.linear_up, "in"),
                                _fctp_norms(layer.self_connection, "in")))
    read_f = [layer_reads[0]]
    for k in range(L):
        r = _linear_norms(module.readouts[k], "in")
        if k + 1 < L:
            r = _add(r, layer_reads[k + 1])
        else:
            for head in (module.vector_readout, module.attention):
                if head is not None:
                    r = _add(r, _linear_norms(head, "in"))
        read_f.append(r)
    if method == "activity":
        if X is None:
            raise ValueError("GNN pruning method 'activity' needs sample structures (X)")
        act = _activity(module, sample_graph(model, X))
        f = [[a * np.sqrt(r) for a, r in zip(acts, rs)] for acts, rs in zip(act, read_f)]
    else:
        f = [[np.sqrt(w * r) for w, r in zip(ws, rs)] for ws, rs in zip(write, read_f)]
    u = [_u_scores(layer) for layer in module.layers]
    return GNNKeep(f, u)


@torch.no_grad()
def _activity(module: GNNModule, graph: Any) -> list[list[np.ndarray]]:
    """Mean irrep norm ``E_atoms ‖h_c‖`` of every channel of F_0 … F_L."""
    attrs, feats = module.atom_features(graph)
    spaces = [(module.embedding(attrs), o3.Irreps(f"{module.config.embed_channels}x0e"))]
    spaces += [(h, o3.Irreps(irr)) for h, irr in zip(feats, module.config.hidden_irreps)]
    out = []
    for h, irreps in spaces:
        per_slot = []
        for sl, (mul, ir) in zip(irreps.slices(), irreps):
            x = h[:, sl].reshape(-1, mul, ir.dim)  # [N, mul, 2l+1]
            per_slot.append(x.norm(dim=-1).mean(0).cpu().numpy().astype(float))
        out.append(per_slot)
    return out
