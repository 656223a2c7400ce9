"""A small real molecule campaign for the export, status and report tests: nine molecules
judged by GFN2-xTB (the ethyl radical among them, and table salt, whose two ions RDKit places
too close for xTB: a real failure with its reason), a GP scout, every molecule simulated."""

from __future__ import annotations

from pathlib import Path

from active_learning import Campaign
from tests.active_learning._toml import write_campaign

SMILES = {"methane": "C", "ethane": "CC", "ethyl": "C[CH2]", "ethanol": "CCO",
          "benzene": "c1ccccc1", "acetic": "CC(=O)O", "hcn": "C#N", "water": "O", "salt": "[Na+].[Cl-]"}


def run_campaign(folder: Path, budget: int = 9) -> Path:
    (folder / "pool.smi").write_text("".join(f"{s} {k}\n" for k, s in SMILES.items()))
    cfg = write_campaign(folder, {
        "campaign": {"name": "mols", "objective": "gap", "direction": "minimize",
                     "budget": budget, "batch_size": 2, "initial": 4, "seed": 0},
        "pool": {"kind": "molecules", "path": "pool.smi"},
        "simulator": {"kind": "xtb", "n_threads": 1},
        "surrogate": {"kind": "gp", "n_restarts": 0, "n_bits": 256},
    })
    Campaign.from_toml(cfg, progress=False).run()
    return cfg
