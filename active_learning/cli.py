"""The ``scout`` command line.

Commands are registered in :data:`COMMANDS` as ``name -> "module:attribute"`` and imported only
when invoked, so ``scout --help`` is instant (no torch import). Bad input — a ``ValueError``,
a missing file, a bad config — is reported as one line ``error: ...`` with exit code 2, never
a traceback wall; set ``SCOUT_DEBUG=1`` to see the traceback. A campaign stopped by a signal
exits with :data:`EXIT_INTERRUPTED` after one line saying how to resume.

Global options (before the command): ``-v``/``-q`` set what the terminal shows, ``--log-file``
keeps every log record (:mod:`._cli._logging`).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ._cli._errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, USER_ERRORS, exit_on_user_error

__all__ = ["COMMANDS", "EXIT_INTERRUPTED", "EXIT_USER_ERROR", "USER_ERRORS", "exit_on_user_error",
           "main"]

#: the one registry of CLI commands; help text is read from each command itself
COMMANDS: dict[str, str] = {
    "check": "active_learning._cli._check:check_command",
    "compress": "active_learning._cli._compress:compress",
    "export": "active_learning._cli._export:export_command",
    "report": "active_learning._cli._campaign:report_command",
    "run": "active_learning._cli._campaign:run_command",
    "simulate": "active_learning._cli._simulate:simulate_command",
    "status": "active_learning._cli._campaign:status_command",
    "train": "active_learning._cli._train:train",
    "worker": "active_learning._cli._campaign:worker_command",
}

def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scoutlab")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class _LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except USER_ERRORS as exc:
            exit_on_user_error(exc)
        except KeyboardInterrupt:  # Ctrl-C before a campaign took the signals over
            click.secho("interrupted", fg="yellow", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="scout")
@click.option("-v", "--verbose", count=True,
              help="Show more: -v debug messages, -vv also Optuna's own.")
@click.option("-q", "--quiet", count=True, help="Show only warnings and errors.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="Also write every log record (debug level, time-stamped) to this file.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: int, log_file: str | None) -> None:
    """scoutlab: surrogate-guided screening campaigns.

    A learned scout ranks a large pool of candidates; only the best few go to the expensive
    simulator (xTB, DFT, an allosteric sensor model, a lookup table), and every result makes
    the scout better. The campaign lives in an Optuna study, so it can stop and resume.

    Start with `scout check CONFIG` (what a campaign will do and cost), then `scout run
    CONFIG`, `scout status`, `scout report` and `scout export`.
    """
    from ._cli._logging import configure_logging

    ctx.obj = {"verbosity": verbose - quiet}
    try:
        configure_logging(verbose - quiet, log_file)
    except (ValueError, OSError) as exc:
        exit_on_user_error(ValueError(f"--log-file: {exc}"))
