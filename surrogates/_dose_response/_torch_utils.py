"""Small torch helpers of the dose-response surrogates: dtype names and CPU thread count.

A full-batch step on a few hundred variants takes microseconds of arithmetic; with several
intra-op threads on a busy machine, thread hand-off dominates (measured here: 400 epochs of a
27-variant Hill fit took 6 s of CPU with 2 threads under load and 0.3 s with one). Small fits
therefore run single-threaded; the previous setting is restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["SMALL_PROBLEM", "CastInput", "as_torch_dtype", "threads_for"]

#: rows × features below which one CPU thread is faster than several
SMALL_PROBLEM = 2_000_000


def as_torch_dtype(dtype: object) -> torch.dtype:
    """``"float32"``/``"float64"`` (or the torch dtypes) → ``torch.dtype``; else ``ValueError``."""
    name = str(dtype).replace("torch.", "")
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return getattr(torch, name)


class CastInput(torch.nn.Module):
    """Wraps a module so its input is cast to the module's parameter dtype (the shared training
    loop feeds float32 features; a float64 model needs float64)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.to(next(self.module.parameters()).dtype))


@contextmanager
def threads_for(n_rows: int, n_features: int, device: torch.device) -> Iterator[None]:
    """Run the block with one intra-op thread when the problem is small and on CPU."""
    if device.type != "cpu" or n_rows * n_features > SMALL_PROBLEM:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
