"""Variant encoding shared by the dose-response surrogates: sequences → one-hot, vectors → z-scores.

Conventions are fixed here, where inputs enter (BoTorch's ``t_batch_mode_transform`` idea): a
sequence library is a list of equal-length strings over a fixed alphabet; a design-vector library
is an ``(n, d)`` array of finite numbers. Everything downstream sees one float matrix
``(n, d_enc)``: ``d_enc = length * len(alphabet)`` for sequences (site-major one-hot), ``d`` for
vectors (standardised with the training mean and scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import NotFittedError

__all__ = ["AMINO_ACIDS", "InputEncoder"]

#: the 20 standard amino acids, one-letter codes
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def _is_sequence_library(X: Any) -> bool:
    if isinstance(X, np.ndarray):
        return X.dtype.kind in "UO" and X.ndim == 1 and (len(X) == 0 or isinstance(X[0], str))
    return isinstance(X, Sequence) and len(X) > 0 and isinstance(X[0], str)


class InputEncoder:
    """Validate and encode a library of variants.

    Args:
        alphabet: allowed letters of a sequence (case-sensitive; duplicates rejected).

    Call :meth:`fit` once on the training library (it fixes the mode, the sequence length or the
    vector width and the standardisation), then :meth:`transform` on any library.
    """

    def __init__(self, alphabet: str = AMINO_ACIDS) -> None:
        if not isinstance(alphabet, str) or not alphabet:
            raise ValueError(f"alphabet must be a non-empty string, got {alphabet!r}")
        if len(set(alphabet)) != len(alphabet):
            raise ValueError(f"alphabet {alphabet!r} repeats a letter")
        self.alphabet = alphabet
        self.mode: str | None = None  # "sequence" | "vector"
        self.length: int | None = None  # sequence length, or vector width d
        self.mean: np.ndarray | None = None  # (d,) vectors only
        self.scale: np.ndarray | None = None  # (d,) vectors only
        self._index = {c: i for i, c in enumerate(alphabet)}

    # --- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any) -> InputEncoder:
        """Fix mode, length/width and (vectors) the standardisation from the training library."""
        if isinstance(X, (str, bytes)):
            raise ValueError("X must be a list of sequences or an (n, d) array, got a single string")
        if _is_sequence_library(X):
            self.mode = "sequence"
            self.length = len(X[0])
            if self.length == 0:
                raise ValueError("sequence 0 is empty")
            self._one_hot(X)  # validates every row
        else:
            V = self._as_matrix(X, width=None)
            self.mode = "vector"
            self.length = V.shape[1]
            self.mean = V.mean(axis=0)
            scale = V.std(axis=0)
            self.scale = np.where(scale > 0, scale, 1.0)
        return self

    @property
    def n_features(self) -> int:
        """Width of the encoded matrix."""
        self._check_fitted()
        assert self.length is not None
        return self.length * len(self.alphabet) if self.mode == "sequence" else self.length

    # --- encoding --------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """Encode a library → float64 array ``(n, n_features)``; bad rows raise ``ValueError``."""
        self._check_fitted()
        if isinstance(X, (str, bytes)):
            raise ValueError("X must be a list of sequences or an (n, d) array, got a single string")
        if self.mode == "sequence":
            if not _is_sequence_library(X):
                raise ValueError("this model was fitted on sequences; pass a list of strings")
            return self._one_hot(X)
        if _is_sequence_library(X):
            raise ValueError("this model was fitted on design vectors; pass an (n, d) array")
        V = self._as_matrix(X, width=self.length)
        return (V - self.mean) / self.scale

    def _one_hot(self, X: Sequence[str]) -> np.ndarray:
        L, A = int(self.length or 0), len(self.alphabet)
        out = np.zeros((len(X), L, A))
        for row, seq in enumerate(X):
            if not isinstance(seq, str):
                raise ValueError(f"sequence {row} is a {type(seq).__name__}, not a str")
            if len(seq) != L:
                raise ValueError(f"sequence {row} ({seq!r}) has length {len(seq)}, expected {L}")
            for pos, letter in enumerate(seq):
                j = self._index.get(letter)
                if j is None:
                    raise ValueError(
                        f"sequence {row} ({seq!r}) has unknown letter {letter!r} at position "
                        f"{pos}; the alphabet is {self.alphabet!r}"
                    )
                out[row, pos, j] = 1.0
        return out.reshape(len(X), L * A)

    @staticmethod
    def _as_matrix(X: Any, width: int | None) -> np.ndarray:
        try:
            V = np.asarray(X, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"X must be a list of sequences or an (n, d) array: {exc}") from None
        if V.ndim != 2 or V.shape[0] == 0:
            raise ValueError(f"design vectors must be a non-empty (n, d) array, got shape {V.shape}")
        if width is not None and V.shape[1] != width:
            raise ValueError(f"design vectors have {V.shape[1]} columns, expected {width}")
        bad = np.flatnonzero(~np.isfinite(V).all(axis=1))
        if bad.size:
            raise ValueError(f"design vector {bad[0]} has a non-finite entry: {V[bad[0]].tolist()}")
        return V

    def _check_fitted(self) -> None:
        if self.mode is None:
            raise NotFittedError("this InputEncoder is not fitted yet: call fit(X) first")

    # --- persistence -----------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """JSON-ready meta and tensors (the vector standardisation)."""
        self._check_fitted()
        meta = {"alphabet": self.alphabet, "mode": self.mode, "length": self.length}
        tensors = {}
        if self.mode == "vector":
            tensors = {"mean": torch.as_tensor(self.mean), "scale": torch.as_tensor(self.scale)}
        return meta, tensors

    @classmethod
    def from_state(cls, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> InputEncoder:
        enc = cls(meta["alphabet"])
        enc.mode, enc.length = meta["mode"], int(meta["length"])
        if enc.mode == "vector":
            enc.mean = tensors["mean"].double().numpy()
            enc.scale = tensors["scale"].double().numpy()
        return enc
