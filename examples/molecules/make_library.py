"""Pick the example library: 300 small, neutral, drug-like molecules from Enamine10k.

Source: MolPAL's ``data/Enamine10k_scores.csv.gz`` (github.com/coleygroup/molpal, commit
a403233, MIT licence), columns ``smiles,score``. Rules, applied in file order:

1. RDKit parses the SMILES (sanitised);
2. at most 20 heavy atoms (xTB then costs well under a few seconds per molecule here);
3. elements H, C, N, O, F, S, Cl only; no formal charges and no radicals (neutral, closed shell);
4. a SMILES that appears more than once in the source is dropped (its score is ambiguous).

From the molecules that pass, 300 are drawn with ``numpy.random.default_rng(0)`` without
replacement and written in source order as ``SMILES id`` lines, the id being ``enamine-<row>``
(the 0-based data row in the source file), so each pick can be traced back.

    python examples/molecules/make_library.py [--source PATH] [--n 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import gzip
from collections import Counter
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "data" / "molpal" / "Enamine10k_scores.csv.gz"
ALLOWED = {"H", "C", "N", "O", "F", "S", "Cl"}
MAX_HEAVY = 20


def keep(smiles: str) -> bool:
    """True for a molecule that satisfies rules 1-3 of the module docstring."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumHeavyAtoms() > MAX_HEAVY:
        return False
    return all(a.GetSymbol() in ALLOWED and a.GetFormalCharge() == 0
               and a.GetNumRadicalElectrons() == 0 for a in mol.GetAtoms())


def pick(source: Path, n: int, seed: int) -> list[tuple[str, str]]:
    """``[(smiles, id), ...]`` in source order."""
    with gzip.open(source, "rt", newline="") as fh:
        rows = [r["smiles"].strip() for r in csv.DictReader(fh)]
    counts = Counter(rows)
    ok = [i for i, smi in enumerate(rows) if counts[smi] == 1 and keep(smi)]
    if len(ok) < n:
        raise SystemExit(f"only {len(ok)} molecules pass the rules; asked for {n}")
    chosen = np.sort(np.random.default_rng(seed).choice(ok, size=n, replace=False))
    return [(rows[i], f"enamine-{i}") for i in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "library.smi")
    args = parser.parse_args()
    picks = pick(args.source, args.n, args.seed)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(f"# {args.n} molecules from Enamine10k (MolPAL, MIT); made by "
                 f"make_library.py --n {args.n} --seed {args.seed}\n")
        for smiles, ident in picks:
            fh.write(f"{smiles} {ident}\n")
    print(f"wrote {len(picks)} molecules to {args.out}")


if __name__ == "__main__":
    main()
