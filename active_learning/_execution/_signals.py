"""Stop signals: the first SIGTERM/SIGINT asks for a clean stop, a second one stops at once.

One :class:`StopSignals` is shared by a coordinator and the worker it runs in-process (or owned
by a worker alone). It counts the signals and, by the *mode* the main thread is in, decides
what a signal does there:

==================  ===============================  ==========================================
mode                first signal                     second signal
==================  ===============================  ==========================================
``"record"``        flag only (the loop looks)       flag only: a trial being popped or told is
                                                     never cut in half
``"simulating"``    flag: the simulation finishes    raise :class:`Interrupted`: the worker
                    and is told, then the loop ends  releases the trial (FAIL + bounded retry)
``"interruptible"`` raise :class:`Interrupted`       raise :class:`Interrupted`
                    (planning, or an idle wait:
                    nothing to lose)
``"stopping"``      flag only                        raise :class:`Interrupted` (give up the
                                                     graceful wait for workers)
==================  ===============================  ==========================================

Handlers are installed only from the main thread (Python delivers signals there), and the
previous handlers come back when the ``with`` block ends, so nothing changes at import or
after a campaign returns.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["MODES", "Interrupted", "StopSignals"]

MODES = ("record", "simulating", "interruptible", "stopping")
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """Raised in the main thread by a stop signal where the work in progress may end now (a
    BaseException, so a simulator's per-candidate ``except Exception`` does not swallow it)."""


class StopSignals:
    """Counts SIGTERM/SIGINT and acts by mode (see the module docstring).

    Attributes:
        count: signals received since :meth:`installed` began.
        name: the name of the first one (``"SIGTERM"``), ``""`` when none came.
        event: set by the first signal (a loop may ``event.wait(poll)`` on it).
    """

    def __init__(self) -> None:
        self.count = 0
        self.name = ""
        self.event = threading.Event()
        self._mode = "record"
        self._installed = False

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for (a signal came, or :meth:`request` was called)."""
        return self.event.is_set()

    @property
    def installed(self) -> bool:
        """Whether this object's handlers are installed now."""
        return self._installed

    def request(self) -> None:
        """Ask for a clean stop without a signal (what the first signal does)."""
        self.event.set()

    @contextlib.contextmanager
    def mode(self, mode: str) -> Iterator[None]:
        """Run a block in ``mode`` (one of :data:`MODES`); the previous mode comes back after.
        A stop already requested raises at once on entering ``"interruptible"``."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        before, self._mode = self._mode, mode
        try:
            if mode == "interruptible" and self.count:
                raise Interrupted(self.name)
            yield
        finally:
            self._mode = before

    @contextlib.contextmanager
    def installed_handlers(self) -> Iterator[StopSignals]:
        """Install the handlers for the ``with`` block (main thread only; elsewhere, or when
        this object's handlers are installed already, nothing changes)."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {s: signal.signal(s, self._handle) for s in _SIGNALS}
        self._installed = True
        try:
            yield self
        finally:
            self._installed = False
            for s, h in old.items():
                signal.signal(s, h)

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        if not self.name:
            self.name = signal.Signals(signum).name
        self.event.set()
        mode = self._mode
        if mode == "interruptible" or (mode in ("simulating", "stopping") and self.count >= 2):
            raise Interrupted(signal.Signals(signum).name)
