"""Child processes of the load tests: started in their own session, always stopped.

Every child is registered with a `Children` context; leaving it (normally, on an exception, on
Ctrl-C or SIGTERM) stops them newest first: SIGTERM, then SIGKILL after a grace period. Children
run in a new session so a Ctrl-C in the terminal reaches only the load test, which then stops
them in order, and they are asked (Linux ``PR_SET_PDEATHSIG``) to die if the load test is killed
outright. The readiness checks (`wait_healthy`, `wait_for_line`) name the child's log on failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TypeVar

_PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.01


class ChildFailed(RuntimeError):
    """A child exited early or never became ready; the message points at its log."""


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on now, never one this process was given before: the
    kernel may hand out a port it just handed out, and a cluster's twelve ports (six nodes,
    six buses) picked in a row would then clash (about once in 400 starts, were the kernel's
    picks uniform). The test harness uses this one too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


Started = TypeVar("Started")


def on_a_free_port(start: Callable[[int], Started], log: Path, tries: int = 3) -> Started:
    """`start(port)` on a port found free, again on another if someone took it before the
    child bound it (any other process's connection may get it as its ephemeral port): `start`
    raises `ChildFailed` when its child exits, and the child's new lines in `log` say "already
    in use"."""
    for attempt in range(tries):
        written = log.stat().st_size if log.exists() else 0
        try:
            return start(free_port())
        except ChildFailed:
            said = log.read_bytes()[written:].decode(errors="replace").lower()
            if "already in use" not in said or attempt == tries - 1:
                raise
    raise AssertionError("unreachable: the last try raises")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Children:
    """The load test's child processes; a context manager that stops all of them on exit."""

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

    def finish(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        """Let a child (a profiler, say) end by itself within `timeout`, then make sure it has."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
        self.stop(process)

    def stop_all(self) -> None:
        """Stop every child still running, newest first."""
        while self._running:
            self.stop(self._running[-1])


def _answers_ok(url: str, context: ssl.SSLContext | None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as reply:  # noqa: S310
            return bool(json.load(reply).get("stat") == "OK")
    except (OSError, ValueError):
        return False


def wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path, *,
                 ca_file: Path | None = None, timeout: float = 30.0) -> None:
    """Poll ``url`` (over TLS verified against `ca_file` if given) until it answers
    ``{"stat": "OK"}``; raise ChildFailed if the child exits or never does."""
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildFailed(f"exited with status {process.returncode}; see {log}")
        if _answers_ok(url, context):
            return
        time.sleep(0.05)
    raise ChildFailed(f"not healthy within {timeout:.0f} s; see {log}")


def wait_for_line(path: Path, marker: str, process: subprocess.Popen[bytes],
                  timeout: float) -> str:
    """Poll a child's log until a line contains `marker`; that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                if marker in line:
                    return line
        if process.poll() is not None:
            raise ChildFailed(f"{path.stem} exited with status {process.returncode}; see {path}")
        time.sleep(POLL_SECONDS)
    raise ChildFailed(f"{path.stem}: no {marker!r} within {timeout:.0f} s; see {path}")
