"""``SequencePool``: protein/DNA variants from a file, or a lazy combinatorial library.

A combinatorial site-saturation library has sites ``p_1 < … < p_m`` (1-based positions) with
alphabets ``A_1 … A_m``. Candidate ``i`` is the mixed-radix number with digits
``d_1 … d_m`` (``d_j < |A_j|``, last site fastest):

    i = ((d_1·|A_2| + d_2)·|A_3| + d_3)·… ,   residue at p_j = A_j[d_j]

so ``index -> sequence`` and ``sequence/id -> index`` are O(m) and nothing is materialised: a
library of 20⁶ = 6.4·10⁷ variants costs a few bytes. With a ``wild_type`` the sites mutate it
and the id is the mutation list (``"Q18A/Y20F"``, or ``"WT"``); without one the sites are the
whole sequence and the id is the sequence itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._base import Pool, check_unique_ids
from ._io import read_table_columns

__all__ = ["AMINO_ACIDS", "SequencePool", "check_library", "read_sites"]

#: the 20 standard amino acids, one-letter codes (``"*"`` in a ``sites`` table)
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"

_TOKEN = re.compile(r"([A-Za-z])(\d+)([A-Za-z])")


class _LazyIds(Sequence[str]):
    """The ids of a combinatorial library, computed on access."""

    def __init__(self, pool: SequencePool) -> None:
        self._pool = pool

    def __len__(self) -> int:
        return len(self._pool)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} outside the library of {len(self)}")
        return self._pool._id_of(self._pool._digits(np.array([i]))[0])

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


class SequencePool(Pool):
    """Sequences (str of one-letter residues). Forms: ``"sequence"``, ``"vector"`` (one-hot:
    per site of a library, or per position over the pool's letters for a file), ``"id"``."""

    kind = "sequences"
    forms = ("sequence", "vector")

    def __init__(self, sequences: Sequence[str], ids: Sequence[str] | None = None,
                 simulator_input: str = "sequence", source: str = "sequence pool") -> None:
        seqs = [str(s) for s in sequences]
        for i, s in enumerate(seqs):
            if not s.isalpha():
                raise ValueError(f"{source}: sequence {i} ({s[:30]!r}) must be one-letter "
                                 "residues only")
        self._ids = list(seqs if ids is None else ids)
        if len(self._ids) != len(seqs):
            raise ValueError(f"{source}: {len(self._ids)} ids for {len(seqs)} sequences")
        self._id_index = check_unique_ids(self._ids, source)
        self._seqs = seqs
        self._sites: tuple[tuple[int, str], ...] | None = None
        self._wild_type: str | None = None
        self.simulator_input = simulator_input

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike, fmt: str | None = None,
                  id_column: str | None = None, sequence_column: str = "sequence",
                  simulator_input: str = "sequence") -> SequencePool:
        """Read ``txt`` (``sequence`` or ``id sequence`` per line), ``csv`` or ``fasta``."""
        path = Path(path)
        fmt = fmt or {".csv": "csv", ".fasta": "fasta", ".fa": "fasta"}.get(path.suffix, "txt")
        if fmt == "csv":
            cols = read_table_columns(path, [sequence_column] + ([id_column] if id_column else []))
            seqs = cols[sequence_column]
            ids = cols[id_column] if id_column else None
        elif fmt == "fasta":
            ids, seqs = _read_fasta(path)
        else:
            ids, seqs = _read_lines(path)
        return cls(seqs, ids, simulator_input=simulator_input, source=str(path))

    @classmethod
    def combinatorial(cls, sites: Mapping[int, str], wild_type: str | None = None,
                      simulator_input: str = "sequence") -> SequencePool:
        """A site-saturation library ``{position (1-based): alphabet}``, optionally mutating
        ``wild_type``; enumerated lazily by mixed-radix index."""
        checked = read_sites({str(k): v for k, v in sites.items()})
        check_library(checked, wild_type)
        obj = cls.__new__(cls)
        obj._sites = checked
        obj._wild_type = wild_type
        obj.simulator_input = simulator_input
        obj._radix = np.array([len(a) for _, a in obj._sites], dtype=np.int64)
        obj._size = int(np.prod([int(r) for r in obj._radix], dtype=object))
        if obj._size > np.iinfo(np.int64).max:
            raise ValueError(f"the library has {obj._size} variants, more than an int64 index")
        # place value of each digit (last site fastest)
        obj._place = np.array([int(np.prod([int(r) for r in obj._radix[j + 1:]], dtype=object))
                               for j in range(len(obj._radix))], dtype=np.int64)
        obj._letters = [np.frombuffer(a.encode(), dtype=np.uint8) for _, a in obj._sites]
        return obj

    # --- Pool interface ---------------------------------------------------------------------
    @property
    def is_combinatorial(self) -> bool:
        return self._sites is not None

    def __len__(self) -> int:
        return self._size if self._sites is not None else len(self._seqs)

    @property
    def ids(self) -> Sequence[str]:
        return _LazyIds(self) if self._sites is not None else self._ids

    def index_of(self, ident: str) -> int:
        if self._sites is None:
            return super().index_of(ident)
        return int(self._digits_to_index(self._parse_id(ident)))

    def _get(self, indices: np.ndarray, form: str) -> Any:
        if self._sites is None:
            seqs = [self._seqs[i] for i in indices]
            return seqs if form == "sequence" else self._one_hot_file(seqs)
        digits = self._digits(indices)
        if form == "vector":
            return self._one_hot_sites(digits)
        return self._sequences(digits)

    def get(self, indices: Sequence[int] | np.ndarray, form: str) -> Any:
        if self._sites is not None and self._check_form(form) == "id":
            return [self._id_of(d) for d in self._digits(self._check_indices(indices))]
        return super().get(indices, form)

    # --- mixed-radix arithmetic ---------------------------------------------------------------
    def _digits(self, indices: np.ndarray) -> np.ndarray:
        """(k,) indices -> (k, m) digits."""
        return (indices[:, None] // self._place[None, :]) % self._radix[None, :]

    def _digits_to_index(self, digits: np.ndarray) -> int:
        return int(np.dot(digits, self._place))

    def _sequences(self, digits: np.ndarray) -> list[str]:
        assert self._sites is not None
        k = digits.shape[0]
        if self._wild_type is not None:
            wt = np.frombuffer(self._wild_type.encode(), dtype=np.uint8)
            out = np.tile(wt, (k, 1))
            for j, (pos, _) in enumerate(self._sites):
                out[:, pos - 1] = self._letters[j][digits[:, j]]
        else:
            out = np.stack([self._letters[j][digits[:, j]] for j in range(len(self._sites))],
                           axis=1)
        width = out.shape[1]
        return [b.decode() for b in np.ascontiguousarray(out).view(f"S{width}").ravel()]

    def _one_hot_sites(self, digits: np.ndarray) -> np.ndarray:
        """(k, Σ|A_j|) float one-hot of each site's residue."""
        offsets = np.concatenate([[0], np.cumsum(self._radix)[:-1]])
        out = np.zeros((digits.shape[0], int(self._radix.sum())), dtype=float)
        out[np.arange(digits.shape[0])[:, None], offsets[None, :] + digits] = 1.0
        return out

    def _one_hot_file(self, seqs: list[str]) -> np.ndarray:
        letters = self.__dict__.get("_alphabet")
        if letters is None:
            lengths = {len(s) for s in self._seqs}
            if len(lengths) != 1:
                raise ValueError("the 'vector' form needs sequences of one length; this pool "
                                 f"has lengths {sorted(lengths)[:5]}")
            letters = self.__dict__["_alphabet"] = "".join(sorted(set("".join(self._seqs))))
        lut = np.full(256, -1, dtype=np.int64)
        lut[np.frombuffer(letters.encode(), dtype=np.uint8)] = np.arange(len(letters))
        codes = lut[np.frombuffer("".join(seqs).encode(), dtype=np.uint8)].reshape(len(seqs), -1)
        out = np.zeros((len(seqs), codes.shape[1] * len(letters)), dtype=float)
        rows = np.arange(len(seqs))[:, None]
        out[rows, np.arange(codes.shape[1])[None, :] * len(letters) + codes] = 1.0
        return out

    def _id_of(self, digits: np.ndarray) -> str:
        assert self._sites is not None
        letters = [a[d] for (_, a), d in zip(self._sites, digits)]
        if self._wild_type is None:
            return "".join(letters)
        muts = [f"{self._wild_type[pos - 1]}{pos}{aa}"
                for (pos, _), aa in zip(self._sites, letters) if aa != self._wild_type[pos - 1]]
        return "/".join(muts) or "WT"

    def _parse_id(self, ident: str) -> np.ndarray:
        """The digits of a library id (inverse of :meth:`_id_of`); ValueError naming it."""
        assert self._sites is not None
        if not isinstance(ident, str):
            raise ValueError(f"id {ident!r} is not a string")
        if self._wild_type is None:
            residues = {pos: aa for (pos, _), aa in zip(self._sites, ident)} \
                if len(ident) == len(self._sites) else None
            if residues is None:
                raise ValueError(f"id {ident!r} is not a sequence of {len(self._sites)} residues")
        else:
            residues = {pos: self._wild_type[pos - 1] for pos, _ in self._sites}
            for token in ([] if ident == "WT" else ident.split("/")):
                m = _TOKEN.fullmatch(token)
                pos = int(m.group(2)) if m else -1
                if m is None or pos not in residues or self._wild_type[pos - 1] != m.group(1):
                    raise ValueError(f"id {ident!r}: {token!r} is not a mutation at a library "
                                     "site of this wild type")
                residues[pos] = m.group(3)
        digits = []
        for pos, alphabet in self._sites:
            j = alphabet.find(residues[pos])
            if j < 0:
                raise ValueError(f"id {ident!r} is not in this library: residue "
                                 f"{residues[pos]!r} at site {pos} is not one of {alphabet!r}")
            digits.append(j)
        return np.array(digits, dtype=np.int64)


def _read_lines(path: Path) -> tuple[list[str] | None, list[str]]:
    ids: list[str] = []
    seqs: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) > 2:
                raise ValueError(f"{path}:{line_no}: expected 'sequence' or 'id sequence'")
            seqs.append(parts[-1])
            ids.append(parts[0] if len(parts) == 2 else parts[-1])
    return ids, seqs


