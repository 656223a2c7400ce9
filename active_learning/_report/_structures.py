"""RDKit depictions of the best candidates, each labelled with its rank, id and value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._plots import Plot

__all__ = ["depict_top"]

#: candidates drawn, and per row of the grid
MAX_DRAWN = 12
PER_ROW = 4


def depict_top(top: list[dict[str, Any]], info: Any, out: Path) -> list[Plot]:
    """A grid of 2D structures of the top candidates that have a SMILES (RDKit), each with
    ``rank. id`` and its simulated value with unit; empty when none has a SMILES."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import Draw

    mols, legends = [], []
    with rdBase.BlockLogs():
        for rank, row in enumerate(top[:MAX_DRAWN], 1):
            mol = Chem.MolFromSmiles(row["smiles"]) if row.get("smiles") else None
            if mol is None:
                continue
            mols.append(mol)
            legends.append(f"{rank}. {row['id']}: {info.name} {row['value']:.4g} {info.unit}"
                           .rstrip())
    if not mols:
        return []
    options = Draw.MolDrawOptions()
    options.legendFontSize = 15
    options.legendFraction = 0.16
    image = Draw.MolsToGridImage(mols, molsPerRow=min(PER_ROW, len(mols)),
                                 subImgSize=(280, 230), legends=legends, drawOptions=options)
    name = "top_structures.png"
    image.save(out / name)
    caption = (f"The {len(mols)} best candidates so far (rank. id: simulated {info.name}), "
               f"drawn from their SMILES with RDKit; the values are the judge's, on the 3D "
               f"structure it computed (see `scout export`).")
    return [Plot(name, caption)]
