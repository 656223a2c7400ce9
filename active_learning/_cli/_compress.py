"""``scout compress``: teacher model file + candidate pool → screener file + trade-off report."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import click
import numpy as np

__all__ = ["compress", "read_pool"]


def read_pool(path: Path, limit: int | None = None) -> list[Any]:
    """Candidates from ``.smi`` (SMILES [name] per line), ``.csv`` (column ``smiles`` or
    ``sequence``, else the first), ``.txt`` (one sequence per line) or ``.xyz``/``.extxyz``
    (3D structures as ``ase.Atoms``, for GNN teachers)."""
    if not path.is_file():
        raise FileNotFoundError(f"pool file {str(path)!r} does not exist")
    items: list[Any] = []
    if path.suffix.lower() in (".xyz", ".extxyz"):
        from ase.io import read

        try:
            items = list(read(path, ":"))
        except Exception as exc:  # ase raises many types for a malformed file
            raise ValueError(f"pool file {str(path)!r} is not a readable xyz file: {exc}") \
                from None
    elif path.suffix.lower() == ".csv":
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            if not cols:
                raise ValueError(f"pool file {str(path)!r} has no header row")
            col = next((c for c in cols if c.lower() in ("smiles", "sequence")), cols[0])
            items = [row[col].strip() for row in reader if row.get(col, "").strip()]
    else:
        with path.open() as fh:
            items = [ln.split()[0] for ln in fh if ln.strip() and not ln.startswith("#")]
    if not items:
        raise ValueError(f"pool file {str(path)!r} holds no candidates")
    return items[:limit] if limit else items


def _gnn_student(teacher: Any, cands: list[Any], epochs: int, seed: int) -> Any:
    """A smaller EquivariantGNN (lmax 1, one layer, half the channels) for an Atoms teacher."""
    from ase import Atoms

    from surrogates import EquivariantGNN
    from surrogates._compress._distill import teacher_first

    first = teacher_first(teacher)
    if first.input_kind != "atoms" or not cands or not isinstance(cands[0], Atoms):
        raise ValueError("--student gnn needs a GNN teacher (ase.Atoms input) and an "
                         ".xyz/.extxyz pool")
    p = first.get_params()
    return EquivariantGNN(target=p["target"], lmax=1, n_layers=1,
                          channels=max(4, int(p["channels"]) // 2), cutoff=p["cutoff"],
                          epochs=int(epochs), dtype=p["dtype"], device=p["device"],
                          random_state=seed)


def _plot(rows: list[dict[str, Any]], chosen: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for r in rows:
        ax.scatter(r["candidates_per_s_features"], r["top_k_recall"],
                   c="tab:red" if r["name"] == chosen else "tab:blue")
        ax.annotate(r["name"], (r["candidates_per_s_features"], r["top_k_recall"]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("throughput once featurised (candidates/s)")
    ax.set_ylabel("top-1% recall vs teacher (held-out)")
    ax.set_title("screener trade-off (red: saved)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@click.command("compress")
@click.argument("teacher", type=click.Path(path_type=Path))
@click.argument("pool", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("screener.safetensors"),
              show_default=True, help="screener file to write")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="folder for compress_report.json/.png [default: next to --output]")
@click.option("--prune", "prune_amounts", default="0,0.5,0.75", show_default=True,
              help="comma-separated pruning amounts to try")
@click.option("--quantize/--no-quantize", default=True, show_default=True,
              help="also try int8 versions of each pruned student")
@click.option("--minimize", is_flag=True, help="lower scores are better (e.g. docking)")
@click.option("--max-loss", default=0.05, show_default=True,
              help="largest top-k recall loss vs the best candidate tried")
@click.option("--limit", type=int, default=None, help="use only the first N pool candidates")
@click.option("--hidden", default="256,128", show_default=True,
              help="hidden widths of the default MLP student")
@click.option("--epochs", default=300, show_default=True, help="student's max training epochs")
@click.option("--student", "student_kind", type=click.Choice(["default", "gnn"]),
              default="default", show_default=True,
              help="default: MLP on fingerprints/encodings; gnn: a smaller EquivariantGNN "
                   "(lmax 1, one layer; needs an .xyz/.extxyz pool and a GNN teacher)")
@click.option("--seed", default=0, show_default=True)
def compress(teacher: Path, pool: Path, output: Path, report: Path | None, prune_amounts: str,
             quantize: bool, minimize: bool, max_loss: float, limit: int | None, hidden: str,
             epochs: int, seed: int, student_kind: str) -> None:
    """Distil TEACHER (a model file) on POOL into a fast screener; try pruning/int8 variants,
    save the fastest within --max-loss of the best top-1% recall, and plot the trade-off."""
    from surrogates import Screener, load_model
    from surrogates import prune as prune_model
    from surrogates import quantize as quantize_model
    from surrogates._compress import accuracy, count_parameters
    from surrogates._compress._build import default_student
    from surrogates._compress._metrics import throughput
    from surrogates._mlp._base import MLPSurrogateBase

    try:
        amounts = sorted({float(a) for a in prune_amounts.split(",") if a.strip()})
    except ValueError:
        raise ValueError(f"--prune must be comma-separated numbers, got {prune_amounts!r}") from None
    if any(not 0.0 <= a < 1.0 for a in amounts):
        raise ValueError(f"--prune amounts must be in [0, 1), got {amounts}")
    try:
        widths = tuple(int(h) for h in hidden.split(",") if h.strip())
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated integers, got {hidden!r}") from None
    model = load_model(teacher)
    cands = read_pool(pool, limit)
    click.echo(f"teacher {type(model).__name__} from {teacher}; {len(cands)} candidates")
    student = default_student(model, seed) if student_kind == "default" else \
        _gnn_student(model, cands, epochs, seed)
    if isinstance(student, MLPSurrogateBase):
        student.set_params(hidden=widths, epochs=int(epochs))
    base = Screener.from_teacher(model, cands, student=student, maximize=not minimize,
                                 teacher_path=teacher, random_state=seed)
    hold = base.holdout_index_
    ref = model.predict([cands[i] for i in hold]).mean
    F_all = base.featurize(cands)
    F_hold = F_all[hold] if isinstance(F_all, np.ndarray) else [cands[i] for i in hold]
    variants: dict[str, Screener] = {"distilled": base}
    for a in amounts:
        pruned = base.model if a == 0 else prune_model(base.model, a, X=F_all, random_state=seed,
                                                       epochs=min(100, int(epochs)))
        if a:
            variants[f"pruned {a:g}"] = Screener(pruned, teacher=base.teacher,
                                                 maximize=base.maximize,
                                                 config={**base.config, "pruning": pruned.pruning_})
        if quantize:
            q = quantize_model(pruned, F_hold, require_speedup=False)
            if q.quantization_["quantized"]:
                name = f"int8 pruned {a:g}" if a else "int8"
                variants[name] = Screener(q, teacher=base.teacher, maximize=base.maximize,
                                          config={**variants.get(f"pruned {a:g}", base).config,
                                                  "quantization": q.quantization_})
    rows = []
    for name, s in variants.items():
        pred = s.score_features(F_hold).mean
        s.metrics = {**accuracy(pred, ref, maximize=s.maximize),
                     "reference": "teacher mean on held-out pool candidates"}
        s.throughput = {**base.throughput, "parameters": count_parameters(s.model),
                        "candidates_per_s_features": throughput(lambda s=s: s.score_features(F_hold),
                                                                len(hold))}
        rows.append({"name": name, **{k: v for k, v in s.metrics.items() if k != "reference"},
                     "parameters": s.throughput["parameters"],
                     "candidates_per_s_features": s.throughput["candidates_per_s_features"]})
    best = max(r["top_k_recall"] for r in rows)
    ok = [r for r in rows if r["top_k_recall"] >= best - max_loss]
    chosen = max(ok, key=lambda r: r["candidates_per_s_features"])["name"]
    variants[chosen].save(output)
    report = output.parent if report is None else report
    report.mkdir(parents=True, exist_ok=True)
    (report / "compress_report.json").write_text(json.dumps(
        {"teacher": str(teacher), "pool": str(pool), "n_candidates": len(cands),
         "n_holdout": len(hold), "chosen": chosen, "rows": rows}, indent=2))
    _plot(rows, chosen, report / "compress_report.png")
    for r in rows:
        click.echo(f"  {r['name']:<16} recall={r['top_k_recall']:.2f} "
                   f"rho={r['spearman']:.3f} params={r['parameters']:>8} "
                   f"{r['candidates_per_s_features']:>10.0f} cand/s")
    click.echo(f"saved {chosen!r} to {output}; report in {report}")
