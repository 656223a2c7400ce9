"""``scout check CONFIG``: what a campaign will do and cost, and what stops it, before it runs."""

from __future__ import annotations

import sys

import click

from ._campaign import _CONFIG, _user_errors

__all__ = ["check_command"]


@click.command("check")
@_CONFIG
@click.option("--probe", type=click.IntRange(min=0), default=0, show_default=True,
              help="Simulate this many pool candidates to measure the cost of one (nothing "
                   "is recorded).")
@click.option("--restart", is_flag=True,
              help="Check as for `scout run --restart` (an existing study started afresh).")
@_user_errors
def check_command(config: str, probe: int, restart: bool) -> None:
    """Check a campaign without running it: read the whole pool (every SMILES parsed; bad
    ones listed with their line or row and id, and how to exclude them), build the simulator,
    surrogate and student from their options, reach the storage, and print what the
    campaign will do and what it will cost. Exit code 0 when it can run, 2 (one line per
    problem) when it cannot. `scout run` does the same before it creates the study.
    """
    from .._coordinator._preflight import preflight
    from ._errors import EXIT_USER_ERROR

    report = preflight(config, restart=restart, probe=probe, deep=True)
    click.echo(report.text())
    if report.problems:
        for problem in report.problems:
            click.secho(f"error: {problem}", fg="red", err=True)
        sys.exit(EXIT_USER_ERROR)
    click.secho("ok: the campaign can run", fg="green")
