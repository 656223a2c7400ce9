"""``Prediction``: what every surrogate returns and the only thing acquisition ever sees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Prediction"]


@dataclass(frozen=True)
class Prediction:
    """A posterior summary per candidate.

    Attributes:
        mean: shape ``(n,)`` for a scalar target, ``(n, k)`` for a vector target (e.g. dipole).
        std: same shape as ``mean``; ``None`` for a single model, a real spread for an ensemble.
    """

    mean: np.ndarray
    std: np.ndarray | None = None

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=float)
        object.__setattr__(self, "mean", mean)
        if self.std is not None:
            std = np.asarray(self.std, dtype=float)
            if std.shape != mean.shape:
                raise ValueError(f"std shape {std.shape} differs from mean shape {mean.shape}")
            object.__setattr__(self, "std", std)

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    def __getitem__(self, index: int | slice | np.ndarray) -> Prediction:
        std = None if self.std is None else self.std[index]
        return Prediction(np.atleast_1d(self.mean[index]), None if std is None else np.atleast_1d(std))

    @staticmethod
    def concatenate(parts: list[Prediction]) -> Prediction:
        """Join predictions made in chunks (all with or all without ``std``)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        mean = np.concatenate([p.mean for p in parts])
        if any(p.std is None for p in parts):
            return Prediction(mean, None)
        return Prediction(mean, np.concatenate([p.std for p in parts]))
