"""Structures → batched graph tensors, with ASE neighbour lists (periodic cells supported).

Convention: an edge ``(src=j, dst=i)`` carries a message from neighbour ``j`` to centre ``i``;
its vector is ``r_ij = x_j − x_i + S_ij · cell`` (Å), where ``S_ij`` is the integer image shift
ASE's ``neighbor_list("ijS")`` returns. Shifts enter as constants, so forces are
``−∂E/∂x`` through ``x`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list
from scipy.spatial import cKDTree

__all__ = ["MIN_DISTANCE", "Graph", "GraphData", "batch_graphs", "check_structures", "to_graph_data"]

#: atoms closer than this (Å) are refused as unphysical
MIN_DISTANCE = 0.1


@dataclass(frozen=True)
class GraphData:
    """One structure's graph in numpy, built once and batched many times.

    Attributes:
        numbers: (n_atoms,) atomic numbers.
        positions: (n_atoms, 3) Å.
        src, dst: (n_edges,) neighbour and centre indices.
        shifts: (n_edges, 3) Cartesian image shifts ``S_ij · cell`` in Å.
    """

    numbers: np.ndarray
    positions: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    shifts: np.ndarray


@dataclass
class Graph:
    """A batch of graphs as tensors on one device.

    Attributes:
        positions: (N, 3) Å, all atoms of the batch.
        species: (N,) index of each atom's element in the model's element list.
        src, dst: (E,) edge endpoints (global atom indices).
        shifts: (E, 3) Å.
        batch: (N,) structure index of each atom; ``n_graphs`` structures in all.
        n_atoms: (n_graphs,) atoms per structure.
    """

    positions: torch.Tensor
    species: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    shifts: torch.Tensor
    batch: torch.Tensor
    n_atoms: torch.Tensor
    n_graphs: int

    def edge_vectors(self) -> torch.Tensor:
        """(E, 3) vectors ``x_src − x_dst + shift`` in Å (differentiable in ``positions``)."""
        return self.positions[self.src] - self.positions[self.dst] + self.shifts


def check_structures(structures: Sequence[Atoms], what: str = "structures") -> list[Atoms]:
    """Validate a batch of ``ase.Atoms``: a non-empty list of non-empty structures."""
    if isinstance(structures, Atoms):
        raise ValueError(f"{what} must be a list of ase.Atoms, got a single Atoms; wrap it in [ ]")
    structures = list(structures)
    if not structures:
        raise ValueError(f"{what} is empty: pass at least one structure")
    for k, atoms in enumerate(structures):
        if not isinstance(atoms, Atoms):
            raise ValueError(f"structure {k} is a {type(atoms).__name__}, not an ase.Atoms")
        if len(atoms) == 0:
            raise ValueError(f"structure {k} has no atoms")
        if not np.all(np.isfinite(atoms.get_positions())):
            raise ValueError(f"structure {k} has non-finite positions")
    return structures


#: free molecules up to this many atoms get their neighbours from one dense distance matrix
_DENSE_MAX_ATOMS = 256


def _free_neighbours(positions: np.ndarray, cutoff: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i, j, d)`` of all ordered pairs i ≠ j closer than ``cutoff`` Å, no periodicity.

    ASE's cell-list ``neighbor_list`` bins the (padded) bounding box, which costs 5-100 ms
    for a small molecule (rMD17 frames carry a 50 Å box); a dense distance matrix (small
    molecules) or SciPy's k-d tree (large ones) gives the same pairs in tens of µs.
    """
    if len(positions) <= _DENSE_MAX_ATOMS:
        dist = np.linalg.norm(positions[None, :, :] - positions[:, None, :], axis=-1)
        np.fill_diagonal(dist, np.inf)
        i, j = np.nonzero(dist < cutoff)
        return i, j, dist[i, j]
    pairs = cKDTree(positions).query_pairs(cutoff, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((j, i))  # centre-major, as ASE orders them
    i, j = i[order], j[order]
    return i, j, np.linalg.norm(positions[j] - positions[i], axis=-1)


def to_graph_data(atoms: Atoms, cutoff: float, index: int = 0) -> GraphData:
    """Neighbour list of one structure within ``cutoff`` Å; refuses atoms closer than 0.1 Å.

    Periodic structures use ASE's ``neighbor_list`` (image shifts ``S``); structures with no
    periodic direction use :func:`_free_neighbours` (same pairs, S = 0). ``index`` only
    names the structure in error messages.
    """
    if atoms.pbc.any():
        i, j, d, S = neighbor_list("ijdS", atoms, float(cutoff), self_interaction=False)
    else:
        i, j, d = _free_neighbours(atoms.get_positions(), float(cutoff))
        S = np.zeros((len(i), 3))
    close = d < MIN_DISTANCE
    if np.any(close):
        a, b = int(i[close][0]), int(j[close][0])
        raise ValueError(
            f"structure {index}: atoms {a} and {b} are {d[close][0]:.3g} Å apart "
            f"(closer than {MIN_DISTANCE} Å)"
        )
    cell = np.asarray(atoms.cell, dtype=float)
    return GraphData(
        numbers=atoms.get_atomic_numbers().astype(np.int64),
        positions=atoms.get_positions().astype(float),
        src=j.astype(np.int64),
        dst=i.astype(np.int64),
        shifts=S.astype(float) @ cell,
    )


def batch_graphs(
    parts: Sequence[GraphData],
    species_index: Mapping[int, int],
    dtype: torch.dtype,
    device: torch.device,
    first_index: int = 0,
) -> Graph:
    """Concatenate graphs into one batch; an element not in ``species_index`` is an error.

    ``first_index`` is the position of ``parts[0]`` in the caller's list (for messages).
    """
    offsets = np.cumsum([0] + [len(p.numbers) for p in parts])
    species = []
    for k, p in enumerate(parts):
        try:
            species.append(np.array([species_index[int(z)] for z in p.numbers], dtype=np.int64))
        except KeyError as exc:
            from ase.data import chemical_symbols

            z = int(exc.args[0])
            known = [chemical_symbols[e] for e in sorted(species_index)]
            raise ValueError(
                f"structure {first_index + k} contains {chemical_symbols[z]} (Z={z}), an element "
                f"not seen in training (known: {', '.join(known)})"
            ) from None

    def t(x: np.ndarray, kind: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(x, dtype=kind, device=device)

    return Graph(
        positions=t(np.concatenate([p.positions for p in parts]), dtype),
        species=t(np.concatenate(species), torch.long),
        src=t(np.concatenate([p.src + o for p, o in zip(parts, offsets)]), torch.long),
        dst=t(np.concatenate([p.dst + o for p, o in zip(parts, offsets)]), torch.long),
        shifts=t(np.concatenate([p.shifts for p in parts]), dtype),
        batch=t(np.repeat(np.arange(len(parts)), np.diff(offsets)), torch.long),
        n_atoms=t(np.diff(offsets), torch.long),
        n_graphs=len(parts),
    )
