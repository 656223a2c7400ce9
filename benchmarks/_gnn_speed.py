"""Inference throughput of ``benchmarks/gnn.py``: structures/s with graph building included,
and the same model's speed before this round of optimisation, measured in the same run.

"Before" rebuilds the earlier inference path around the trained model's shapes: ASE's
cell-list ``neighbor_list`` for every structure (rMD17 frames carry a 50 Å box, which ASE
bins), a last interaction layer with all of ``channels x (0e + 1o + 2e)`` outputs, and
autograd recording weight gradients too. Its weights are untrained (timing only; the work
per structure does not depend on the values). "After" is ``predict_energy_forces`` of the
fitted model: a dense-distance neighbour list for molecules, a scalar-only last layer
(``scalar_last_layer=True``), frozen weights during force evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from surrogates import EquivariantGNN
from surrogates._gnn._graph import GraphData, batch_graphs
from surrogates._gnn._layers import hidden_irreps
from surrogates._gnn._model import GNNModule, energy_and_forces

__all__ = ["before_predictor", "throughput"]


def throughput(fn: Callable[[list[Atoms]], object], frames: Sequence[Atoms], batch: int,
               repeats: int, rounds: int = 3) -> float:
    """Structures per second of ``fn(list_of_frames)`` at batch size ``batch``.

    ``repeats`` batches per round; the best of ``rounds`` rounds (the machine is shared, and
    the least-disturbed round is the closest to the code's own speed).
    """
    chunks = [list(frames[i:i + batch])
              for i in range(0, min(len(frames), batch * repeats), batch)]
    fn(chunks[0])  # warm-up
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for c in chunks:
            fn(c)
        best = min(best, time.perf_counter() - t0)
    return sum(len(c) for c in chunks) / best


def _ase_graph(atoms: Atoms, cutoff: float) -> GraphData:
    i, j, S = neighbor_list("ijS", atoms, cutoff, self_interaction=False)
    return GraphData(numbers=atoms.get_atomic_numbers().astype(np.int64),
                     positions=atoms.get_positions(), src=j.astype(np.int64),
                     dst=i.astype(np.int64), shifts=S.astype(float) @ np.asarray(atoms.cell))


def before_predictor(model: EquivariantGNN) -> Callable[[list[Atoms]], object]:
    """Energy + forces of ``model``'s shapes along the earlier (slower) inference path."""
    cfg = model.config_
    channels = cfg.embed_channels
    config = replace(cfg, hidden_irreps=[hidden_irreps(channels, cfg.lmax)]
                     * len(cfg.hidden_irreps))
    param = next(model.module_.parameters())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        module = GNNModule(config).to(dtype=param.dtype).eval()
    index = {z: k for k, z in enumerate(model.elements_)}

    def predict(frames: list[Atoms]) -> object:
        graphs = [_ase_graph(a, cfg.cutoff) for a in frames]
        g = batch_graphs(graphs, index, param.dtype, param.device)
        energy, forces = energy_and_forces(module, g)
        return energy.detach().numpy(), forces.detach().numpy()

    return predict
