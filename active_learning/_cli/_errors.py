"""What the ``scout`` commands share about failing: exit codes, the exceptions that mean bad
input, and the one-line report of it (``SCOUT_DEBUG=1`` shows the traceback instead)."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

__all__ = ["EXIT_INTERRUPTED", "EXIT_USER_ERROR", "USER_ERRORS", "exit_on_user_error"]

#: exit code of bad input (one ``error: ...`` line)
EXIT_USER_ERROR = 2
#: exit code of a campaign (or worker) stopped by SIGTERM/SIGINT: run again to resume
EXIT_INTERRUPTED = 3

#: exceptions that mean "the user's input is wrong", reported without a traceback
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, FileNotFoundError, IsADirectoryError, PermissionError, KeyError,
)


def exit_on_user_error(exc: BaseException) -> NoReturn:
    """Report bad input as one ``error: ...`` line and exit 2 (re-raise with SCOUT_DEBUG=1)."""
    if os.environ.get("SCOUT_DEBUG"):
        raise exc
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    click.secho(f"error: {msg}", fg="red", err=True)
    sys.exit(EXIT_USER_ERROR)