def _read_fasta(path: Path) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    chunks: list[list[str]] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            line = line.strip()
            if line.startswith(">"):
                ids.append(line[1:].split()[0] if line[1:].split() else f"seq{len(ids)}")
                chunks.append([])
            elif line:
                if not chunks:
                    raise ValueError(f"{path}:{line_no}: sequence before the first '>' header")
                chunks[-1].append(line)
    return ids, ["".join(c) for c in chunks]


def read_sites(value: Any) -> tuple[tuple[int, str], ...]:
    """``{"18": "AFY", "20": "*"}`` -> ``((18, "AFY"), (20, AMINO_ACIDS))``, checked."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError("pool.sites must be a non-empty table: position = \"alphabet\"")
    sites = []
    for key, alphabet in value.items():
        try:
            pos = int(str(key))
        except ValueError:
            raise ValueError(f"pool.sites.{key}: a site is a 1-based position number") from None
        if pos < 1:
            raise ValueError(f"pool.sites.{key}: positions start at 1")
        if alphabet == "*":
            alphabet = AMINO_ACIDS
        if not isinstance(alphabet, str) or not alphabet or not alphabet.isalpha():
            raise ValueError(f"pool.sites.{key} must be a string of one-letter residues, "
                             f"got {alphabet!r}")
        dup = sorted({c for c in alphabet if alphabet.count(c) > 1})
        if dup:
            raise ValueError(f"pool.sites.{key}: residue {dup[0]!r} appears twice in {alphabet!r}")
        sites.append((pos, alphabet))
    sites.sort()
    positions = [pos for pos, _ in sites]
    for pos in positions:
        if positions.count(pos) > 1:
            raise ValueError(f"pool.sites: position {pos} is given twice")
    return tuple(sites)


def check_library(sites: tuple[tuple[int, str], ...], wild_type: str | None) -> None:
    """A site library is the whole sequence 1..L (no ``wild_type``), or sites inside the
    ``wild_type`` it mutates; errors name the ``pool.sites`` / ``pool.wild_type`` key."""
    if wild_type is None:
        missing = sorted(set(range(1, sites[-1][0] + 1)) - {pos for pos, _ in sites})
        if missing:
            raise ValueError(f"pool.sites: position {missing[0]} is missing; without "
                             "pool.wild_type the sites are the whole sequence 1..L")
        return
    if not wild_type.isalpha():
        raise ValueError("pool.wild_type must be a sequence of one-letter residues")
    for pos, _ in sites:
        if pos > len(wild_type):
            raise ValueError(f"pool.sites.{pos} lies beyond the wild type's "
                             f"{len(wild_type)} residues")
