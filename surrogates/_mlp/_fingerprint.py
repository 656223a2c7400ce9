"""``FingerprintSurrogate`` (Morgan count fingerprints → MLP) and ``MLPSurrogate`` (vectors → MLP).

The cheap molecule model: the campaign's ``"fingerprint"`` surrogate kind, the invariant-only
student of a GNN teacher (it reads the same molecules from their SMILES, without 3D), and the
MolPAL benchmark baseline.

Training, prediction, distillation targets (``y_std``) and persistence live in
:class:`~surrogates._mlp._base.MLPSurrogateBase`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from ase import Atoms

from .._base import DEPRECATED, Compression, register_surrogate
from ._base import MLPSurrogateBase

__all__ = ["FingerprintSurrogate", "MLPSurrogate", "as_smiles", "morgan_counts"]


def as_smiles(X: Any) -> list[str]:
    """Candidates → SMILES: str items as they are, ``ase.Atoms`` via ``atoms.info["smiles"]``."""
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence | np.ndarray):
        raise ValueError(f"expected a list of SMILES or ase.Atoms, got {type(X).__name__}")
    out = []
    for i, item in enumerate(X):
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Atoms) and isinstance(item.info.get("smiles"), str):
            out.append(item.info["smiles"])
        else:
            raise ValueError(f"candidate {i}: expected a SMILES str or ase.Atoms with "
                             f"info['smiles'], got {type(item).__name__}")
    return out


@lru_cache(maxsize=8)
def _generator(radius: int, n_bits: int) -> Any:
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def morgan_counts(smiles: Sequence[str], radius: int, n_bits: int,
                  offset: int = 0) -> np.ndarray:
    """Morgan count fingerprints, shape ``(n, n_bits)`` float32; bad SMILES → ValueError.

    ``offset`` is added to the index named in error messages (for chunked featurisation).
    """
    from rdkit import Chem, rdBase

    gen = _generator(int(radius), int(n_bits))
    out = np.zeros((len(smiles), int(n_bits)), dtype=np.float32)
    with rdBase.BlockLogs():
        for i, smi in enumerate(smiles):
            mol = Chem.MolFromSmiles(smi) if smi else None
            if mol is None:
                raise ValueError(f"candidate {i + offset}: invalid SMILES {smi!r}")
            out[i] = gen.GetCountFingerprintAsNumPy(mol)
    return out


@register_surrogate("fingerprint")
class FingerprintSurrogate(MLPSurrogateBase):
    """Morgan count fingerprint MLP regressor.

    Args:
        radius: Morgan radius (2 ≈ ECFP4).
        n_bits: fingerprint length (hashed), the network's input width.
        hidden: hidden layer widths, e.g. ``(512, 256)``.
        lr, weight_decay: AdamW settings.
        epochs, batch_size, patience, val_fraction: training loop; early stopping on a
            held-out ``val_fraction`` keeps the best weights.
        warm_start: when ``True`` and already fitted, ``fit`` continues from the current
            weights and target scaling (used to fine-tune a pruned model).
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        random_state: seeds initialisation, split and batch order.
        max_epochs: deprecated name of ``epochs`` (removed in the next release).
    """

    input_kind = "smiles"
    log_input = True
    compression = Compression(student="features", prune="mlp_units", quantize="mlp",
                              sample_weight=True, default_student="fingerprint")

    def __init__(self, radius: int = 2, n_bits: int = 2048, hidden: Sequence[int] = (512, 256),
                 lr: float = 1e-3, weight_decay: float = 1e-4, epochs: int = 300,
                 batch_size: int = 128, patience: int = 20, val_fraction: float = 0.1,
                 warm_start: bool = False, device: str = "auto", random_state: int = 0,
                 max_epochs: int | str = DEPRECATED) -> None:
        self.radius = radius
        self.n_bits = n_bits
        self.hidden = hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_fraction = val_fraction
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.max_epochs = max_epochs

    def featurize(self, X: Any, offset: int = 0) -> np.ndarray:
        """SMILES (or Atoms with ``info["smiles"]``) → ``(n, n_bits)`` float32 counts.

        ``offset`` is added to the candidate index named in errors (chunked featurisation).
        """
        return morgan_counts(as_smiles(X), self.radius, self.n_bits, offset=offset)


@register_surrogate("mlp")
class MLPSurrogate(MLPSurrogateBase):
    """A plain MLP on design vectors ``(n, d)`` (z-scored with the training mean and scale).

    Args: as :class:`FingerprintSurrogate` without ``radius``/``n_bits``.
    """

    input_kind = "vector"
    standardize_input = True
    compression = Compression(student="features", prune="mlp_units", quantize="mlp",
                              sample_weight=True, default_student="mlp")

    def __init__(self, hidden: Sequence[int] = (128, 64), lr: float = 1e-3,
                 weight_decay: float = 1e-4, epochs: int = 300, batch_size: int = 128,
                 patience: int = 20, val_fraction: float = 0.1, warm_start: bool = False,
                 device: str = "auto", random_state: int = 0,
                 max_epochs: int | str = DEPRECATED) -> None:
        self.hidden = hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_fraction = val_fraction
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.max_epochs = max_epochs

    def featurize(self, X: Any, offset: int = 0) -> np.ndarray:
        """Design vectors ``(n, d)`` → float32; a non-finite entry names its row."""
        F = np.asarray(X, dtype=np.float32)
        if F.ndim != 2:
            raise ValueError(f"expected an (n, d) array of design vectors, got shape {F.shape}")
        bad = np.flatnonzero(~np.isfinite(F).all(axis=1))
        if bad.size:
            raise ValueError(f"candidate {int(bad[0]) + offset}: non-finite design vector")
        return F
