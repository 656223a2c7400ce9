"""Mini-batch training: energy+force loss, AdamW, cosine learning rate, EMA, early stopping.

Loss per batch, in units of the model's scale ``s`` (so weights are comparable across data)::

    energy:   w_E · mean_G ((Ê_G − E_G) / (n_G s))²  +  w_F · mean_{i,k} ((F̂_ik − F_ik) / s)²
    other:    mean ((ŷ − y) / s)²

Validation uses the EMA weights; the best EMA weights by validation loss are kept, and
training stops after ``patience`` epochs without improvement.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ._graph import Graph, GraphData, batch_graphs
from ._model import GNNModule, energy_and_forces

logger = logging.getLogger(__name__)

__all__ = ["TrainSettings", "plot_history", "train"]

#: one DEBUG line per epoch (``scout train`` shows them); a wall-clock stop is a WARNING
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Training hyper-parameters (see ``EquivariantGNN`` for meanings and units)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    energy_weight: float
    force_weight: float
    ema_decay: float
    patience: int
    val_fraction: float
    seed: int
    max_time: float | None = None  # seconds of training, None: no limit
    max_time_clock: str = "wall"  # "wall" (time.perf_counter) or "cpu" (time.process_time)
    progress: bool = True


@dataclass
class _Batch:
    graph: Graph
    y: torch.Tensor  # [G] or [G, 3], residual labels
    forces: torch.Tensor | None  # [N, 3]


def _make_batch(idx: Sequence[int], graphs: Sequence[GraphData], y: np.ndarray,
                forces: list[np.ndarray] | None, species_index: dict[int, int],
                dtype: torch.dtype, device: torch.device) -> _Batch:
    g = batch_graphs([graphs[i] for i in idx], species_index, dtype, device)
    f = None
    if forces is not None:
        f = torch.as_tensor(np.concatenate([forces[i] for i in idx]), dtype=dtype, device=device)
    return _Batch(g, torch.as_tensor(y[list(idx)], dtype=dtype, device=device), f)


def _losses(module: GNNModule, b: _Batch, s: TrainSettings, uses_forces: bool,
            create_graph: bool) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted loss and the batch's absolute errors (sums, for MAEs)."""
    scale = module.config.scale
    if uses_forces:
        pred, f_pred = energy_and_forces(module, b.graph, create_graph=create_graph)
    else:
        pred, f_pred = module(b.graph), None
    err = pred - b.y
    stats = {"abs": float(err.detach().abs().sum()), "n": float(err.numel())}
    if module.config.extensive:
        err = err / b.graph.n_atoms.to(err.dtype)
        stats["abs_per_atom"] = float(err.detach().abs().sum())
    loss = s.energy_weight * torch.mean((err / scale) ** 2)
    if f_pred is not None and b.forces is not None:
        f_err = f_pred - b.forces
        loss = loss + s.force_weight * torch.mean((f_err / scale) ** 2)
        stats["f_abs"], stats["f_n"] = float(f_err.detach().abs().sum()), float(f_err.numel())
    return loss, stats


def _evaluate(module: GNNModule, batches: list[_Batch], s: TrainSettings,
              uses_forces: bool) -> dict[str, float]:
    total, weight, sums = 0.0, 0, {}
    for b in batches:
        with torch.set_grad_enabled(uses_forces):
            loss, stats = _losses(module, b, s, uses_forces, create_graph=False)
        total += float(loss.detach()) * b.graph.n_graphs
        weight += b.graph.n_graphs
        for k, v in stats.items():
            sums[k] = sums.get(k, 0.0) + v
    out = {"valid_loss": total / weight, "valid_mae": sums["abs"] / sums["n"]}
    if "abs_per_atom" in sums:
        out["valid_mae_per_atom"] = sums["abs_per_atom"] / sums["n"]
    if "f_abs" in sums:
        out["valid_force_mae"] = sums["f_abs"] / sums["f_n"]
    return out


