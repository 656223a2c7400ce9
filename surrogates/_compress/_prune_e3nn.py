"""Structured pruning of an :class:`~surrogates.EquivariantGNN`: remove irrep channels.

A channel is one copy (multiplicity index) of an irrep in a feature space, e.g. channel 7 of
the ``32x1o`` block of layer 1's output: a 3-vector per atom. Removing it deletes every weight
that writes or reads it, so the e3nn blocks are rebuilt with a smaller multiplicity and the
network stays exactly equivariant (whole irreps are removed, never components).

Feature spaces of a :class:`GNNModule` with L interaction layers (``GNNConfig.hidden_irreps``
gives one irreps string per layer)::

    F_0 = embedding output (E x 0e)                         written by: embedding
    U_k = linear_up output of layer k (irreps of F_{k-1})   read by: TP paths, linear_down
    F_k = layer k output (hidden_irreps[k-1])               written by: linear_down, self-conn.

Channel importance (larger = keep), per slot of each space:

- ``"l1"`` (weight norm): ``I_c = ‖W_write[:, c]‖ · ‖W_read[c, :]‖`` with the e3nn path
  normalisation constants folded into the weights; a gated irrep (l > 0) also counts the
  weights writing its gate scalar. For ``U_k`` the read side includes the radial network's
  output weights of the tensor-product paths of channel c.
- ``"activity"``: for ``F_k``, the mean norm ``E_atoms ‖h_c‖`` of the channel's irrep on sample
  structures times its read norm (``U_k`` keeps the weight-norm score).

Sliced weights are rescaled by ``path_weight_old / path_weight_new`` (e3nn normalises each
path by its fan-in), so removing channels whose weights are zero leaves the function unchanged
(tested). The pruned network is then fine-tuned by distillation: it learns the unpruned
network's outputs (and forces for an energy model) on the sample structures.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from e3nn import o3

from .._gnn._graph import batch_graphs, to_graph_data
from .._gnn._model import GNNModule

__all__ = ["GNNKeep", "channel_importance", "gnn_flops", "prune_gnn", "shrink_gnn"]

METHODS = ("l1", "activity")


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


def _slots(irreps: Any) -> list[tuple[int, o3.Irrep]]:
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


def _per_output_channel(out_slots: list[tuple[int, o3.Irrep]], g: list[np.ndarray]
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


def _radial_out(layer: torch.nn.Module) -> torch.nn.Parameter:
    """The radial network's last weight matrix ``(hidden, tp.weight_numel)``."""
    last = [m for m in layer.radial.modules() if hasattr(m, "weight")][-1]
    return last.weight


def _radial_columns(layer: torch.nn.Module) -> list[tuple[Any, slice]]:
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
    for m_old, m_new in zip(old.radial.modules(), new.radial.modules()):
        if hasattr(m_old, "weight") and m_old.weight is not _radial_out(old):
            m_new.weight.copy_(m_old.weight)
    w_old, w_new = _radial_out(old), _radial_out(new)
    for (ins_o, cols_o), (ins_n, cols_n) in zip(_radial_columns(old), _radial_columns(new)):
        block = w_old[:, cols_o].reshape(w_old.shape[0], *ins_o.path_shape)  # [h, u, 1]
        block = block[:, _t(u[ins_o.i_in1])] * (ins_o.path_weight / ins_n.path_weight)
        w_new[:, cols_n] = block.reshape(w_old.shape[0], -1)


def shrink_gnn(module: GNNModule, keep: GNNKeep) -> GNNModule:
    """A new, smaller :class:`GNNModule` keeping the channels in ``keep`` (weights copied)."""
    cfg = module.config
    L = len(cfg.hidden_irreps)
    if len(keep.f) != L + 1 or len(keep.u) != L:
        raise ValueError(f"keep needs {L + 1} feature spaces and {L} linear_up spaces")
    out_slots = [_slots(h) for h in cfg.hidden_irreps]
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


