"""Sensor variants in: full sequences or mutation lists ("A2V") → alphabet indices.

A variant is either a string of exactly ``n_sites`` letters of the alphabet, or mutations
relative to the wild type written ``<wt letter><1-based position><new letter>`` — a list such
as ``["A2V", "K5R"]`` (the empty list is the wild type) or one string joined by ``-``, ``,``,
``+``, ``/`` or spaces, e.g. ``"A2V-K5R"``. Each problem raises :class:`CandidateError` with a
message saying what is wrong (the caller prefixes the variant).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import CandidateError

_MUTATION = re.compile(r"^([A-Za-z*])(\d+)([A-Za-z*])$")
_SEPARATORS = re.compile(r"[-,+/\s]+")


class VariantCodec:
    """Turns variants into index arrays over ``alphabet`` relative to ``wild_type``."""

    def __init__(self, alphabet: str, wild_type: np.ndarray):
        if len(set(alphabet)) != len(alphabet) or any(ch.isdigit() for ch in alphabet):
            raise ValueError(f"alphabet must be distinct non-digit letters, got {alphabet!r}")
        self.alphabet = alphabet
        self.lookup = {ch: i for i, ch in enumerate(alphabet)}
        self.wild_type = np.asarray(wild_type, dtype=np.int64)
        self.wild_type_str = "".join(alphabet[i] for i in self.wild_type)

    @property
    def n_sites(self) -> int:
        return int(self.wild_type.size)

    def encode(self, variant: Any) -> np.ndarray:
        """(n_sites,) int64 indices of one variant; raises CandidateError naming the problem."""
        if isinstance(variant, str):
            if len(variant) == self.n_sites and all(ch in self.lookup for ch in variant):
                return np.array([self.lookup[ch] for ch in variant], dtype=np.int64)
            if any(ch.isdigit() for ch in variant):
                return self._apply([m for m in _SEPARATORS.split(variant.strip()) if m])
            return self._bad_sequence(variant)
        if isinstance(variant, Sequence) and all(isinstance(m, str) for m in variant):
            return self._apply(list(variant))
        raise CandidateError("expected a sequence string or a list of mutations like 'A2V', "
                             f"got {type(variant).__name__}")

    def sequence(self, variant: Any) -> str:
        """The full sequence string of a variant."""
        return "".join(self.alphabet[i] for i in self.encode(variant))

    def _bad_sequence(self, seq: str) -> np.ndarray:
        if len(seq) != self.n_sites:
            raise CandidateError(f"length {len(seq)}, expected {self.n_sites} sites (or "
                                 "mutations like 'A2V')")
        pos, ch = next((i, ch) for i, ch in enumerate(seq) if ch not in self.lookup)
        raise CandidateError(f"unknown letter {ch!r} at position {pos + 1}; alphabet is "
                             f"{self.alphabet!r}")

    def _apply(self, mutations: list[str]) -> np.ndarray:
        idx = self.wild_type.copy()
        seen: set[int] = set()
        for mut in mutations:
            m = _MUTATION.match(mut.strip())
            if m is None:
                raise CandidateError(f"mutation {mut!r}: expected <wt letter><position><new "
                                     "letter>, e.g. 'A2V'")
            wt, pos, new = m.group(1), int(m.group(2)), m.group(3)
            if not 1 <= pos <= self.n_sites:
                raise CandidateError(f"mutation {mut!r}: position {pos} outside 1..{self.n_sites}")
            for ch in (wt, new):
                if ch not in self.lookup:
                    raise CandidateError(f"mutation {mut!r}: unknown letter {ch!r}; alphabet "
                                         f"is {self.alphabet!r}")
            if self.lookup[wt] != self.wild_type[pos - 1]:
                raise CandidateError(f"mutation {mut!r}: wild type has "
                                     f"{self.wild_type_str[pos - 1]!r} at position {pos}, "
                                     f"not {wt!r}")
            if pos in seen:
                raise CandidateError(f"mutation {mut!r}: position {pos} is mutated twice")
            seen.add(pos)
            idx[pos - 1] = self.lookup[new]
        return idx

    def random_variants(self, count: int, n_mutations: int, seed: int) -> list[str]:
        """``count`` sequences with exactly ``n_mutations`` random substitutions each."""
        if not 0 <= n_mutations <= self.n_sites:
            raise ValueError(f"n_mutations must be in 0..{self.n_sites}, got {n_mutations}")
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(count):
            idx = self.wild_type.copy()
            for pos in rng.choice(self.n_sites, n_mutations, replace=False):
                choices = [a for a in range(len(self.alphabet)) if a != self.wild_type[pos]]
                idx[pos] = rng.choice(choices)
            out.append("".join(self.alphabet[i] for i in idx))
        return out