def train(module: GNNModule, graphs: Sequence[GraphData], y: np.ndarray,
          forces: list[np.ndarray] | None, species_index: dict[int, int], s: TrainSettings,
          device: torch.device) -> tuple[dict[str, torch.Tensor], list[dict[str, float]]]:
    """Train ``module`` in place on residual labels ``y``; return the best EMA weights and
    the per-epoch log.

    Args:
        graphs: one :class:`GraphData` per structure.
        y: (n,) or (n, 3) labels minus reference values, in the target's units.
        forces: per-structure (n_atoms, 3) forces in eV/Å, or ``None`` (energy only).
    """
    dtype = next(module.parameters()).dtype
    rng = np.random.default_rng(s.seed)
    n = len(graphs)
    order = rng.permutation(n)
    n_valid = min(round(s.val_fraction * n), n - 1) if n >= 4 else 0
    valid_idx, train_idx = order[:n_valid], order[n_valid:]
    uses_forces = forces is not None and s.force_weight > 0 and module.config.extensive
    batch_size = max(1, int(s.batch_size))

    def batches_of(idx: np.ndarray) -> list[_Batch]:
        return [_make_batch(idx[k:k + batch_size], graphs, y, forces, species_index, dtype,
                            device) for k in range(0, len(idx), batch_size)]

    valid_batches = batches_of(valid_idx) if n_valid else []
    optimizer = torch.optim.AdamW(module.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, s.epochs),
                                                          eta_min=s.lr / 100)
    ema = copy.deepcopy(module)
    best_state, best_loss, stale, history = None, math.inf, 0, []
    bar = tqdm(range(int(s.epochs)), desc="training GNN", disable=None if s.progress else True,
               leave=False)
    clock = time.process_time if s.max_time_clock == "cpu" else time.perf_counter
    t0, c0, step = time.perf_counter(), clock(), 0
    capped = False
    for epoch in bar:
        module.train()
        lr = optimizer.param_groups[0]["lr"]
        train_loss, seen = 0.0, 0
        for b in batches_of(rng.permutation(train_idx)):
            loss, _ = _losses(module, b, s, uses_forces, create_graph=True)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 10.0)
            optimizer.step()
            step += 1
            decay = min(s.ema_decay, (1.0 + step) / (10.0 + step))  # warm-up, as TF's EMA
            with torch.no_grad():  # exponential moving average of the weights
                for pe, p in zip(ema.parameters(), module.parameters()):
                    pe.lerp_(p, 1.0 - decay)
            train_loss += float(loss.detach()) * b.graph.n_graphs
            seen += b.graph.n_graphs
            if s.max_time is not None and clock() - c0 > s.max_time:
                capped = True
                break
        schedule.step()
        row = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss / seen}
        if valid_batches:
            ema.eval()
            row.update(_evaluate(ema, valid_batches, s, uses_forces))
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if "loss" in k})
        logger.debug("epoch %d/%d: %s (%.1f s)", epoch + 1, int(s.epochs),
                     ", ".join(f"{k} {v:.4g}" for k, v in row.items() if "loss" in k or
                               "mae" in k), row["seconds"])
        score = row.get("valid_loss", row["train_loss"])
        if score < best_loss or best_state is None:
            best_loss, stale = score, 0
            best_state = {k: v.detach().clone() for k, v in ema.state_dict().items()}
        else:
            stale += 1
            if valid_batches and stale >= s.patience:
                logger.debug("early stop after epoch %d: no better validation loss in %d "
                             "epochs", epoch + 1, s.patience)
                break
        if capped or (s.max_time is not None and clock() - c0 > s.max_time):
            capped = True
            break
    bar.close()
    if capped and len(history) < int(s.epochs):  # the safety cap, not the epoch budget, ended it
        history[-1]["stopped_by"] = "max_time"
        logger.warning("GNN training stopped by max_time=%g s after %d of %d epochs: the "
                       "result now depends on the machine's speed", s.max_time, len(history),
                       int(s.epochs))
    if not valid_batches:  # nothing to select on: the final EMA weights
        best_state = {k: v.detach().clone() for k, v in ema.state_dict().items()}
    return best_state, history


def plot_history(history: Sequence[dict[str, float]], path: str | Path,
                 pretrain: Sequence[dict[str, float]] = ()) -> Path:
    """Training curve (loss per epoch, log scale; validation MAEs on the right) as a PNG.

    ``pretrain``: the energy/force pre-training's log, drawn in grey at epochs ≤ 0.
    """
    from matplotlib.figure import Figure  # the Agg canvas, no pyplot state

    path = Path(path)
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    epochs = [h["epoch"] for h in history]
    ax.semilogy(epochs, [h["train_loss"] for h in history], label="train loss")
    if history and "valid_loss" in history[0]:
        ax.semilogy(epochs, [h["valid_loss"] for h in history], label="validation loss (EMA)")
    if pretrain:
        pre_epochs = [h["epoch"] - len(pretrain) for h in pretrain]
        ax.semilogy(pre_epochs, [h.get("valid_loss", h["train_loss"]) for h in pretrain],
                    color="gray", label="pre-training on energy + forces")
        ax.axvline(0.5, color="gray", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled units²)")
    maes = [k for k in ("valid_mae_per_atom", "valid_force_mae") if history and k in history[0]]
    if maes:
        ax2 = ax.twinx()
        for k, style in zip(maes, ("--", ":")):
            ax2.plot(epochs, [h[k] for h in history], style, color="gray", label=k)
        ax2.set_ylabel("validation MAE (eV/atom, eV/Å)")
        ax2.legend(loc="upper center")
    ax.legend(loc="upper right")
    ax.set_title("EquivariantGNN training")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path
