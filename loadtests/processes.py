"""Child processes for the benchmark: started in their own session, always stopped.

Every child is registered with a `Children` context; leaving it (normally, on an exception, on
Ctrl-C or SIGTERM) stops them newest first: SIGTERM, then SIGKILL after a grace period. Children
run in a new session so a Ctrl-C in the terminal reaches only the benchmark, which then stops
them in order, and they are asked (Linux ``PR_SET_PDEATHSIG``) to die if the benchmark is killed
outright.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

_PR_SET_PDEATHSIG = 1


class ChildFailed(RuntimeError):
    """A child exited early or never became ready; the message points at its log."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Children:
    """The benchmark's child processes; a context manager that stops all of them on exit."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []
        self._previous_sigterm: Any = None

    def __enter__(self) -> Children:
        self._previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.stop_all()
        finally:
            signal.signal(signal.SIGTERM, self._previous_sigterm)

    def start(self, args: Sequence[str], *, log: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start a child with stdout and stderr going to `log`."""
        with log.open("ab") as sink:
            process = subprocess.Popen(list(args), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                       stdout=sink, stderr=sink, start_new_session=True,
                                       preexec_fn=_die_with_parent)
        self._running.append(process)
        return process

    def run(self, args: Sequence[str], *, timeout: float, cwd: Path | None = None) -> str:
        """Run a child to completion and return its stdout (stderr is passed through)."""
        process = subprocess.Popen(list(args), cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, start_new_session=True,
                                   preexec_fn=_die_with_parent)
        self._running.append(process)
        try:
            out, _ = process.communicate(timeout=timeout)
        finally:
            self.stop(process)
        if process.returncode != 0:
            raise ChildFailed(f"{args[0]} exited with status {process.returncode}")
        return out.decode()

    def stop(self, process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        """SIGTERM, wait, SIGKILL; then forget the process."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self._running:
            self._running.remove(process)

    def stop_all(self) -> None:
        """Stop every child still running, newest first."""
        while self._running:
            self.stop(self._running[-1])


def wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path,
                 timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers ``{"stat": "OK"}``; raise ChildFailed if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildFailed(f"exited with status {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 - loopback
                if json.load(reply).get("stat") == "OK":
                    return
        except (OSError, ValueError):
            time.sleep(0.05)
    raise ChildFailed(f"not healthy within {timeout:.0f} s; see {log}")
