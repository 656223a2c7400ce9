"""``scout compress``: teacher model file + candidate pool → screener file + trade-off report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

__all__ = ["compress", "read_pool"]


#: what a pool file holds for a teacher that reads each input kind
_POOL_KIND = {"atoms": "molecules", "smiles": "molecules", "sequence": "sequences",
              "vector": "designs"}


def read_pool(path: Path, form: str = "smiles", limit: int | None = None,
              id_column: str | None = None, column: str | None = None) -> list[Any] | Any:
    """The candidates of a pool file in the teacher's input ``form``, read as a campaign reads
    its ``[pool]``: molecules from ``.smi``, ``.csv`` (column ``column``, default ``smiles``),
    ``.xyz``/``.extxyz`` or an ASE database (``.db``: also a campaign's
    ``*.artifacts/pool_cache/pool_atoms.db``); sequences from ``.txt``, ``.csv``, ``.fasta``;
    design vectors from ``.csv``/``.npy``. Molecules that cannot be built in 3D, and empty
    structures (a failed entry of a pool cache), are left out.

    Returns a list (an ``(n, d)`` array for vectors) of at most ``limit`` candidates.
    """
    from .._config._pool import PoolConfig

    if not path.is_file():
        raise FileNotFoundError(f"pool file {str(path)!r} does not exist")
    kind = _POOL_KIND.get(form)
    if kind is None:
        raise ValueError(f"a teacher that reads {form!r} has no pool file format")
    table: dict[str, Any] = {"kind": kind, "path": str(path)}
    if id_column:
        table["id_column"] = id_column
    if column:
        table[{"molecules": "smiles_column", "sequences": "sequence_column"}.get(
            kind, "feature_columns")] = column if kind != "designs" else column.split(",")
    pool = PoolConfig.from_dict(table, path.parent).build(None)
    n = len(pool) if not limit else min(limit, len(pool))
    items = pool.get(np.arange(n), form)
    if form in ("atoms", "smiles") and isinstance(items, list):
        kept = [x for x in items if x is not None and (form != "atoms" or len(x) > 0)]
        if len(kept) < len(items):
            click.echo(f"left out {len(items) - len(kept)} candidates with no usable "
                       f"structure", err=True)
        items = kept
    if len(items) == 0:
        raise ValueError(f"pool file {str(path)!r} holds no usable candidates")
    return items


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


def _plot(rows: list[dict[str, Any]], chosen: str | None, max_loss: float, path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot, no backend chosen

    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    ax.axhline(1.0 - max_loss, color="gray", ls="--", lw=1, label="least recall kept")
    for r in rows:
        ax.scatter(r["candidates_per_s_features"], r["top_k_recall"],
                   c="tab:red" if r["name"] == chosen else "tab:blue")
        ax.annotate(r["name"], (r["candidates_per_s_features"], r["top_k_recall"]),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("throughput once featurised (candidates/s)")
    ax.set_ylabel("top-1% recall vs teacher (held-out)")
    ax.set_ylim(-0.02, 1.05)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("screener trade-off (red: saved)" if chosen else
                 "screener trade-off (none saved)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


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
@click.option("--max-loss", type=click.FloatRange(0.0, 1.0), default=0.05, show_default=True,
              help="largest loss of top-1% recall allowed against the teacher (whose recall "
                   "of its own top 1% is 1): a screener below 1 - max-loss is not saved")
@click.option("--limit", type=int, default=None, help="use only the first N pool candidates")
@click.option("--id-column", default=None, help="id column of a CSV pool (or key of an ASE db)")
@click.option("--column", default=None,
              help="SMILES/sequence column of a CSV pool [default: smiles / sequence]")
@click.option("--hidden", default="256,128", show_default=True,
              help="hidden widths of the default MLP student")
@click.option("--epochs", default=300, show_default=True, help="student's max training epochs")
@click.option("--student", "student_kind", type=click.Choice(["default", "gnn"]),
              default="default", show_default=True,
              help="default: MLP on fingerprints/encodings; gnn: a smaller EquivariantGNN "
                   "(lmax 1, one layer; needs an .xyz/.extxyz pool and a GNN teacher)")
@click.option("--seed", default=0, show_default=True)
def compress(teacher: Path, pool: Path, output: Path, report: Path | None, prune_amounts: str,
             quantize: bool, minimize: bool, max_loss: float, limit: int | None,
             id_column: str | None, column: str | None, hidden: str,
             epochs: int, seed: int, student_kind: str) -> None:
    """Distil TEACHER (a model file) on POOL into a fast screener; try pruning/int8 variants,
    save the fastest whose top-1% recall (against the teacher, on held-out pool candidates)
    is at least 1 - --max-loss, and plot the trade-off. When none is, nothing is saved and
    the command fails (exit 2), the report says why.

    POOL is any pool file a campaign reads (.smi, .csv, .xyz/.extxyz, an ASE .db such as a
    campaign's pool cache; .txt/.fasta sequences; .npy vectors).
    """
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
    from surrogates._compress._distill import teacher_first

    cands = read_pool(pool, teacher_first(model).input_kind, limit, id_column, column)
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
    ok = [r for r in rows if r["top_k_recall"] >= 1.0 - max_loss - 1e-12]
    chosen = max(ok, key=lambda r: r["candidates_per_s_features"])["name"] if ok else None
    report = output.parent if report is None else report
    report.mkdir(parents=True, exist_ok=True)
    (report / "compress_report.json").write_text(json.dumps(
        {"teacher": str(teacher), "pool": str(pool), "n_candidates": len(cands),
         "n_holdout": len(hold), "max_loss": max_loss, "chosen": chosen, "rows": rows},
        indent=2))
    _plot(rows, chosen, max_loss, report / "compress_report.png")
    for r in rows:
        click.echo(f"  {r['name']:<16} recall={r['top_k_recall']:.2f} "
                   f"rho={r['spearman']:.3f} params={r['parameters']:>8} "
                   f"{r['candidates_per_s_features']:>10.0f} cand/s")
    if chosen is None:
        best = max(rows, key=lambda r: r["top_k_recall"])
        raise ValueError(
            f"no screener keeps the teacher's top 1% within --max-loss {max_loss:g}: the best "
            f"recall is {best['top_k_recall']:.2f} ({best['name']}, {best['k']} of "
            f"{len(hold)} held-out candidates); nothing saved (report in {report}). Train "
            f"the student longer (--epochs), give it more candidates, or allow a larger loss")
    variants[chosen].save(output)
    click.echo(f"saved {chosen!r} to {output}; report in {report}")
