"""``scout train``: fit a surrogate of atoms on an extxyz file and write the model + curve."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ._simulate import parse_options

__all__ = ["train"]


def _labels(structures: list[Any], target: str) -> Any:
    """The scalar ``target`` of every frame (attached results, else ``atoms.info``)."""
    import numpy as np

    values = []
    for k, atoms in enumerate(structures):
        results = getattr(atoms.calc, "results", None) or {}
        value = results.get(target, atoms.info.get(target))
        if value is None:
            raise ValueError(f"frame {k} has no {target!r} result")
        values.append(float(np.asarray(value, dtype=float).reshape(-1)[0]))
    return np.asarray(values)


def _build(kind: str, target: str, epochs: int | None, options: dict[str, Any]) -> Any:
    from surrogates import SURROGATES

    atoms_kinds = sorted(k for k, cls in SURROGATES.items() if cls.input_kind == "atoms")
    if kind not in atoms_kinds:
        raise ValueError(f"--kind {kind!r} is not a surrogate of atoms; choose one of {atoms_kinds}")
    cls = SURROGATES[kind]
    params = cls().get_params(deep=False)
    if "target" in params:
        options.setdefault("target", target)
    if epochs is not None:
        options["epochs"] = epochs
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ValueError(f"--option {unknown[0]!r} is not a parameter of {kind!r} "
                         f"(it takes {sorted(params)})")
    return cls(**options)


@click.command("train")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", default="gnn", show_default=True,
              help="Registered surrogate kind that reads atoms.")
@click.option("--target", default="energy", show_default=True,
              help="Label to learn: energy (with forces when present), gap, dipole, ...")
@click.option("--epochs", type=int, default=None, help="Training epochs (kind's default if unset).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Any constructor parameter, e.g. -o channels=16 -o dtype=float64.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Model file to write [default: DATA stem + .safetensors].")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Training-curve PNG [default: model file stem + _curve.png].")
def train(data: Path, kind: str, target: str, epochs: int | None, options: tuple[str, ...],
          out: Path | None, plot: Path | None) -> None:
    """Train a surrogate on an extxyz file whose frames carry results (energy, forces, ...).

    Labels are read from each frame's attached results, as ASE's extxyz reader leaves them.
    Writes the model (one safetensors file, loadable without executing code) and a PNG of
    the training curve.
    """
    from ase.io import read

    if not data.is_file():
        raise FileNotFoundError(f"data file {str(data)!r} does not exist")
    model = _build(kind, target, epochs, parse_options(options))
    try:
        structures = read(str(data), index=":")
    except Exception as exc:  # ASE raises many kinds for a malformed file
        raise ValueError(f"cannot read {str(data)!r} as a structure file: {exc}") from None
    click.echo(f"training {type(model).__name__} on {len(structures)} structures from {data}"
               f" (a line per epoch; -q hides them)")
    t0 = time.perf_counter()
    from surrogates import EquivariantGNN

    from ._campaign import verbosity
    from ._logging import show_training

    with show_training(verbosity()):
        if isinstance(model, EquivariantGNN):
            model.fit(structures)  # reads energy, forces and properties from the frames
        else:
            model.fit(structures, _labels(structures, target))
    seconds = time.perf_counter() - t0
    out = out or data.with_suffix(".safetensors")
    model.save(out)
    click.echo(f"model written to {out} ({seconds:.1f} s of training)")
    history = model.training_log()
    if history:
        last = history[-1]
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k.startswith("valid"))
        click.echo(f"epochs: {len(history)}; last: {shown or 'no validation split'}")
    if history and isinstance(model, EquivariantGNN):
        plot = plot or out.with_name(out.stem + "_curve.png")
        model.plot_history(plot)
        click.echo(f"training curve written to {plot}")
