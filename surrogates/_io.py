"""One-file model format: safetensors weights + a JSON header. Loading never executes code.

A model file holds ``{"format": FORMAT, "class": <registered name>, ...}`` as JSON in the
safetensors metadata, and named tensors. :func:`load_model` only builds classes found in
:data:`MODELS`, so a file cannot name arbitrary code; a pickle (or anything that is not a
safetensors file) is refused with a clear error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

__all__ = ["FORMAT", "MODELS", "Saveable", "load_model", "read_model_file", "register_model",
           "write_model_file"]

FORMAT = "scoutlab-model/1"


class _Loadable(Protocol):
    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any: ...


#: the classes a model file may name; filled by ``register_model``
MODELS: dict[str, type] = {}


def register_model(cls: type) -> type:
    """Class decorator: allow ``cls`` (with ``_to_state``/``_from_state``) in model files."""
    name = cls.__name__
    if name in MODELS and MODELS[name] is not cls:
        raise ValueError(f"model class name {name!r} is already registered")
    MODELS[name] = cls
    return cls


def write_model_file(path: str | os.PathLike, meta: dict[str, Any],
                     tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``tensors`` and JSON-serialisable ``meta`` to one safetensors file, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, **meta}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"scoutlab": json.dumps(header)})
    os.replace(tmp, path)
    return path


def read_model_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read a model file written by :func:`write_model_file`; refuse anything else."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(
            f"{str(path)!r} is not a scoutlab model file (safetensors with a JSON header); "
            f"refusing to load it ({exc})"
        ) from None
    try:
        meta = json.loads(metadata["scoutlab"])
    except (KeyError, json.JSONDecodeError):
        raise ValueError(f"{str(path)!r} has no scoutlab header; refusing to load it") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} has format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta, tensors


def load_model(path: str | os.PathLike) -> Any:
    """Load any registered model (surrogate, ensemble, screener) from its file."""
    meta, tensors = read_model_file(path)
    cls = MODELS.get(meta.get("class", ""))
    if cls is None:
        raise ValueError(
            f"{str(path)!r} names model class {meta.get('class')!r}, which is not one of "
            f"{sorted(MODELS)}; refusing to load it"
        )
    return cls._from_state(meta, tensors)


class Saveable:
    """``save``/``load`` of one model file, for any class with ``_to_state`` (JSON-ready meta,
    named tensors) and the classmethod ``_from_state(meta, tensors)``, registered in
    :data:`MODELS` (surrogates, ensembles, screeners)."""

    def _to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    @classmethod
    def _from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any:
        raise NotImplementedError(f"{cls.__name__} cannot be loaded")

    def save(self, path: str | os.PathLike) -> Path:
        """Write config and weights to one file (safetensors + JSON header; no pickle)."""
        meta, tensors = self._to_state()
        return write_model_file(path, {"class": type(self).__name__, **meta}, tensors)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Any:
        """Load a file written by :meth:`save`; never executes code from the file."""
        obj = load_model(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{str(path)!r} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with ``prefix``, with the prefix removed."""
    n = len(prefix)
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix)}


Builder = Callable[[dict[str, Any], dict[str, torch.Tensor]], Any]
