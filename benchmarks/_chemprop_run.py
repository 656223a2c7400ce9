"""Chemprop side of the campaign benchmarks: one D-MPNN fit and prediction, run by
``benchmarks/.chemprop-venv/bin/python`` (chemprop 2.3.1 pins its own stack).

Usage: ``python _chemprop_run.py IN.json OUT.json`` with ``IN`` = ``{"train_smiles", "train_y",
"pool_smiles", "seed", "epochs"}``; writes ``{"pred": [...], "seconds": fit + predict}``.
Chemprop's command-line defaults: bond message passing (hidden 300, depth 3), norm
aggregation, one 300-wide FFN layer, targets standardised, 50 epochs, Noam-like schedule.
"""

from __future__ import annotations

import json
import sys
import time


def main(inp: str, out: str) -> None:
    import torch
    from chemprop import data, featurizers, models, nn
    from lightning import pytorch as pl

    torch.set_num_threads(1)
    d = json.loads(open(inp).read())
    t0 = time.process_time()
    pl.seed_everything(int(d["seed"]), workers=True, verbose=False)
    feat = featurizers.SimpleMoleculeMolGraphFeaturizer()
    train = data.MoleculeDataset([data.MoleculeDatapoint.from_smi(s, [float(y)])
                                  for s, y in zip(d["train_smiles"], d["train_y"])], feat)
    scaler = train.normalize_targets()
    ffn = nn.RegressionFFN(output_transform=nn.UnscaleTransform.from_standard_scaler(scaler))
    model = models.MPNN(nn.BondMessagePassing(), nn.NormAggregation(), ffn)
    trainer = pl.Trainer(max_epochs=int(d["epochs"]), accelerator="cpu", devices=1,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, deterministic=True)
    trainer.fit(model, data.build_dataloader(train, seed=int(d["seed"]), num_workers=0))
    pool = data.MoleculeDataset([data.MoleculeDatapoint.from_smi(s) for s in d["pool_smiles"]],
                                feat)
    preds = trainer.predict(model, data.build_dataloader(pool, shuffle=False, num_workers=0))
    pred = torch.cat(preds).reshape(-1).tolist()
    with open(out, "w") as fh:
        json.dump({"pred": pred, "seconds": time.process_time() - t0}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
