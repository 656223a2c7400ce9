"""What reaches the terminal and the log file: the CLI's decision, never the library's.

The packages (``active_learning``, ``physics``, ``surrogates``) log through
``logging.getLogger(__name__)`` and change no logging state at import. ``scout`` (and only
``scout``) attaches one handler to each package's logger: the terminal (stderr) gets INFO
(``-q``: warnings only; ``-v``: debug), ``--log-file`` gets every record at DEBUG with time
stamps. Optuna's own INFO chatter ("A new study created …") is kept to warnings unless ``-vv``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

__all__ = ["PACKAGES", "configure_logging", "show_training"]

#: the loggers of the three packages
PACKAGES = ("active_learning", "physics", "surrogates")
_MARK = "_scout_cli_handler"


class _TerminalFormatter(logging.Formatter):
    """Plain messages; warnings and errors say so."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {text}"
        return text


def _replace_handlers(logger: logging.Logger, handlers: list[logging.Handler]) -> None:
    for h in [h for h in logger.handlers if getattr(h, _MARK, False)]:
        logger.removeHandler(h)
        h.close()
    for h in handlers:
        setattr(h, _MARK, True)
        logger.addHandler(h)


def configure_logging(verbosity: int = 0, log_file: str | os.PathLike | None = None) -> None:
    """Route the packages' log records: ``verbosity`` −1 (``-q``) warnings only, 0 info,
    1 (``-v``) debug, 2 (``-vv``) debug plus Optuna's info; ``log_file`` gets everything
    (DEBUG, time-stamped, appended). Calling it again replaces what an earlier call set up."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 \
        else logging.DEBUG
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(level)
    terminal.setFormatter(_TerminalFormatter("%(message)s"))
    handlers: list[logging.Handler] = [terminal]
    if log_file is not None:
        path = os.fspath(log_file)
        if os.path.isdir(path):
            raise ValueError(f"--log-file {path!r} is a folder, not a file")
        file = logging.FileHandler(path, encoding="utf-8")
        file.setLevel(logging.DEBUG)
        file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(file)
    for name in PACKAGES:
        logger = logging.getLogger(name)
        logger.setLevel(min(level, logging.DEBUG if log_file is not None else level))
        logger.propagate = False
        _replace_handlers(logger, handlers)
    _optuna(verbosity, handlers[1:])


def _optuna(verbosity: int, files: list[logging.Handler]) -> None:
    """Optuna's logger: its own terminal handler at WARNING (INFO with ``-vv``), and the log
    file, when there is one, gets its records too."""
    import optuna

    optuna.logging.set_verbosity(logging.INFO if verbosity >= 2 else logging.WARNING)
    _replace_handlers(logging.getLogger("optuna"), files)


@contextlib.contextmanager
def show_training(verbosity: int = 0) -> Iterator[None]:
    """While a command trains a model (``scout train``), show the models' per-epoch lines
    (``surrogates`` DEBUG records) on the terminal, unless ``-q``; restored afterwards."""
    if verbosity < 0:
        yield
        return
    logger = logging.getLogger("surrogates")
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(_TerminalFormatter("%(message)s"))
    before = logger.level
    terminal = [h for h in logger.handlers if getattr(h, _MARK, False)
                and isinstance(h, logging.StreamHandler) and h.stream is sys.stderr]
    for h in terminal:  # one terminal line per record, not two
        logger.removeHandler(h)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        for h in terminal:
            logger.addHandler(h)
        logger.setLevel(before)
