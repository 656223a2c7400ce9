"""Shared helpers for benchmark scripts: machine description, the result JSON, a printed table.

Every benchmark writes ``benchmarks/results/NAME.json``::

    {"benchmark": NAME, "quick": bool, "machine": {...}, "rows": [{"method": ..., ...}],
     "targets": {metric: target}, ...extra}
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RESULTS", "LoadWatch", "ensure_venv", "machine_info", "print_table", "save_figure",
           "write_result"]

#: where result files go
RESULTS = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """CPU, core count, load average, Python/torch versions and the GPU (if any) this run used."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # every result records how busy the (often shared) machine was when it was written
        "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:  # pragma: no cover - torch is a dependency
        info["torch"] = None
    return info


def _plain(value: Any) -> Any:
    """JSON-ready values: numpy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_result(name: str, quick: bool, rows: Sequence[Mapping[str, Any]],
                 targets: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``benchmarks/results/NAME.json`` and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"benchmark": name, "quick": bool(quick), "machine": machine_info(),
                            "rows": [dict(r) for r in rows], "targets": dict(targets)}
    if extra:
        data.update(extra)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(_plain(data), indent=2) + "\n")
    return path


def print_table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
    """Print rows (dicts sharing keys) as an aligned text table."""
    if not rows:
        print("(no rows)")
        return
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]

    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "nan" if not math.isfinite(v) else f"{v:.4g}"
        return "" if v is None else str(v)

    cells = [[fmt(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    if title:
        print(title)
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)))


class LoadWatch:
    """The machine's load averages (1, 5, 15 min) when a benchmark started and now: on a
    shared machine they explain most of the timing noise, so every result records both."""

    def __init__(self) -> None:
        self.start = list(os.getloadavg())

    def record(self) -> dict[str, list[float]]:
        """``{"start": [...], "end": [...]}`` for the result JSON."""
        return {"start": self.start, "end": list(os.getloadavg())}


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Lay out ``fig``, write it as PNG to ``path`` (``.png`` suffix forced) and close it."""
    import matplotlib.pyplot as plt

    out = Path(path).with_suffix(".png")
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def ensure_venv(name: str, packages: Sequence[str], check: str) -> Path | None:
    """The python of ``benchmarks/.NAME-venv``, a peer tool's own environment (created once:
    the CPU torch 2.13.0 first, so no multi-GB CUDA build is pulled, then ``packages``).

    A peer often pins versions scoutlab cannot share (MACE pins e3nn 0.4.4), so it runs in its
    own venv as a subprocess. ``check`` is an import that proves the venv works. Returns
    ``None`` (after saying why) when the venv cannot be built here.
    """
    py = Path(__file__).resolve().parent / f".{name}-venv" / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", check], capture_output=True).returncode == 0:
        return py
    venv = py.parents[1]
    print(f"creating {venv} (one time; torch CPU + {' '.join(packages)})", file=sys.stderr)
    steps = [[sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv)],
             [str(py), "-m", "ensurepip"],
             [str(py), "-m", "pip", "install", "-q", "torch==2.13.0"],  # the CPU wheel here
             [str(py), "-m", "pip", "install", "-q", *packages]]
    for cmd in steps:
        if subprocess.run(cmd).returncode != 0:
            print(f"could not build {venv} ({' '.join(cmd[:5])}); skipping {name}",
                  file=sys.stderr)
            return None
    return py
