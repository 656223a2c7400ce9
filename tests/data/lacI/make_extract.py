"""Rebuild RazoMejia2018_means.csv from the full data set (run by hand, not by the tests).

    python tests/data/lacI/make_extract.py ../shared/data/lacI_mwc/RazoMejia_2018.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HEADER = Path(__file__).with_name("RazoMejia2018_means.csv").read_text().split("operator,")[0]


def main(source: str) -> None:
    df = pd.read_csv(source, comment="#")
    df = df[df.repressors > 0]  # the auto/delta controls define fold-change; they are not curves
    keys = ["operator", "binding_energy", "repressors", "IPTG_uM"]
    m = df.groupby(keys).fold_change_A.agg(["mean", "std", "count"]).reset_index()
    m.columns = [*keys, "fold_change_mean", "fold_change_std", "n_replicates"]
    out = Path(__file__).with_name("RazoMejia2018_means.csv")
    with out.open("w") as f:
        f.write(HEADER)
        m.to_csv(f, index=False, float_format="%.6g")


if __name__ == "__main__":
    main(sys.argv[1])
