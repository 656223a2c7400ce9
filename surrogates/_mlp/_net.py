"""A plain multilayer perceptron and its seeded AdamW training loop with early stopping.

Shared by every MLP-bodied surrogate (the fingerprint model) and by compression (pruning
rebuilds an :class:`MLP` with fewer hidden units; distillation fine-tunes one).

The network maps features ``x`` of shape ``(n, d_in)`` to ``(n, d_out)``:

    h_0 = t(x),  h_{l+1} = SiLU(W_l h_l + b_l)  (l < L-1),  y = W_{L-1} h_{L-1} + b_{L-1}

where ``t`` is ``log1p`` for count features (``log_input=True``) and the identity otherwise.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["MLP", "train_mlp"]


class MLP(nn.Module):
    """``Linear → SiLU → … → Linear`` with layer widths ``sizes = (d_in, h_1, …, d_out)``."""

    def __init__(self, sizes: Sequence[int], log_input: bool = False) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP sizes must be >= 2 positive widths, got {sizes}")
        self.log_input = bool(log_input)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.act = nn.SiLU()

    @property
    def sizes(self) -> list[int]:
        """Layer widths ``[d_in, h_1, …, d_out]``."""
        return [self.layers[0].in_features] + [lin.out_features for lin in self.layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.log_input:
            x = torch.log1p(x)  # [n, d_in] counts → log scale
        for lin in self.layers[:-1]:
            x = self.act(lin(x))  # [n, h_l]
        return self.layers[-1](x)  # [n, d_out]


def train_mlp(
    net: nn.Module,
    F: np.ndarray,
    Y: np.ndarray,
    W: np.ndarray | None = None,
    *,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    max_epochs: int = 200,
    batch_size: int = 128,
    patience: int = 20,
    val_fraction: float = 0.1,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Fit ``net`` in place by weighted MSE with AdamW; keep the best validation weights.

    Args:
        net: maps ``(n, d_in)`` float32 to ``(n, k)``.
        F: features, shape ``(n, d_in)``.
        Y: targets, shape ``(n, k)`` (already standardised by the caller).
        W: element weights, shape ``(n, k)`` (0 masks a target out); default all ones.
        val_fraction: share held out for early stopping (none when fewer than 10 rows).
        seed: seeds the split, the initial shuffle order and dropout-free batches.

    Returns:
        ``{"epochs": ..., "best_val": ..., "train_loss": ...}``.
    """
    F = np.asarray(F, dtype=np.float32)
    Y = np.asarray(Y, dtype=np.float32).reshape(len(F), -1)
    W = np.ones_like(Y) if W is None else np.asarray(W, dtype=np.float32).reshape(Y.shape)
    n = len(F)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = round(val_fraction * n) if n >= 10 and val_fraction > 0 else 0
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    device = torch.device(device)
    net.to(device)
    Ft, Yt, Wt = (torch.from_numpy(a).to(device) for a in (F, Y, W))
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)

    def loss_on(idx: torch.Tensor) -> torch.Tensor:
        err = (net(Ft[idx]) - Yt[idx]) ** 2 * Wt[idx]  # [b, k]
        return err.sum() / Wt[idx].sum().clamp_min(1e-12)

    tr = torch.from_numpy(tr_idx).to(device)
    va = torch.from_numpy(val_idx).to(device)
    best, best_state, since, epochs, last = math.inf, None, 0, 0, math.nan
    for epoch in range(1, int(max_epochs) + 1):
        epochs = epoch
        net.train()
        order = tr[torch.randperm(len(tr), generator=gen).to(device)]
        total = 0.0
        for start in range(0, len(order), int(batch_size)):
            idx = order[start:start + int(batch_size)]
            opt.zero_grad(set_to_none=True)
            loss = loss_on(idx)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        last = total / max(len(order), 1)
        if n_val == 0:
            continue
        net.eval()
        with torch.no_grad():
            val = float(loss_on(va))
        if val < best - 1e-7:
            best, best_state, since = val, copy.deepcopy(net.state_dict()), 0
        else:
            since += 1
            if since >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return {"epochs": float(epochs), "best_val": float(best), "train_loss": float(last)}
