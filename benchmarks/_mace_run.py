"""MACE side of ``benchmarks/gnn.py``; runs in ``benchmarks/.mace-venv`` (mace-torch pins e3nn
0.4.4, so it cannot share scoutlab's venv).

Usage: ``python _mace_run.py DIR BUDGET_S SEED``. Reads ``DIR/train.xyz`` and every
``DIR/test_*.xyz`` (extxyz with energy, eV, and forces, eV/Å), trains a small MACE (2
interactions, 32x0e+32x1o, max_ell 3, correlation 3, r_max 5 Å; per-element E0 by least
squares) with Adam on per-atom energy + 10 × force MSE for BUDGET_S seconds of this
process's CPU time (``time.process_time``, as the scoutlab side, so a busy shared machine
does not shorten one model's budget more than the other's), and writes ``DIR/result.json``: per test set E_mae_meV_atom, F_mae_meV_A, train_s, epochs,
and throughput thr_b1/thr_b32 (structures/s, energy + forces, graph building included; best of 3 timings, since the
machine is shared).
"""

import mace  # noqa: F401  # must be imported before e3nn (mace pins e3nn 0.4.4)  # isort: skip

import json
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
import torch
from e3nn import o3
from mace import data, modules, tools
from mace.tools import torch_geometric

R_MAX = 5.0


def configs(frames):
    for a in frames:
        a.info["REF_energy"] = a.get_potential_energy()
        a.arrays["REF_forces"] = a.get_forces()
    keys = data.KeySpecification(info_keys={"energy": "REF_energy"},
                                 arrays_keys={"forces": "REF_forces"})
    return data.config_from_atoms_list(frames, key_specification=keys)


def loader(cfgs, z_table, batch, shuffle):
    ds = [data.AtomicData.from_config(c, z_table=z_table, cutoff=R_MAX) for c in cfgs]
    return torch_geometric.dataloader.DataLoader(ds, batch_size=batch, shuffle=shuffle)


def predict(model, frames, z_table, batch):
    cfgs = configs(frames)
    es, fs = [], []
    for b in loader(cfgs, z_table, batch, False):
        out = model(b.to_dict(), training=False, compute_force=True)
        es.append(out["energy"].detach().numpy())
        fs.append(out["forces"].detach().numpy())
    return np.concatenate(es), np.concatenate(fs)


def main():
    folder, budget, seed = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # as the scoutlab side, so the budgets compare
    torch.set_default_dtype(torch.float32)
    train = ase.io.read(folder / "train.xyz", index=":")
    cfg = configs(train)
    z_table = tools.get_atomic_number_table_from_zs(z for c in cfg for z in c.atomic_numbers)
    e0 = data.compute_average_E0s(cfg, z_table)
    train_loader = loader(cfg, z_table, 8, True)
    n_edges = sum(int(b.edge_index.shape[1]) for b in train_loader)
    n_nodes = sum(int(b.num_nodes) for b in train_loader)
    model = modules.MACE(
        r_max=R_MAX, num_bessel=8, num_polynomial_cutoff=5, max_ell=3,
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=2, num_elements=len(z_table), hidden_irreps=o3.Irreps("32x0e+32x1o"),
        MLP_irreps=o3.Irreps("16x0e"), atomic_energies=np.array([e0[z] for z in z_table.zs]),
        avg_num_neighbors=n_edges / n_nodes, atomic_numbers=z_table.zs, correlation=3,
        gate=torch.nn.functional.silu)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    t0, c0, epochs, done = time.perf_counter(), time.process_time(), 0, False
    while not done:
        for b in train_loader:
            out = model(b.to_dict(), training=True, compute_force=True)
            n = (b.ptr[1:] - b.ptr[:-1]).to(out["energy"].dtype)
            loss = torch.mean(((out["energy"] - b.energy) / n) ** 2) + 10.0 * torch.mean(
                (out["forces"] - b.forces) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if time.process_time() - c0 > budget:
                done = True
                break
        epochs += 1
    train_s, train_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    result = {}
    for path in sorted(folder.glob("test_*.xyz")):
        frames = ase.io.read(path, index=":")
        e_true = np.array([a.get_potential_energy() for a in frames])
        f_true = np.concatenate([a.get_forces() for a in frames])
        e, f = predict(model, frames, z_table, 32)
        n_atoms = np.array([len(a) for a in frames])
        row = {"E_mae_meV_atom": 1e3 * float(np.mean(np.abs(e - e_true) / n_atoms)),
               "F_mae_meV_A": 1e3 * float(np.mean(np.abs(f - f_true))),
               "train_s": train_s, "train_cpu_s": train_cpu_s, "epochs": epochs}
        for batch, reps in ((1, 20), (32, 3)):
            sub = frames[: batch * reps]
            predict(model, sub[:batch], z_table, batch)
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                predict(model, sub, z_table, batch)
                best = min(best, time.perf_counter() - t)
            row[f"thr_b{batch}"] = len(sub) / best
        result[path.stem[len("test_"):]] = row
    (folder / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
