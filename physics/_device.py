"""Device selection shared by every package: ``device="auto"`` means CUDA when present."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return a ``torch.device``: ``"auto"``/``None`` picks ``cuda`` when available, else ``cpu``.

    An explicit ``"cuda"`` on a machine without CUDA raises a clear ``ValueError``.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} requested but CUDA is not available here")
    return dev
