"""Reading pool tables (CSV, optionally gzipped) with pandas, with errors that name the cell."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["POOL_FORMATS", "infer_format", "read_csv", "read_smi_rows", "read_table_columns"]

#: file formats each pool kind reads
POOL_FORMATS: dict[str, tuple[str, ...]] = {
    "molecules": ("smi", "csv", "extxyz", "db"),
    "sequences": ("txt", "csv", "fasta"),
    "designs": ("csv", "npy"),
}
_SUFFIXES = {".smi": "smi", ".smiles": "smi", ".csv": "csv", ".xyz": "extxyz",
             ".extxyz": "extxyz", ".db": "db", ".txt": "txt", ".seq": "txt", ".fasta": "fasta",
             ".fa": "fasta", ".faa": "fasta", ".npy": "npy"}


def infer_format(path: Path) -> str | None:
    """Format from the file name (``.gz`` is looked through), or ``None`` if unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return _SUFFIXES.get(suffixes[-1]) if suffixes else None


def read_smi_rows(path: Path) -> list[tuple[int, str, str]]:
    """``(line number, SMILES, id)`` for each candidate line of a ``.smi`` file (``SMILES
    [id]``; the id defaults to the SMILES). Blank lines, lines starting with ``#`` and a first
    line ``smiles ...`` (a header) are skipped; line numbers count from 1."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if parts[0].lower() == "smiles" and line_no == 1:
                continue  # a header line
            if len(parts) > 2:
                raise ValueError(f"{path}:{line_no}: expected 'SMILES [id]', got {line.strip()!r}")
            rows.append((line_no, parts[0], parts[1] if len(parts) == 2 else parts[0]))
    return rows


def read_csv(path: Path, usecols: Sequence[str] | None = None):  # -> pandas.DataFrame
    """``pandas.read_csv`` (``.gz`` handled), with a missing column named in the error."""
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0, comment=None).columns.tolist()
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV table ({exc})") from None
    for col in usecols or ():
        if col not in header:
            raise ValueError(f"{path}: no column {col!r}; columns are {', '.join(header)}")
    return pd.read_csv(path, usecols=list(usecols) if usecols else None, dtype=object
                       if usecols is None else dict.fromkeys(usecols, str),
                       keep_default_na=False)


def read_table_columns(path: Path, columns: Sequence[str]) -> dict[str, list[str]]:
    """The named columns as lists of non-empty strings; an empty cell names its row."""
    frame = read_csv(path, list(dict.fromkeys(columns)))
    out: dict[str, list[str]] = {}
    for col in columns:
        values = frame[col].astype(str).str.strip().tolist()
        empty = np.flatnonzero(np.array([not v for v in values], dtype=bool))
        if empty.size:
            raise ValueError(f"{path}: column {col!r} is empty in data row {int(empty[0])} "
                             "(0-based)")
        out[col] = values
    return out
