"""Per-candidate time-outs: run a simulator in a child process that can be killed.

A Python thread cannot be stopped, and a simulator stuck in native code (an SCF that never
converges, a hung GPU kernel) ignores signals, so the only reliable time-out is a process
boundary. :class:`TimeoutSimulator` wraps any :class:`physics.Simulator`: a long-lived child
process builds it once (``setup``) and simulates one candidate at a time; the parent waits at
most ``seconds`` for each answer. On a time-out the child is killed (SIGKILL), the candidate
becomes a failure with reason ``"timed out after N s"``, and a fresh child is started for the
next candidate. A child that dies (segfault, out of memory) is a failure naming its exit code.

The child is a plain ``subprocess`` (an argument list, never a shell string), so it works from
daemonic processes and Dask workers too; parent and child talk over a dedicated pair of pipes
(pickles between two processes of this program — nothing read from files), so whatever the
simulator prints does not disturb them. The child exits by itself when its parent dies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from physics import CandidateError, SimulationError, SimulationResult, Simulator
from physics._base import _check_batch

__all__ = ["TimeoutSimulator", "with_timeout"]

#: the child's program: standard library only (unpickling the simulator imports what it needs)
_CHILD = """
import os, signal, sys, threading, time
from multiprocessing.connection import Connection
signal.signal(signal.SIGINT, signal.SIG_IGN)
parent = os.getppid()
def watch():
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)
threading.Thread(target=watch, daemon=True).start()
cin, cout = Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
try:
    sim = cin.recv()
    sim.setup()
except Exception as exc:
    cout.send(("error", f"{type(exc).__name__}: {exc}"))
    sys.exit(1)
cout.send(("ready", None))
try:
    while True:
        try:
            cand = cin.recv()
        except EOFError:
            break
        try:
            cout.send(("result", sim.evaluate([cand])[0]))
        except Exception as exc:
            cout.send(("error", f"{type(exc).__name__}: {exc}"))
finally:
    sim.teardown()
"""


class TimeoutSimulator(Simulator):
    """``simulator`` run in a child process, at most ``seconds`` of wall time per candidate.

    Args:
        simulator: any simulator (picklable: built from a registered kind and options).
        seconds: wall-clock limit per candidate, > 0.
        start_timeout: seconds allowed for the child to start and run ``setup()``.
    """

    def __init__(self, simulator: Simulator, seconds: float, start_timeout: float = 300.0) -> None:
        if not seconds > 0:
            raise ValueError(f"time-out must be > 0 seconds, got {seconds}")
        self.simulator = simulator
        self.seconds = float(seconds)
        self.start_timeout = float(start_timeout)
        self.targets = tuple(simulator.targets)
        self._proc: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None

    def __repr__(self) -> str:
        return f"TimeoutSimulator({self.simulator!r}, seconds={self.seconds:g})"

    def __getstate__(self) -> dict[str, Any]:  # the child process handle stays here
        return {**self.__dict__, "_proc": None, "_to_child": None, "_from_child": None}

    # --- the child process ----------------------------------------------------------------
    def setup(self) -> None:
        self._ensure_child()

    def teardown(self) -> None:
        if self._to_child is not None:
            try:
                self._to_child.close()  # the child sees EOF, tears down and exits
            except OSError:
                pass
        if self._proc is not None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._kill()

    def _ensure_child(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._kill()
        c_in, p_out = os.pipe()  # parent -> child
        p_in, c_out = os.pipe()  # child -> parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(c_in), str(c_out)], pass_fds=(c_in, c_out),
                env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(c_in)
            os.close(c_out)
        self._to_child = Connection(p_out, readable=False)
        self._from_child = Connection(p_in, writable=False)
        try:
            self._to_child.send(self.simulator)
            if not self._from_child.poll(self.start_timeout):
                raise SimulationError(f"the simulator process did not start within "
                                      f"{self.start_timeout:g} s")
            kind, payload = self._from_child.recv()
        except (EOFError, OSError) as exc:
            code = self._kill()
            raise SimulationError(f"the simulator process failed to start (exit code {code}): "
                                  f"{exc}") from None
        except BaseException:
            self._kill()
            raise
        if kind != "ready":
            self._kill()
            raise SimulationError(f"the simulator failed to set up: {payload}")

    def _kill(self) -> int | None:
        """Kill the child (if any) and forget it; returns its exit code."""
        proc, self._proc = self._proc, None
        for conn in (self._to_child, self._from_child):
            if conn is not None:
                try:
                    conn.close()
                except OSError:
                    pass
        self._to_child = self._from_child = None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait()

    # --- simulating -----------------------------------------------------------------------
    def run_one(self, candidate: Any) -> SimulationResult:
        """Simulate one candidate in the child; a time-out or a dead child is a failure."""
        self._ensure_child()
        assert self._to_child is not None and self._from_child is not None
        t0 = time.perf_counter()
        try:
            self._to_child.send(candidate)
            if not self._from_child.poll(self.seconds):
                self._kill()
                return SimulationResult.failure(f"timed out after {self.seconds:g} s",
                                                time.perf_counter() - t0)
            kind, payload = self._from_child.recv()
        except (EOFError, OSError):
            code = self._kill()
            return SimulationResult.failure(f"simulator process died (exit code {code})",
                                            time.perf_counter() - t0)
        except BaseException:  # the worker is being stopped: never leave the child behind
            self._kill()
            raise
        if kind == "error":
            raise SimulationError(payload)
        return payload

    def evaluate(self, candidates: Sequence[Any]) -> list[SimulationResult]:
        return [self.run_one(c) for c in _check_batch(candidates)]

    def evaluate_one(self, candidate: Any) -> Mapping[str, Any]:
        result = self.run_one(candidate)
        if not result.ok:
            raise CandidateError(result.error or "unknown failure")
        return dict(result.values)


def with_timeout(simulator: Simulator, seconds: float | None) -> Simulator:
    """``simulator`` itself when ``seconds`` is ``None``, else wrapped in a time-out."""
    return simulator if seconds is None else TimeoutSimulator(simulator, seconds)

