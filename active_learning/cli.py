"""The ``scout`` command line.

Commands are registered in :data:`COMMANDS` as ``name -> "module:attribute"`` and imported only
when invoked, so ``scout --help`` is instant (no torch import). Bad input — a ``ValueError``,
a missing file, a bad config — is reported as one line ``error: ...`` with exit code 2, never
a traceback wall; set ``SCOUT_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

__all__ = ["COMMANDS", "main"]

#: the one registry of CLI commands; help text is read from each command itself
COMMANDS: dict[str, str] = {
    "compress": "active_learning._cli._compress:compress",
    "report": "active_learning._cli._campaign:report_command",
    "run": "active_learning._cli._campaign:run_command",
    "simulate": "active_learning._cli._simulate:simulate_command",
    "status": "active_learning._cli._campaign:status_command",
    "train": "active_learning._cli._train:train",
    "worker": "active_learning._cli._campaign:worker_command",
}

#: exceptions that mean "the user's input is wrong", reported without a traceback
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, FileNotFoundError, IsADirectoryError, PermissionError, KeyError,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scoutlab")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def exit_on_user_error(exc: BaseException) -> NoReturn:
    """Report bad input as one ``error: ...`` line and exit 2 (re-raise with SCOUT_DEBUG=1)."""
    if os.environ.get("SCOUT_DEBUG"):
        raise exc
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    click.secho(f"error: {msg}", fg="red", err=True)
    sys.exit(2)


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


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="scout")
def main() -> None:
    """scoutlab: surrogate-guided screening campaigns.

    A learned scout ranks a large pool of candidates; only the best few go to the expensive
    simulator (xTB, DFT, an allosteric sensor model, a lookup table), and every result makes
    the scout better. The campaign lives in an Optuna study, so it can stop and resume.
    """
