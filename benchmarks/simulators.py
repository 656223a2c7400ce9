"""Cost per candidate of each simulator on this machine: the "expensive" costs a campaign saves.

xTB (GFN2, single point with forces, and a relaxation) per drug-like molecule of several sizes,
DFT (B3LYP, analytic forces) per molecule for H2O and ethanol, the allosteric sensor per
variant in its deterministic and stochastic (cells) modes, and a table lookup, all in one run.
xTB and DFT run on one thread (``n_threads=1``: one worker per core is how a campaign runs them).

    python benchmarks/simulators.py            # full
    python benchmarks/simulators.py --quick    # smoke version, about a minute or two

Writes ``benchmarks/results/simulators.json`` and ``simulators.png`` (log-scale cost chart).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import RESULTS, print_table, save_figure, write_result

#: drug-like molecules of increasing size (name, SMILES); quick mode uses the first three
MOLECULES = [
    ("ethanol", "CCO"),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("imatinib", "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"),
    ("atorvastatin",
     "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"),
]


def _timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``repeats`` calls, and the last return value."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_molecules(quick: bool) -> list[dict]:
    from physics import DFT, XTB, smiles_to_atoms

    rows = []
    mols = MOLECULES[:3] if quick else MOLECULES
    xtb, relax = XTB(n_threads=1), XTB(relax=True, n_threads=1)
    xtb.evaluate(["O"])  # warm-up: library load and first-call set-up are not per-candidate
    for name, smi in mols:
        t_embed, atoms = _timed(lambda s=smi: smiles_to_atoms(s, seed=0), 1 if quick else 3)
        rows.append({"method": "smiles_to_atoms (RDKit ETKDG+MMFF)", "candidate": name,
                     "n_atoms": len(atoms), "seconds_per_candidate": t_embed, "ok": True})
        t, (res,) = _timed(lambda a=atoms: xtb.evaluate([a]), 2 if quick else 5)
        rows.append({"method": "xtb GFN2-xTB single point", "candidate": name,
                     "n_atoms": len(atoms), "seconds_per_candidate": t, "ok": res.ok})
        if not quick or name == "paracetamol":
            t, (res,) = _timed(lambda a=atoms: relax.evaluate([a]), 1)
            rows.append({"method": "xtb GFN2-xTB relax (BFGS, fmax 0.05)", "candidate": name,
                         "n_atoms": len(atoms), "seconds_per_candidate": t, "ok": res.ok})
    basis = "6-31g" if quick else "def2-svp"
    dft = DFT(xc="b3lyp", basis=basis, device="auto", n_threads=1)
    for name, smi in [("water", "O"), ("ethanol", "CCO")]:
        atoms = smiles_to_atoms(smi, seed=0)
        t, (res,) = _timed(lambda a=atoms: dft.evaluate([a]), 1)
        rows.append({"method": f"dft B3LYP/{basis} ({dft.backend})", "candidate": name,
                     "n_atoms": len(atoms), "seconds_per_candidate": t, "ok": res.ok})
    return rows


def bench_sensor(quick: bool) -> list[dict]:
    import numpy as np

    from physics import AllostericSensor

    rng = np.random.default_rng(0)
    rows = []
    for mode, n_variants, n_cells in [("deterministic", 2000 if quick else 20000, None),
                                      ("stochastic", 100 if quick else 1000, 1000)]:
        kwargs = {"mode": mode, "seed": 0} | ({"n_cells": n_cells} if n_cells else {})
        sim = AllostericSensor(**kwargs)
        alphabet, n_sites = sim.alphabet, sim.n_sites
        variants = ["".join(rng.choice(list(alphabet), size=n_sites)) for _ in range(n_variants)]
        sim.evaluate(variants[:10])  # warm-up (first torch call)
        t, res = _timed(lambda s=sim, v=variants: s.evaluate(v), 1 if quick else 3)
        label = f"sensor MWC {mode}" + (f" ({n_cells} cells)" if n_cells else "")
        rows.append({"method": f"{label} [{getattr(sim, 'device', 'cpu')}]",
                     "candidate": f"batch of {n_variants} variants", "n_atoms": None,
                     "seconds_per_candidate": t / n_variants,
                     "ok": all(r.ok for r in res)})
    return rows


def bench_lookup(quick: bool) -> list[dict]:
    from physics import LookupSimulator

    n = 10_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        path.write_text("id,score\n" + "".join(f"m{i},{i * 0.1:.1f}\n" for i in range(n)))
        sim = LookupSimulator(path)
        ids = [f"m{i}" for i in range(n)]
        t, res = _timed(lambda: sim.evaluate(ids), 3)
    return [{"method": "lookup (CSV table)", "candidate": f"batch of {n} ids", "n_atoms": None,
             "seconds_per_candidate": t / n, "ok": all(r.ok for r in res)}]


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['method']} - {r['candidate']}" for r in rows]
    secs = [r["seconds_per_candidate"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.2))
    ax.barh(range(len(rows)), secs, color="tab:blue")
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("seconds per candidate (log scale)")
    ax.set_title("Simulator cost per candidate on this machine")
    save_figure(fig, path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke version (~1-2 minutes)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = bench_molecules(args.quick) + bench_sensor(args.quick) + bench_lookup(args.quick)
    print_table(rows, title=f"simulators ({'quick' if args.quick else 'full'})")

    def cost(method_prefix: str, cand: str | None = None) -> float | None:
        hits = [r["seconds_per_candidate"] for r in rows
                if r["method"].startswith(method_prefix) and (cand is None or r["candidate"] == cand)]
        return hits[0] if hits else None

    xtb_eth, dft_eth = cost("xtb GFN2-xTB single", "ethanol"), cost("dft", "ethanol")
    det, sto = cost("sensor MWC deterministic"), cost("sensor MWC stochastic")
    ratios = {
        "dft_over_xtb_ethanol": dft_eth / xtb_eth if dft_eth and xtb_eth else None,
        "sensor_stochastic_over_deterministic": sto / det if sto and det else None,
    }
    print("ratios:", {k: (round(v, 1) if v else v) for k, v in ratios.items()})
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS / "simulators.png")
    # informal ceilings: a drug-like xTB single point under a second, a deterministic sensor
    # variant under a millisecond (costs are what is reported; no published target exists)
    targets = {"xtb_single_point_seconds_druglike": 1.0, "sensor_deterministic_seconds": 1e-3}
    path = write_result("simulators", args.quick, rows, targets,
                        extra={"ratios": ratios, "threads": 1,
                               "wall_seconds": time.perf_counter() - t0})
    print(f"wrote {path} and {RESULTS / 'simulators.png'} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
