"""Pruning an :class:`~surrogates.EquivariantGNN` to an amount or a FLOP budget, then
fine-tuning the smaller network by distillation.

``amount`` removes that fraction of the channels of every irrep slot; ``budget`` instead
shrinks, greedily, the feature space whose next 10 % cut changes the outputs on the sample
least per FLOP saved, until the matrix-product FLOPs fall under the budget. Channels are
chosen by :mod:`._e3nn_importance` and cut out by :mod:`._e3nn_surgery`. The pruned network
then learns the unpruned one's raw outputs (and forces for an energy model) on the sample.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from .._gnn._model import GNNModule
from ._budget import check_amount_budget
from ._e3nn_importance import channel_importance, sample_graph
from ._e3nn_surgery import GNNKeep, shrink_gnn

__all__ = ["gnn_flops", "prune_gnn"]


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
              epochs: int = 30, max_time: float | None = None, lr: float = 2e-3,
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
        epochs, max_time, lr: fine-tuning length (epochs; seconds as a logged safety cap)
            and learning rate.
    """
    from .._gnn._train import TrainSettings, train
    check_amount_budget(amount, budget)
    model._require_fitted("module_")
    if X is not None:
        X = list(X)
    scores = channel_importance(model, method, X)
    module: GNNModule = model.module_
    if budget is not None:
        if X is None:
            raise ValueError("a FLOP budget needs sample structures X to count FLOPs on")
        frac = _budget_fracs(module, scores, sample_graph(model, X[:32]), float(budget))
    else:
        frac = [1.0 - float(amount)] * len(scores.f)
    new_module = shrink_gnn(module, _keep_for(scores, frac))
    new = copy.copy(model)
    new.module_, new.config_ = new_module, new_module.config
    new.history_ = []
    if fine_tune and X is not None and amount != 0.0:
        forces = model.target == "energy" and module.config.extensive
        graphs = model._graphs(X)
        y, f = model._run(graphs, forces=forces, reference=False)
        settings = TrainSettings(
            epochs=int(epochs), batch_size=int(model.batch_size), lr=float(lr),
            weight_decay=0.0, energy_weight=1.0, force_weight=float(model.force_weight),
            ema_decay=float(model.ema_decay), patience=max(5, int(epochs) // 4),
            val_fraction=0.1, seed=int(random_state), max_time=max_time)
        index = {z: k for k, z in enumerate(model.elements_)}
        p = next(new_module.parameters())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_state))
            state, history = train(new_module, graphs, y, f, index, settings, p.device)
        new_module.load_state_dict(state)
        new.module_ = new_module.eval()
        new.history_ = history
    with torch.no_grad():
        g = sample_graph(model, X[:32]) if X is not None else None
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
