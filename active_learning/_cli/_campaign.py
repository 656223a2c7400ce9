"""``scout run | status | report | worker``: the campaign commands (registered in ``cli.COMMANDS``).

Bad input (a bad config, a missing file, a campaign that has not started) raises
``ValueError``/``FileNotFoundError``; the ``scout`` group turns those into one line and exit
code 2. Commands invoked directly (tests) do the same through :func:`_user_errors`.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["report_command", "run_command", "status_command", "verbosity", "worker_command"]

_CONFIG = click.argument("config", type=click.Path(dir_okay=False))


def verbosity() -> int:
    """The ``scout -v/-q`` level of the running command (0 when invoked on its own)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return int(obj.get("verbosity", 0)) if isinstance(obj, dict) else 0


def _user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One line and exit code 2 for bad input, also when the command is invoked alone."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ._errors import USER_ERRORS, exit_on_user_error

        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            exit_on_user_error(exc)

    return wrapper


@click.command("run")
@_CONFIG
@click.option("--quiet", is_flag=True, help="No progress output (like `scout -q run`).")
@click.option("--restart", is_flag=True,
              help="Start the campaign's study afresh (after a config change); refused once "
                   "any simulation has completed.")
@_user_errors
def run_command(config: str, quiet: bool, restart: bool) -> None:
    """Run a campaign from its TOML CONFIG, or resume it if its study exists.

    A new campaign is checked first (`scout check`): the whole pool, the simulator and its
    options, the storage. The first SIGTERM or Ctrl-C lets the simulation in flight finish
    and be recorded, then exits with code 3 ("interrupted after N simulations; run again to
    resume"); a second one stops at once and hands the simulation back to the queue.
    """
    from .._coordinator._campaign import Campaign, CampaignInterrupted
    from .._report._status import print_status
    from ._errors import EXIT_INTERRUPTED

    quiet = quiet or verbosity() < 0
    try:
        summary = Campaign.from_toml(config, progress=not quiet, restart=restart).run()
    except CampaignInterrupted as exc:
        click.secho(str(exc), fg="yellow", err=True)
        sys.exit(EXIT_INTERRUPTED)
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

    summary = summarize(open_session(config, load_pool=True))
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
@click.option("--wait-for-study", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to wait for the coordinator to create the study.")
@_user_errors
def worker_command(config: str, max_trials: int | None, idle_timeout: float,
                   wait_for_study: float) -> None:
    """Join a campaign through its storage and simulate enqueued candidates.

    Start as many as you like, on any machine that reaches the storage (SQLite: one machine;
    journal:///path on a shared file system; PostgreSQL: anywhere). It waits up to
    --wait-for-study seconds for the coordinator (`scout run`) to create the study, then
    refuses with one line (a worker must use its coordinator's storage). SIGTERM finishes the
    current simulation and exits (code 3); a second SIGTERM releases it for another worker.
    """
    from .._execution._worker import run_worker
    from ._errors import EXIT_INTERRUPTED

    stats = run_worker(config, max_trials=max_trials, idle_timeout=idle_timeout,
                       wait_for_study=wait_for_study)
    click.echo(f"worker: {stats.completed} completed, {stats.failed} failed, "
               f"{stats.released} released ({stats.stop_reason})")
    if stats.signal:
        sys.exit(EXIT_INTERRUPTED)
