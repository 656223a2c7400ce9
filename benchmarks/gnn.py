"""EquivariantGNN on real DFT energies and forces (BOTNet rMD17 ethanol, acetylacetone).

Usage: ``python benchmarks/gnn.py [--quick] [--no-mace]``.

For each data set the same split is given, in one run, to
- ``EquivariantGNN`` (energy + force loss) under a CPU training-time budget;
- a non-equivariant baseline: kernel ridge regression (RBF, hyper-parameters by 3-fold CV) on
  per-element-pair sorted inverse distances; its forces are −∇E by central differences;
- MACE (``mace-torch`` in its own venv ``benchmarks/.mace-venv``, run as a subprocess on the
  same split at the same budget) when that venv exists and ``--no-mace`` is not given.

Metrics: energy MAE (meV/atom), force MAE (meV/Å), training seconds, and inference throughput
(structures/s, energy + forces, graph/descriptor building included) at batch 1 and batch 32.
Writes ``benchmarks/results/gnn.json`` and a parity plot ``benchmarks/results/gnn_parity.png``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from ase.io import read, write

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, print_table, write_result
from benchmarks._gnn_baseline import InverseDistanceKRR
from surrogates import EquivariantGNN

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "botnet"
MACE_PY = Path(__file__).resolve().parent / ".mace-venv" / "bin" / "python"
MACE_SCRIPT = Path(__file__).resolve().parent / "_mace_run.py"

#: (name, train file, [test files]) relative to DATA
SETS = [("ethanol", "ethanol/train.xyz", ["ethanol/test_MD.xyz"]),
        ("acac", "acac/train_300K.xyz", ["acac/test_MD_300K.xyz", "acac/test_MD_600K.xyz"])]


def _labels(frames: list) -> tuple[np.ndarray, list[np.ndarray]]:
    return (np.array([a.get_potential_energy() for a in frames]),
            [a.get_forces() for a in frames])


def _errors(e_pred: np.ndarray, f_pred: list[np.ndarray], frames: list) -> dict[str, float]:
    e_true, f_true = _labels(frames)
    n = np.array([len(a) for a in frames])
    return {"E_mae_meV_atom": 1e3 * float(np.mean(np.abs(e_pred - e_true) / n)),
            "F_mae_meV_A": 1e3 * float(np.mean(np.abs(np.concatenate(f_pred)
                                                      - np.concatenate(f_true))))}


def _throughput(fn, frames: list, batch: int, repeats: int) -> float:
    """Structures per second of ``fn(list_of_frames)`` at the given batch size."""
    chunks = [frames[i:i + batch] for i in range(0, min(len(frames), batch * repeats), batch)]
    fn(chunks[0])  # warm-up
    t0 = time.perf_counter()
    for c in chunks:
        fn(c)
    return sum(len(c) for c in chunks) / (time.perf_counter() - t0)


def _ensure_mace_venv() -> bool:
    """Create ``benchmarks/.mace-venv`` (torch 2.13 CPU first, then mace-torch) if missing."""
    if MACE_PY.exists():
        return True
    venv = MACE_PY.parents[1]
    print(f"creating {venv} for MACE (one time; torch CPU + mace-torch)", file=sys.stderr)
    steps = [[sys.executable, "-m", "venv", "--without-pip", str(venv)],
             [str(MACE_PY), "-m", "ensurepip", "-q"],
             [str(MACE_PY), "-m", "pip", "install", "-q", "torch==2.13.0"],  # CPU wheel here
             [str(MACE_PY), "-m", "pip", "install", "-q", "mace-torch"]]
    for cmd in steps:
        if subprocess.run(cmd).returncode != 0:
            print(f"could not build the MACE venv ({' '.join(cmd[:4])}); skipping MACE",
                  file=sys.stderr)
            return False
    return True


def _run_mace(train: list, tests: dict[str, list], budget: float, seed: int) -> dict | None:
    if not _ensure_mace_venv():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        write(f"{tmp}/train.xyz", train, format="extxyz")
        for name, frames in tests.items():
            write(f"{tmp}/test_{name}.xyz", frames, format="extxyz")
        cmd = [str(MACE_PY), str(MACE_SCRIPT), tmp, str(budget), str(seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=budget * 4 + 600)
        if proc.returncode != 0:
            print(f"MACE run failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return None
        return json.loads(Path(f"{tmp}/result.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke version (~2 min)")
    parser.add_argument("--no-mace", action="store_true", help="skip the MACE subprocess")
    args = parser.parse_args()
    quick = args.quick
    # small graphs gain nothing from intra-op threads, and on a shared machine they thrash
    torch.set_num_threads(1)
    n_train = {"ethanol": 100, "acac": 100} if quick else {"ethanol": 1000, "acac": 500}
    n_test = 100 if quick else None
    budget = 30.0 if quick else 900.0
    rng = np.random.default_rng(0)
    rows, parity = [], {}
    for name, train_file, test_files in SETS:
        train_all = read(DATA / train_file, index=":")
        train = [train_all[i] for i in sorted(rng.choice(len(train_all), n_train[name],
                                                          replace=False))]
        tests = {}
        for tf in test_files:
            frames = read(DATA / tf, index=":")
            if n_test is not None:
                frames = [frames[i] for i in sorted(rng.choice(len(frames), n_test,
                                                                replace=False))]
            tests[Path(tf).stem] = frames
        # --- EquivariantGNN ---
        gnn = EquivariantGNN(channels=8 if quick else 32, lmax=2, n_layers=2, cutoff=5.0,
                             epochs=10_000, batch_size=8, lr=1e-2, force_weight=10.0,
                             patience=10_000, valid_fraction=0.05, max_time=budget,
                             random_state=0)
        t0 = time.perf_counter()
        gnn.fit(train)
        t_gnn = time.perf_counter() - t0
        # --- baseline ---
        krr = InverseDistanceKRR(random_state=0)
        t0 = time.perf_counter()
        krr.fit(train, np.array([a.get_potential_energy() for a in train]))
        t_krr = time.perf_counter() - t0
        mace = None if args.no_mace else _run_mace(train, tests, budget, 0)
        first = next(iter(tests.values()))
        for test_name, frames in tests.items():
            e, f = gnn.predict_energy_forces(frames)
            parity.setdefault(name, (e, _labels(frames)[0], len(frames[0])))
            row = {"data": name, "test": test_name, "method": "EquivariantGNN",
                   "n_train": len(train), **_errors(e, f, frames), "train_s": t_gnn,
                   "epochs": len(gnn.history_)}
            if frames is first:
                row["thr_b1"] = _throughput(gnn.predict_energy_forces, frames, 1, 20)
                row["thr_b32"] = _throughput(gnn.predict_energy_forces, frames, 32, 3)
            rows.append(row)
            e, f = krr.predict(frames).mean, krr.predict_forces(frames)
            row = {"data": name, "test": test_name, "method": "KRR inverse distances",
                   "n_train": len(train), **_errors(e, f, frames), "train_s": t_krr}
            if frames is first:
                row["thr_b1"] = _throughput(krr.predict_energy_forces, frames, 1, 20)
                row["thr_b32"] = _throughput(krr.predict_energy_forces, frames, 32, 3)
            rows.append(row)
            if mace is not None:
                rows.append({"data": name, "test": test_name, "method": "MACE (same budget)",
                             "n_train": len(train), **mace[test_name]})
    print_table(rows, title=f"EquivariantGNN benchmark ({'quick' if quick else 'full'}), "
                            f"{torch.get_num_threads()} threads, budget {budget:.0f} s")
    plot = _parity_plot(parity)
    targets = {"E_mae_vs_mace_ratio": 1.0, "throughput_vs_mace_ratio": 2.0,
               "mace_published_ethanol_E_meV": 0.4, "mace_published_ethanol_F_meV_A": 2.1}
    path = write_result("gnn", quick, rows, targets,
                        extra={"budget_s": budget, "parity_plot": str(plot),
                               "mace_ran": any(r["method"].startswith("MACE") for r in rows)})
    print(f"wrote {path}")


def _parity_plot(parity: dict) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5 * len(parity), 4.2), layout="constrained")
    for k, (name, (pred, true, n_atoms)) in enumerate(parity.items()):
        ax = fig.add_subplot(1, len(parity), k + 1)
        ref = true.mean()
        ax.plot(true - ref, pred - ref, ".", ms=3)
        lim = [min(true.min(), pred.min()) - ref, max(true.max(), pred.max()) - ref]
        ax.plot(lim, lim, "k--", lw=0.8)
        ax.set_xlabel("DFT energy − mean (eV)")
        ax.set_ylabel("GNN energy − mean (eV)")
        ax.set_title(f"{name} ({n_atoms} atoms), test set")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "gnn_parity.png"
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    main()
