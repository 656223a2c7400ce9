"""EquivariantGNN benchmark: energies/forces (rMD17 DFT, xTB aspirin MD) and properties.

Usage: ``python benchmarks/gnn.py [--quick] [--no-mace] [--only SECTION ...]``; sections
``rmd17`` (BOTNet ethanol, acetylacetone), ``aspirin`` (xTB 500 K MD, ``_xtb_sets.py``) and
``properties`` (Enamine xTB gap/dipole learning curve, ``_gnn_properties.py``). With
``--only`` the other sections' rows already in ``gnn.json`` are kept, so sections can be
run in parallel processes and land in one file.

For each energy data set the same split is given, in one run, to
- ``EquivariantGNN`` (energy + force loss, ``scalar_last_layer=True``) under a CPU-time
  training budget (``max_time_clock="cpu"``, so load from other jobs on a shared machine
  does not shrink one model's budget more than another's);
- a non-equivariant baseline: kernel ridge regression (RBF, hyper-parameters by 3-fold CV) on
  per-element-pair sorted inverse distances; its forces are −∇E by central differences;
- MACE (``mace-torch`` in its own venv ``benchmarks/.mace-venv``, run as a subprocess on the
  same split at the same CPU budget) unless ``--no-mace`` (built on first use).

Metrics: energy MAE (meV/atom), force MAE (meV/Å), training seconds (wall and CPU), and
inference throughput (structures/s, energy + forces, graph/descriptor building included,
best of 3 rounds) at batch 1 and batch 32; for the GNN also the pre-optimisation inference
path on the same shapes (``_gnn_speed.py``). Writes ``benchmarks/results/gnn.json`` with a
``summary`` of the ratios vs MACE and the baseline, a parity plot ``gnn_parity.png`` and the
learning-curve plot ``gnn_properties.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, ensure_venv, print_table, write_result
from benchmarks._gnn_baseline import InverseDistanceKRR
from benchmarks._gnn_properties import learning_curve, plot_learning_curve
from benchmarks._gnn_speed import before_predictor, throughput
from surrogates import EquivariantGNN

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "botnet"
MACE_PY = Path(__file__).resolve().parent / ".mace-venv" / "bin" / "python"
MACE_SCRIPT = Path(__file__).resolve().parent / "_mace_run.py"

#: (name, train file, [test files]) relative to DATA
SETS = [("ethanol", "ethanol/train.xyz", ["ethanol/test_MD.xyz"]),
        ("acac", "acac/train_300K.xyz", ["acac/test_MD_300K.xyz", "acac/test_MD_600K.xyz"])]
SECTIONS = ("rmd17", "aspirin", "properties")


def _labels(frames: list) -> tuple[np.ndarray, list[np.ndarray]]:
    return (np.array([a.get_potential_energy() for a in frames]),
            [a.get_forces() for a in frames])


def _errors(e_pred: np.ndarray, f_pred: list[np.ndarray], frames: list) -> dict[str, float]:
    e_true, f_true = _labels(frames)
    n = np.array([len(a) for a in frames])
    return {"E_mae_meV_atom": 1e3 * float(np.mean(np.abs(e_pred - e_true) / n)),
            "F_mae_meV_A": 1e3 * float(np.mean(np.abs(np.concatenate(f_pred)
                                                      - np.concatenate(f_true))))}


def _energy_forces_only(frames: list) -> list:
    """Copies carrying just energy and forces: the xTB sets also hold ``dipole`` in both
    ``info`` and the calculator's results, which extxyz refuses to write twice."""
    out = []
    for a in frames:
        b = Atoms(a.numbers, a.positions, cell=a.cell, pbc=a.pbc)
        b.calc = SinglePointCalculator(b, energy=a.get_potential_energy(), forces=a.get_forces())
        out.append(b)
    return out


