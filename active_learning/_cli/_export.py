"""``scout export CONFIG --format csv|sdf|extxyz|db --out FILE``: results out of the study."""

from __future__ import annotations

import click

from .._report._export import FORMATS
from ._campaign import _CONFIG, _user_errors

__all__ = ["export_command"]


@click.command("export")
@_CONFIG
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="File format [default: from the --out suffix: .csv, .sdf, .xyz/.extxyz, "
                   ".db].")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File to write (replaced when it exists).")
@_user_errors
def export_command(config: str, fmt: str | None, out: str) -> None:
    """Write every evaluated candidate: id, SMILES, state, round, error, cost, every value
    the judge returned (with units) and the structure it was judged on.

    csv holds the values (arrays as JSON); sdf, extxyz and db (molecule campaigns) hold the
    judged 3D structures with their values (energy and forces as calculator results).
    """
    from pathlib import Path

    from .._ledger._session import open_session
    from .._report._export import export_campaign

    if fmt is None:
        suffix = Path(out).suffix.lower()
        fmt = {".csv": "csv", ".sdf": "sdf", ".xyz": "extxyz", ".extxyz": "extxyz",
               ".db": "db"}.get(suffix)
        if fmt is None:
            raise ValueError(f"--out {out!r}: cannot tell the format from {suffix or 'no'} "
                             f"suffix; give --format ({', '.join(FORMATS)})")
    n = export_campaign(open_session(config, load_pool=True), out, fmt)
    click.echo(f"exported {n} candidates to {out} ({fmt})")
