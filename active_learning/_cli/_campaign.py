"""``scout run | status | report | worker``: the campaign commands (registered in ``cli.COMMANDS``).

Bad input (a bad config, a missing file, a campaign that has not started) raises
``ValueError``/``FileNotFoundError``; the ``scout`` group turns those into one line and exit
code 2. Commands invoked directly (tests) do the same through :func:`_user_errors`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

__all__ = ["report_command", "run_command", "status_command", "worker_command"]

_CONFIG = click.argument("config", type=click.Path(dir_okay=False))


def _user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One line and exit code 2 for bad input, also when the command is invoked alone."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..cli import USER_ERRORS, exit_on_user_error

        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            exit_on_user_error(exc)

    return wrapper


@click.command("run")
@_CONFIG
@click.option("--quiet", is_flag=True, help="No progress output.")
@_user_errors
def run_command(config: str, quiet: bool) -> None:
    """Run a campaign from its TOML CONFIG, or resume it if its study exists."""
    from .._coordinator._campaign import Campaign
    from .._report._status import print_status

    summary = Campaign.from_toml(config, progress=not quiet).run()
    if not quiet:
        print_status(summary)


@click.command("status")
@_CONFIG
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (evaluations, failed, rounds, trials, top, ...).")
@_user_errors
def status_command(config: str, as_json: bool) -> None:
    """Show rounds, evaluations, failures, the best so far and the top-k table."""
    from .._ledger._session import open_session
    from .._report._status import print_status, summarize

    summary = summarize(open_session(config, load_pool=False))
    if as_json:
        click.echo(json.dumps(summary))
    else:
        print_status(summary)


@click.command("report")
@_CONFIG
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for the PNG plots and index.html.")
@_user_errors
def report_command(config: str, out: str) -> None:
    """Draw the campaign's plots (parity per round, learning curve, best so far, top-k
    recall, dose-response curves) and an HTML page showing them."""
    from .._ledger._session import open_session
    from .._report._html import write_report

    page = write_report(open_session(config, load_pool=True), out)
    click.echo(f"report: {page}")


@click.command("worker")
@_CONFIG
@click.option("--max-trials", type=click.IntRange(min=1), default=None,
              help="Stop after this many simulations.")
@click.option("--idle-timeout", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Stop after this many seconds with nothing to do.")
@_user_errors
def worker_command(config: str, max_trials: int | None, idle_timeout: float) -> None:
    """Join a campaign through its storage and simulate enqueued candidates.

    Start as many as you like, on any machine that reaches the storage (SQLite: one machine;
    journal:///path on a shared file system; PostgreSQL: anywhere). SIGTERM finishes the
    current simulation and exits; a second SIGTERM releases it for another worker.
    """
    from .._execution._worker import run_worker

    stats = run_worker(config, max_trials=max_trials, idle_timeout=idle_timeout)
    click.echo(f"worker: {stats.completed} completed, {stats.failed} failed, "
               f"{stats.released} released ({stats.stop_reason})")
