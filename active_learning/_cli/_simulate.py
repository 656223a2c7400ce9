"""``scout simulate``: run a registered simulator over a file of candidates.

Register in ``cli.COMMANDS`` as ``"simulate": "active_learning._cli._simulate:simulate_command"``.
Physics is imported only when the command runs, so ``scout --help`` stays instant.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click

__all__ = ["read_candidates", "simulate_command"]

_STRUCTURE_SUFFIXES = {".xyz", ".extxyz", ".db", ".traj"}


class _SimulatorKind(click.ParamType):
    """A simulator kind from ``physics.SIMULATORS``, checked when the command runs."""

    name = "kind"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from physics import SIMULATORS

        if value not in SIMULATORS:
            self.fail(f"unknown simulator {value!r}; choose one of {sorted(SIMULATORS)}",
                      param, ctx)
        return str(value)


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of the CLI's ``--option``: a value is read as JSON when it parses
    (``1``, ``true``, ``["energy"]``), then as a Python literal (``(64, 32)``, ``None``), else
    kept as a string (``GFN1-xTB``, ``float64``)."""
    import ast

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"option {pair!r} is not KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                value = raw
        options[key.strip()] = value
    return options


def read_candidates(
    path: str | Path, column: str | None = None, id_column: str | None = None
) -> tuple[list[str], list[Any]]:
    """Ids and candidates from a file.

    * ``.smi``/``.smiles``/``.txt``: one ``SMILES [id]`` per line (``#`` comments allowed);
    * ``.csv``/``.csv.gz``/``.tsv``: the ``column`` (default ``smiles``, else ``id``), ids from
      ``id_column`` (default ``id`` when present, else the row number);
    * ``.xyz``/``.extxyz``/``.db``/``.traj``: structures, ids from ``info["id"]`` or the index.

    Raises:
        ValueError: an unknown format, a missing column, or no candidates (naming the file).
    """
    path = Path(path)
    name = path.name.lower()
    suffix = path.suffix.lower()
    ids: list[str] = []
    cands: list[Any] = []
    if suffix in _STRUCTURE_SUFFIXES:
        from physics import read_structures

        for i, atoms in enumerate(read_structures(path)):
            ids.append(str(atoms.info.get("id", i)))
            cands.append(atoms)
    elif suffix in {".smi", ".smiles", ".txt"}:
        for line in path.read_text().splitlines():
            fields = line.split("#", 1)[0].split() if not line.startswith("#") else []
            if fields:
                cands.append(fields[0])
                ids.append(fields[1] if len(fields) > 1 else str(len(ids)))
    elif name.endswith((".csv", ".csv.gz", ".tsv")):
        import pandas as pd

        frame = pd.read_csv(path, sep="\t" if name.endswith(".tsv") else ",", dtype=str)
        col = column or next((c for c in ("smiles", "id") if c in frame.columns), None)
        if col is None or col not in frame.columns:
            raise ValueError(f"{path}: no column {column or 'smiles/id'!r}; it has "
                             f"{list(frame.columns)} (choose one with --column)")
        id_col = id_column or ("id" if "id" in frame.columns else None)
        if id_col is not None and id_col not in frame.columns:
            raise ValueError(f"{path}: no id column {id_col!r}; it has {list(frame.columns)}")
        cands = frame[col].fillna("").str.strip().tolist()
        ids = (frame[id_col].astype(str).tolist() if id_col
               else [str(i) for i in range(len(frame))])
    else:
        raise ValueError(f"{path}: unknown candidate format; use .smi, .csv(.gz), .tsv, "
                         ".xyz/.extxyz, .db or .traj")
    if not cands:
        raise ValueError(f"{path}: no candidates in the file")
    return ids, cands


def _label(candidate: Any) -> str:
    return candidate if isinstance(candidate, str) else candidate.get_chemical_formula()


def _scalar_columns(values: dict[str, Any]) -> dict[str, float]:
    """Scalars as they are; short vectors (a dipole) as ``name_0..name_2``; arrays skipped."""
    import numpy as np

    out: dict[str, float] = {}
    for key, val in values.items():
        arr = np.asarray(val, dtype=float).reshape(-1)
        if arr.size == 1:
            out[key] = float(arr[0])
        elif arr.size <= 3:
            out.update({f"{key}_{i}": float(x) for i, x in enumerate(arr)})
    return out


