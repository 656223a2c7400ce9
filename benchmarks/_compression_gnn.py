"""GNN half of the compression benchmark: an EquivariantGNN ensemble on the xTB property set.

Data: ``enamine_property_set(2000)`` (Enamine10k molecules, RDKit 3D, GFN2-xTB labels; see
``_xtb_sets.py``). Target: the HOMO-LUMO gap (eV), larger is "better" for the top-k metrics.
Split (seeded): a few hundred labelled molecules train the teacher (3 EquivariantGNN,
lmax 2); the pool is labelled by the teacher only; the test set measures everything.

Rows: the teacher ensemble; a distilled GNN student (lmax 1, one layer, 4 Å cutoff) learning
the teacher's gap on the pool (plus the labels, λ = 0.3); that student pruned by irrep
channels (activity importance, fine-tuned by distillation); int8 of the pruned GNN (falls
back: e3nn blocks are einsum kernels, not ``nn.Linear``); a fingerprint-MLP student reading
SMILES, distilled from the GNN teacher (with the teacher's std as a second output), and its
pruned int8 version.

Throughput: "with featurisation" = from ``ase.Atoms`` (neighbour lists, batching) or from
SMILES (Morgan counts); "no featurisation" = graphs / fingerprints built beforehand. Neither
includes making 3D structures (RDKit ETKDG + MMFF), which a GNN screen also needs; its cost
per molecule is measured separately and reported. FLOPs of GNNs: torch's FLOP counter over a
forward pass on test molecules (matrix products and the einsums e3nn generates; element-wise
work is not counted), per molecule. Peak memory: resident-set growth while scoring the test
subset from scratch (after ``malloc_trim``), sampled every 2 ms. GNN speeds are measured on
128 test molecules (the teacher scores ~15 molecules/s here).
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from typing import Any

import numpy as np
import psutil
import torch

from benchmarks._xtb_sets import enamine_property_set
from physics import smiles_to_atoms
from surrogates import (
    Ensemble,
    EquivariantGNN,
    FingerprintSurrogate,
    distill,
    prune,
    quantize,
)
from surrogates._compress import accuracy, count_parameters, estimate_flops
from surrogates._compress._e3nn_budget import gnn_flops, prune_gnn
from surrogates._compress._metrics import throughput
from surrogates._gnn._graph import batch_graphs, to_graph_data

__all__ = ["gnn_half"]

TEACHER = {"target": "gap", "channels": 16, "lmax": 2, "n_layers": 2, "cutoff": 5.0,
           "batch_size": 16, "lr": 5e-3, "device": "cpu"}
STUDENT = {"target": "gap", "channels": 16, "lmax": 1, "n_layers": 1, "cutoff": 4.0,
           "batch_size": 16, "lr": 5e-3, "device": "cpu"}


class PeakRSS:
    """Context manager: peak resident-set growth (MiB) of this process while inside."""

    def __enter__(self) -> PeakRSS:
        gc.collect()
        try:  # hand freed heap pages back to the OS so the growth is visible again
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        self._proc, self._stop = psutil.Process(), threading.Event()
        self.base = self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)
        self.mib = (self.peak - self.base) / 2**20


def _batches(model: EquivariantGNN, mols: list, chunk: int = 64) -> list:
    """Pre-built graph batches for ``model`` (the featurisation, done once)."""
    p = next(model.module_.parameters())
    index = {z: k for k, z in enumerate(model.elements_)}
    parts = [to_graph_data(a, model.config_.cutoff, k) for k, a in enumerate(mols)]
    return [batch_graphs(parts[s:s + chunk], index, p.dtype, p.device)
            for s in range(0, len(parts), chunk)]


def _forward(models: list[EquivariantGNN], batches: list[list]) -> None:
    with torch.inference_mode():
        for m, bs in zip(models, batches):
            for g in bs:
                m.module_(g)


def _gnn_speed(models: list[EquivariantGNN], mols: list) -> tuple[float, float, float]:
    """(cand/s from Atoms, cand/s from pre-built graphs, peak MiB) of an ensemble of GNNs."""
    incl = throughput(lambda: [m.predict(mols) for m in models], len(mols), min_seconds=0.5,
                      max_repeats=3)
    batches = [_batches(m, mols) for m in models]
    excl = throughput(lambda: _forward(models, batches), len(mols), min_seconds=0.5,
                      max_repeats=3)
    with PeakRSS() as mem:
        [m.predict(mols) for m in models]
    return incl, excl, mem.mib


def _fp_speed(model: FingerprintSurrogate, smiles: list[str]) -> tuple[float, float, float]:
    F = model.featurize(smiles)
    incl = throughput(lambda: model.predict(smiles), len(smiles), min_seconds=0.5, max_repeats=3)
    excl = throughput(lambda: model.predict_features(F), len(F), min_seconds=0.3)
    with PeakRSS() as mem:
        model.predict(smiles)
    return incl, excl, mem.mib


def _gnn_flops(models: list[EquivariantGNN], mols: list) -> float:
    return float(sum(np.mean([gnn_flops(m.module_, g) for g in _batches(m, mols[:64], 16)])
                     for m in models))


def _row(name: str, pred: np.ndarray, t_ref: np.ndarray, y: np.ndarray, params: int,
         flops: float, speed: tuple[float, float, float], **extra: Any) -> dict[str, Any]:
    vs_t, vs_y = accuracy(pred, t_ref), accuracy(pred, y)
    return {"half": "gnn (xTB gap)", "method": name, "mae_vs_teacher": vs_t["mae"],
            "spearman_vs_teacher": vs_t["spearman"], "top1_recall_teacher": vs_t["top_k_recall"],
            "mae_vs_truth": vs_y["mae"], "spearman_vs_truth": vs_y["spearman"],
            "top1_recall_truth": vs_y["top_k_recall"],
            "top5_recall_truth": accuracy(pred, y, frac=0.05)["top_k_recall"],
            "parameters": int(params), "mflops_per_cand": flops / 1e6,
            "cand_per_s_with_feat": speed[0], "cand_per_s_no_feat": speed[1],
            "peak_mem_mib": speed[2], **extra}


def gnn_half(quick: bool, n_set: int = 2000) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train, compress and measure; returns (rows, extra info for the JSON)."""
    n_lab, n_pool, n_test, t_time, s_time, ft_time = (
        (150, 350, 300, 60, 60, 30) if quick else (300, 800, 700, 240, 300, 150))
    mols = enamine_property_set(n_set, progress=False)
    order = np.random.default_rng(0).permutation(len(mols))
    mols = [mols[i] for i in order[: n_lab + n_pool + n_test]]
    y = np.array([a.info["gap"] for a in mols])
    lab, pool, test = (mols[:n_lab], mols[n_lab:n_lab + n_pool], mols[n_lab + n_pool:])
    y_lab, y_test = y[:n_lab], y[n_lab + n_pool:]
    smi_pool = [a.info["smiles"] for a in pool]
    smi_lab, smi_test = [a.info["smiles"] for a in lab], [a.info["smiles"] for a in test]
    info: dict[str, Any] = {"n_labelled": n_lab, "n_pool": n_pool, "n_test": n_test,
                            "target": "HOMO-LUMO gap (eV, GFN2-xTB), larger = top"}

    t0 = time.perf_counter()
    members = [EquivariantGNN(**TEACHER, epochs=200, max_time=t_time, patience=30,
                              random_state=i).fit(lab, y_lab) for i in range(3)]
    teacher = Ensemble(members[0], n_members=3)
    teacher.members_ = members
    info["teacher_train_s"] = time.perf_counter() - t0
    t_pool = teacher.predict(pool)
    t_test = teacher.predict(test).mean
    print(f"teacher: trained in {info['teacher_train_s']:.0f} s")

    rows = [_row("teacher (3x EquivariantGNN lmax2 16ch 2L)", t_test, t_test, y_test,
                 count_parameters(teacher), _gnn_flops(members, test),
                 _gnn_speed(members, test[:128]))]

    t0 = time.perf_counter()
    student = distill(teacher, EquivariantGNN(**STUDENT, epochs=300, max_time=s_time,
                                              patience=30),
                      pool, lab, y_lab, label_weight=0.3, teacher_prediction=t_pool)
    info["student_train_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pruned = prune_gnn(student, 0.5, method="activity", X=pool, epochs=100,
                       max_time=ft_time)
    info["prune_s"] = time.perf_counter() - t0
    info["gnn_pruning"] = pruned.pruning_
    with np.errstate(all="ignore"):
        q = quantize(pruned, test[:50], require_speedup=False)
    info["gnn_quantization"] = q.quantization_
    for name, m in (("distilled GNN (lmax1 16ch 1L 4A)", student),
                    ("pruned GNN 50% channels", pruned)):
        rows.append(_row(name, m.predict(test).mean, t_test, y_test, count_parameters(m),
                         _gnn_flops([m], test), _gnn_speed([m], test[:128])))
    rows.append({**rows[-1], "method": "int8 pruned GNN (fell back to float: "
                                       + q.quantization_["reason"][:40] + ")"})

    fp = FingerprintSurrogate(hidden=(256, 128), epochs=300, patience=20, random_state=0)
    F_pool = fp.featurize(smi_pool)
    fstudent = distill(teacher, fp, smi_pool, smi_lab, y_lab, label_weight=0.3,
                       match_std=True, teacher_prediction=t_pool, features=F_pool)
    fpruned = prune(fstudent, 0.5, method="taylor", X=F_pool, epochs=100)
    fq = quantize(fpruned, fstudent.featurize(smi_test), require_speedup=False)
    info["fingerprint_quantization"] = fq.quantization_
    fq_name = "int8 pruned fingerprint MLP" if fq.quantization_["quantized"] else \
        "int8 pruned fingerprint MLP (fell back to float)"
    for name, m in (("fingerprint MLP 256-128 (SMILES)", fstudent),
                    ("pruned fingerprint MLP 50%", fpruned), (fq_name, fq)):
        rows.append(_row(name, m.predict(smi_test).mean, t_test, y_test, count_parameters(m),
                         estimate_flops(m), _fp_speed(m, smi_test)))

    t0 = time.perf_counter()
    smiles_to_atoms(smi_test[:20])
    info["conformer_s_per_mol"] = (time.perf_counter() - t0) / 20
    info["note_3d"] = ("GNN rows need 3D structures first: RDKit ETKDG+MMFF costs "
                       f"{info['conformer_s_per_mol'] * 1e3:.0f} ms per molecule here "
                       "(not in any throughput column); the fingerprint student reads SMILES")
    return rows, info