def _run_mace(train: list, tests: dict[str, list], budget: float, seed: int) -> dict | None:
    if ensure_venv("mace", ["mace-torch"], "import mace") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        write(f"{tmp}/train.xyz", _energy_forces_only(train), format="extxyz")
        for name, frames in tests.items():
            write(f"{tmp}/test_{name}.xyz", _energy_forces_only(frames), format="extxyz")
        cmd = [str(MACE_PY), str(MACE_SCRIPT), tmp, str(budget), str(seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=budget * 8 + 900)
        if proc.returncode != 0:
            print(f"MACE run failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return None
        return json.loads(Path(f"{tmp}/result.json").read_text())


def _gnn_model(quick: bool, budget: float) -> EquivariantGNN:
    return EquivariantGNN(channels=8 if quick else 32, lmax=2, n_layers=2, cutoff=5.0,
                          scalar_last_layer=True, epochs=10_000, batch_size=8, lr=1e-2,
                          force_weight=10.0, patience=10_000, val_fraction=0.05,
                          max_time=budget, max_time_clock="cpu", random_state=0)


def _timed_fit(fit) -> tuple[object, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fit()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _energy_rows(name: str, train: list, tests: dict[str, list], budget: float, quick: bool,
                 use_mace: bool, parity: dict) -> list[dict]:
    """GNN, KRR and MACE on one split: one row per (test set, method)."""
    gnn, t_gnn, c_gnn = _timed_fit(lambda: _gnn_model(quick, budget).fit(train))
    energies = np.array([a.get_potential_energy() for a in train])
    krr, t_krr, c_krr = _timed_fit(lambda: InverseDistanceKRR(random_state=0).fit(train,
                                                                                   energies))
    mace = _run_mace(train, tests, budget, 0) if use_mace else None
    first, rows = next(iter(tests.values())), []
    common = {"section": "aspirin" if name == "aspirin" else "rmd17", "data": name,
              "n_train": len(train)}
    reps = (5, 2) if quick else (20, 3)
    for test_name, frames in tests.items():
        base = {**common, "test": test_name, "n_test": len(frames)}
        e, f = gnn.predict_energy_forces(frames)
        parity.setdefault(name, (e, _labels(frames)[0], len(frames[0])))
        row = {**base, "method": "EquivariantGNN", **_errors(e, f, frames), "train_s": t_gnn,
               "train_cpu_s": c_gnn, "epochs": len(gnn.history_)}
        if frames is first:
            row["thr_b1"] = throughput(gnn.predict_energy_forces, frames, 1, reps[0])
            row["thr_b32"] = throughput(gnn.predict_energy_forces, frames, 32, reps[1])
            before = before_predictor(gnn)
            rows.append({**base, "method": "EquivariantGNN, earlier inference path",
                         "thr_b1": throughput(before, frames, 1, reps[0]),
                         "thr_b32": throughput(before, frames, 32, reps[1])})
        rows.append(row)
        e, f = krr.predict(frames).mean, krr.predict_forces(frames)
        row = {**base, "method": "KRR inverse distances", **_errors(e, f, frames),
               "train_s": t_krr, "train_cpu_s": c_krr}
        if frames is first:
            row["thr_b1"] = throughput(krr.predict_energy_forces, frames, 1, reps[0])
            row["thr_b32"] = throughput(krr.predict_energy_forces, frames, 32, reps[1])
        rows.append(row)
        if mace is not None:
            rows.append({**base, "method": "MACE (same budget)", **mace[test_name]})
    print(f"  {name}: done", flush=True)
    return rows


def _subsample(frames: list, n: int | None, rng: np.random.Generator) -> list:
    if n is None or n >= len(frames):
        return frames
    return [frames[i] for i in sorted(rng.choice(len(frames), n, replace=False))]


def _rmd17_rows(quick: bool, budget: float, use_mace: bool, parity: dict) -> list[dict]:
    n_train = {"ethanol": 100, "acac": 100} if quick else {"ethanol": 1000, "acac": 500}
    rng = np.random.default_rng(0)
    rows = []
    for name, train_file, test_files in SETS:
        train = _subsample(read(DATA / train_file, index=":"), n_train[name], rng)
        tests = {Path(tf).stem: _subsample(read(DATA / tf, index=":"), 100 if quick else None,
                                           rng) for tf in test_files}
        rows += _energy_rows(name, train, tests, budget, quick, use_mace, parity)
    return rows


def _aspirin_rows(quick: bool, budget: float, use_mace: bool, parity: dict) -> list[dict]:
    from benchmarks._xtb_sets import aspirin_md_set

    train, test = aspirin_md_set()  # 1000 / 1000 frames of xTB 500 K MD (cached)
    if quick:
        train, test = train[:100], test[:100]
    return _energy_rows("aspirin", train, {"test_500K": test}, budget, quick, use_mace, parity)


def _summary(rows: list[dict]) -> dict:
    """Ratios vs MACE (energy sets) and GNN vs baseline at every size (property curve)."""
    out: dict = {}
    for r in rows:
        if r.get("method") != "EquivariantGNN" or "E_mae_meV_atom" not in r:
            continue
        key = f"{r['data']}/{r['test']}"

        def find(method: str, r: dict = r) -> dict | None:
            return next((m for m in rows if m.get("method") == method
                         and m.get("data") == r["data"] and m.get("test") == r["test"]), None)

        mace, before = find("MACE (same budget)"), find("EquivariantGNN, earlier inference path")
        s = {}
        if mace is not None:
            s["E_mae_ratio_vs_mace"] = r["E_mae_meV_atom"] / mace["E_mae_meV_atom"]
            s["F_mae_ratio_vs_mace"] = r["F_mae_meV_A"] / mace["F_mae_meV_A"]
            for b in ("thr_b1", "thr_b32"):
                if b in r and b in mace:
                    s[f"{b}_ratio_vs_mace"] = r[b] / mace[b]
        if before is not None:
            for b in ("thr_b1", "thr_b32"):
                s[f"{b}_speedup_vs_earlier_path"] = r[b] / before[b]
        out[key] = s
    curve = {}
    for r in rows:
        if r.get("data") != "enamine_xtb" or r["method"] != "EquivariantGNN":
            continue
        rf = next(m for m in rows if m.get("data") == "enamine_xtb" and m["target"] == r["target"]
                  and m["n_train"] == r["n_train"] and m["method"] != "EquivariantGNN")
        for key in ("gap_mae_eV", "dipole_vec_mae_eA", "dipole_norm_mae_eA"):
            if key in r:
                curve[f"{key}@{r['n_train']}"] = {"gnn": r[key], "baseline": rf[key],
                                                  "gnn_better": r[key] < rf[key]}
    if curve:
        out["property_curve"] = curve
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke version (~5 min)")
    parser.add_argument("--no-mace", action="store_true", help="skip the MACE subprocess")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="run these sections; the others' rows in gnn.json are kept")
    parser.add_argument("--property-budget-scale", type=float, default=1.0,
                        help="multiply the property curve's CPU budgets (15-45 s per model)")
    args = parser.parse_args()
    quick, sections = args.quick, set(args.only)
    # small graphs gain nothing from intra-op threads, and on a shared machine they thrash
    torch.set_num_threads(1)
    budget = 30.0 if quick else 60.0
    use_mace = not args.no_mace
    parity: dict = {}
    rows: list[dict] = []
    if "rmd17" in sections:
        rows += _rmd17_rows(quick, budget, use_mace, parity)
    if "aspirin" in sections:
        rows += _aspirin_rows(quick, budget, use_mace, parity)
    run = "+".join(sorted(sections))
    extra: dict = {"budget_cpu_s": budget,
                   f"load_caveat_{run}": f"shared {os.cpu_count()}-core machine, 1 torch thread; "
                                  f"load average at the end {os.getloadavg()[0]:.1f}; "
                                  "budgets count process CPU time, throughputs are the "
                                  "best of 3 rounds"}
    if "properties" in sections:
        curve = learning_curve(quick, budget_scale=args.property_budget_scale)
        extra["property_budget_scale"] = args.property_budget_scale
        rows += [{"section": "properties", **r} for r in curve]
        extra["properties_plot"] = str(plot_learning_curve(curve, RESULTS
                                                           / "gnn_properties.png"))
    energy = [r for r in rows if r["section"] != "properties"]
    if energy:
        print_table(energy, title=f"EquivariantGNN energies/forces ({'quick' if quick else 'full'})"
                                  f", CPU budget {budget:.0f} s")
    props = [r for r in rows if r["section"] == "properties"]
    if props:
        print_table(props, title="Enamine xTB property learning curve")
    if parity:
        extra["parity_plot"] = str(_parity_plot(parity))
    kept, old_extra = _kept(quick, sections)  # read now: a parallel run may have written
    rows = kept + rows
    extra = {**old_extra, **extra}
    extra["sections"] = sorted({r["section"] for r in rows})
    extra["mace_ran"] = any(r["method"].startswith("MACE") for r in rows)
    extra["summary"] = _summary(rows)
    targets = {"E_mae_vs_mace_ratio": 1.0, "throughput_vs_mace_ratio": 2.0,
               "property_gnn_better_than_baseline_at_every_size": True,
               "mace_published_ethanol_E_meV": 0.4, "mace_published_ethanol_F_meV_A": 2.1}
    path = write_result("gnn", quick, rows, targets, extra=extra)
    print(json.dumps(extra["summary"], indent=1))
    print(f"wrote {path}")


def _kept(quick: bool, sections: set[str]) -> tuple[list[dict], dict]:
    """Rows of the sections not run now, and the other top-level entries, from an existing
    gnn.json of the same mode (nothing when every section runs)."""
    path = RESULTS / "gnn.json"
    if sections == set(SECTIONS) or not path.exists():
        return [], {}
    old = json.loads(path.read_text())
    if bool(old.get("quick")) != quick:
        return [], {}
    rows = [r for r in old["rows"] if r.get("section") not in sections and "section" in r]
    skip = {"benchmark", "quick", "machine", "rows", "targets", "summary", "sections"}
    return rows, {k: v for k, v in old.items() if k not in skip}


def _parity_plot(parity: dict) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5 * len(parity), 4.2), layout="constrained")
    for k, (name, (pred, true, n_atoms)) in enumerate(parity.items()):
        ax = fig.add_subplot(1, len(parity), k + 1)
        ref = true.mean()
        ax.plot(true - ref, pred - ref, ".", ms=3)
        lim = [min(true.min(), pred.min()) - ref, max(true.max(), pred.max()) - ref]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set_xlabel("reference energy − mean (eV)")
        ax.set_ylabel("GNN energy − mean (eV)")
        ax.set_title(f"{name} ({n_atoms} atoms), test set")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"gnn_parity_{'_'.join(parity)}.png"
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    main()