def _write_xyz(path: Path, ids: list[str], atoms_list: list[Any], results: list[Any]) -> int:
    """Successful molecules with SinglePointCalculator results (energy, forces, dipole)."""
    import numpy as np
    from ase.calculators.singlepoint import SinglePointCalculator

    from physics import write_structures

    images = []
    for cid, atoms, res in zip(ids, atoms_list, results):
        if atoms is None or not res.ok:
            continue
        out = atoms.copy()
        if "positions" in res.values:
            out.positions = np.asarray(res.values["positions"])
        calc_keys = {"energy", "forces", "dipole", "stress"} & set(res.values)
        out.calc = SinglePointCalculator(out, **{k: np.asarray(res.values[k]) for k in calc_keys})
        out.info["id"] = cid
        out.info.update({k: v for k, v in _scalar_columns(
            {k: v for k, v in res.values.items() if k not in calc_keys}).items()})
        images.append(out)
    if images:
        write_structures(path, images)
    return len(images)


@click.command("simulate")
@click.argument("kind", type=_SimulatorKind())
@click.argument("candidates", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Simulator option, repeatable (e.g. -o method=GFN1-xTB -o relax=true).")
@click.option("--out", "out_csv", required=True, type=click.Path(dir_okay=False),
              help="CSV of results: id, candidate, ok, error, seconds and scalar targets.")
@click.option("--xyz", "out_xyz", type=click.Path(dir_okay=False), default=None,
              help="Also write successful molecules as extxyz with energy/forces/dipole.")
@click.option("--column", default=None, help="Candidate column of a CSV input (default smiles).")
@click.option("--id-column", default=None, help="Id column of a CSV input (default id).")
@click.option("--seed", default=0, show_default=True, help="3D embedding seed for SMILES.")
@click.option("--quiet", is_flag=True, help="No progress bar or failure list.")
def simulate_command(kind: str, candidates: str, options: tuple[str, ...], out_csv: str,
                     out_xyz: str | None, column: str | None, id_column: str | None,
                     seed: int, quiet: bool) -> None:
    """Run simulator KIND (xtb, dft, ase, lookup, ...) over the CANDIDATES file.

    CANDIDATES is a .smi file, a CSV with a smiles (or id) column, or structures (extxyz, ASE
    db). One bad candidate is a failed row with its reason, never a crash.
    """
    import pandas as pd
    from tqdm import tqdm

    from physics import SimulationError, SimulationResult, make_simulator, to_atoms

    try:
        sim = make_simulator(kind, **parse_options(options))
    except SimulationError as exc:
        raise ValueError(f"simulator {kind!r}: {exc}") from None
    ids, cands = read_candidates(candidates, column, id_column)
    molecular = sim.input_kind == "atoms"
    if out_xyz and not molecular:
        raise ValueError(f"--xyz needs a molecular simulator; {kind!r} is not one")

    atoms_list: list[Any] = [None] * len(cands)
    results: list[SimulationResult] = []
    t0 = time.perf_counter()
    for i, cand in enumerate(tqdm(cands, desc=f"scout simulate {kind}", unit="cand",
                                  disable=quiet)):
        if molecular:
            try:
                cand = atoms_list[i] = to_atoms(cand, seed=seed)
            except ValueError as exc:
                results.append(SimulationResult.failure(str(exc)))
                continue
        results.append(sim.evaluate([cand])[0])
    wall = time.perf_counter() - t0

    rows = [{"id": cid, "candidate": _label(c), "ok": r.ok, "error": r.error or "",
             "seconds": r.seconds, **_scalar_columns(dict(r.values))}
            for cid, c, r in zip(ids, cands, results)]
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out_csv, index=False)
    n_xyz = _write_xyz(Path(out_xyz), ids, atoms_list, results) if out_xyz else 0

    failed = [(cid, r.error) for cid, r in zip(ids, results) if not r.ok]
    click.echo(f"{kind}: {len(results)} candidates, {len(results) - len(failed)} ok, "
               f"{len(failed)} failed in {wall:.1f} s -> {out_csv}"
               + (f", {n_xyz} structures -> {out_xyz}" if out_xyz else ""))
    if failed and not quiet:
        for cid, err in failed[:10]:
            click.echo(f"  failed {cid}: {err}")
        if len(failed) > 10:
            kinds = Counter(err.split(":")[0] for _, err in failed).most_common(3)
            click.echo(f"  ... and {len(failed) - 10} more (see the error column); most "
                       f"common: " + "; ".join(f"{n} x {k}" for k, n in kinds))