# --- importance ------------------------------------------------------------------------------
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
    w = _radial_out(layer).detach()
    read = [np.zeros_like(x) for x in write]
    for (ins, cols) in _radial_columns(layer):
        radial = (w[:, cols] ** 2).sum(0).cpu().numpy().reshape(ins.path_shape).sum(1)  # [u]
        read[ins.i_in1] = read[ins.i_in1] + radial * mid[ins.i_out]
    return [np.sqrt(a * b) for a, b in zip(write, read)]


def _sample_graph(model: Any, X: Any) -> Any:
    p = next(model.module_.parameters())
    index = {z: k for k, z in enumerate(model.elements_)}
    parts = [to_graph_data(a, model.config_.cutoff, k) for k, a in enumerate(X)]
    return batch_graphs(parts, index, p.dtype, p.device)


def channel_importance(model: Any, method: str = "l1", X: Any = None) -> GNNKeep:
    """Importance of every channel (same layout as :class:`GNNKeep`, scores instead of indices).

    ``X``: sample structures (``ase.Atoms``), needed by ``"activity"``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown GNN pruning method {method!r}; choose one of {METHODS}")
    module: GNNModule = model.module_
    L = len(module.layers)
    out_slots = [_slots(h) for h in module.config.hidden_irreps]
    write = [_linear_norms(module.embedding, "out")]  # F_0
    layer_reads = []  # what layer k reads from its input space
    for k, layer in enumerate(module.layers):
        g = _add(_linear_norms(layer.linear_down, "out"),
                 _fctp_norms(layer.self_connection, "out"))
        write.append(_per_output_channel(out_slots[k], g))
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
        act = _activity(module, _sample_graph(model, X))
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


# --- cost and the pruning entry point ----------------------------------------------------------
def gnn_flops(module: GNNModule, graph: Any) -> float:
    """Matrix-product FLOPs per structure of ``module(graph)`` (torch's FLOP counter: matmul,
    bmm and the einsums e3nn generates; element-wise work is not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(graph)
    return float(counter.get_total_flops()) / max(graph.n_graphs, 1)


def _top(scores: list[list[np.ndarray]], frac: list[float]) -> list[list[np.ndarray]]:
    return [[np.sort(np.argsort(-s, kind="stable")[:max(1, round(f * len(s)))]) for s in space]
            for space, f in zip(scores, frac)]


def _keep_for(scores: GNNKeep, frac: list[float]) -> GNNKeep:
    """Top ``frac[k]`` of the channels of F_k (and of U_{k+1}, which must match in count)."""
    return GNNKeep(_top(scores.f, frac), _top(scores.u, frac[:len(scores.u)]))


def _budget_fracs(module: GNNModule, scores: GNNKeep, graph: Any, budget: float,
                  step: float = 0.1) -> list[float]:
    """Greedy, sensitivity-guided: shrink the feature space whose next 10 % cut changes the
    outputs on the sample least per FLOP saved, until FLOPs ≤ budget · original."""
    with torch.no_grad():
        ref = module(graph)
    scale = float(ref.var().clamp_min(1e-12))
    fl0 = gnn_flops(module, graph)
    frac, cost = [1.0] * len(scores.f), fl0
    while cost > budget * fl0:
        best = None
        for idx in range(len(frac)):
            if frac[idx] <= step + 1e-9:
                continue
            trial = list(frac)
            trial[idx] = round(trial[idx] - step, 6)
            cand = shrink_gnn(module, _keep_for(scores, trial))
            fl = gnn_flops(cand, graph)
            with torch.no_grad():
                change = float(((cand(graph) - ref) ** 2).mean()) / scale
            ratio = change / max(cost - fl, 1e-9)
            if best is None or ratio < best[0]:
                best = (ratio, trial, fl)
        if best is None:
            break
        _, frac, cost = best
    return frac


def prune_gnn(model: Any, amount: float | None = None, budget: float | None = None,
              method: str = "l1", *, X: Any = None, fine_tune: bool = True,
              max_epochs: int = 30, max_time: float | None = None, lr: float = 2e-3,
              random_state: int = 0) -> Any:
    """Prune a fitted :class:`EquivariantGNN` by irrep channels; returns a new, smaller one.

    Args:
        model: fitted EquivariantGNN (unchanged).
        amount: fraction (0 ≤ amount < 1) of the channels of every irrep slot to remove
            (at least one channel per slot survives).
        budget: instead of ``amount``: target matrix-product FLOPs as a fraction of the
            original's (greedy, least output change per FLOP saved first; needs ``X``).
        method: channel importance, ``"l1"`` (weight norm) or ``"activity"`` (needs ``X``).
        X: sample structures (``ase.Atoms``) for activity, the budget search and fine-tuning.
        fine_tune: distil the pruned network from the unpruned one on ``X`` (its outputs,
            and forces for target ``"energy"``).
        max_epochs, max_time, lr: fine-tuning length (epochs, seconds) and learning rate.
    """
    from .._gnn._train import TrainSettings, train
    from ._prune import check_amount_budget

    check_amount_budget(amount, budget)
    if not hasattr(model, "module_"):
        raise ValueError(f"{type(model).__name__} is not fitted; prune a fitted model")
    if X is not None:
        X = list(X)
    scores = channel_importance(model, method, X)
    module: GNNModule = model.module_
    if budget is not None:
        if X is None:
            raise ValueError("a FLOP budget needs sample structures X to count FLOPs on")
        frac = _budget_fracs(module, scores, _sample_graph(model, X[:32]), float(budget))
    else:
        frac = [1.0 - float(amount)] * len(scores.f)
    new_module = shrink_gnn(module, _keep_for(scores, frac))
    new = copy.copy(model)
    new.module_, new.config_ = new_module, new_module.config
    new.history_ = []
    if fine_tune and X is not None and amount != 0.0:
        forces = model.target == "energy" and module.config.extensive
        graphs = [to_graph_data(a, model.config_.cutoff, k) for k, a in enumerate(X)]
        y, f = _raw_outputs(model, graphs, forces)
        settings = TrainSettings(
            epochs=int(max_epochs), batch_size=int(model.batch_size), lr=float(lr),
            weight_decay=0.0, energy_weight=1.0, force_weight=float(model.force_weight),
            ema_decay=float(model.ema_decay), patience=max(5, int(max_epochs) // 4),
            valid_fraction=0.1, seed=int(random_state), max_time=max_time)
        index = {z: k for k, z in enumerate(model.elements_)}
        p = next(new_module.parameters())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_state))
            state, history = train(new_module, graphs, y, f, index, settings, p.device)
        new_module.load_state_dict(state)
        new.module_ = new_module.eval()
        new.history_ = history
    with torch.no_grad():
        g = _sample_graph(model, X[:32]) if X is not None else None
    new.pruning_ = {
        "method": method, "amount": amount, "budget": budget,
        "hidden_before": list(module.config.hidden_irreps),
        "hidden_after": list(new_module.config.hidden_irreps),
        "embed_before": module.config.embed_channels,
        "embed_after": new_module.config.embed_channels,
        "keep_fraction": frac,
        "flops_before": gnn_flops(module, g) if g is not None else None,
        "flops_after": gnn_flops(new.module_, g) if g is not None else None,
    }
    return new


def _raw_outputs(model: Any, graphs: list[Any], forces: bool
                 ) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """The unpruned network's residual outputs (no reference part) and forces on ``graphs``."""
    from .._gnn._model import energy_and_forces

    module = model.module_
    p = next(module.parameters())
    index = {z: k for k, z in enumerate(model.elements_)}
    ys, fs = [], []
    for s in range(0, len(graphs), 32):
        g = batch_graphs(graphs[s:s + 32], index, p.dtype, p.device, first_index=s)
        if forces:
            e, f = energy_and_forces(module, g)
            fs.extend(x.to("cpu", torch.float64).numpy()
                      for x in torch.split(f.detach(), g.n_atoms.tolist()))
        else:
            with torch.no_grad():
                e = module(g)
        ys.append(e.detach().to("cpu", torch.float64).numpy())
    return np.concatenate(ys), (fs if forces else None)

