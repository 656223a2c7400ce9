"""Shared test fixtures: every test is seeded; numerics run in float32 and float64."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

#: tolerances per dtype for numerics tests (relative, absolute)
TOLERANCES = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-10, 1e-12)}

# The unit tests use tiny models: on a small shared machine, torch's intra-op threads cost far
# more in synchronisation than they gain (10-100x slower with 2 threads under load). One thread
# keeps the suite fast and its timings steady; benchmarks set their own thread counts.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    """Seed python, numpy and torch before every test."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 - libraries still draw from the legacy global RNG
    torch.manual_seed(0)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """Parametrise a numerics test over float32 and float64."""
    return request.param


@pytest.fixture
def tol(dtype: torch.dtype) -> tuple[float, float]:
    """``(rtol, atol)`` matching the ``dtype`` fixture."""
    return TOLERANCES[dtype]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``gpu`` tests on machines without CUDA, saying why."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA; this machine has no GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
