"""The worker processes of `authsvc serve --workers N` as the supervisor sees them: start
each (``python -m authsvc.worker``, inheriting the listen sockets) and wait for its ready byte,
restart one that dies with a backoff, replace them all in a rolling reload, drain and stop them
(authsvc.supervisor runs them).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from authsvc.obs.metrics import worker_exited
from authsvc.server import SHUTDOWN_TIMEOUT_S, ServeError
from authsvc.settings import Settings

log = logging.getLogger("authsvc")
READY_TIMEOUT_S = 60.0
FIRST_RETRY_S = 0.1
MAX_RETRY_S = 5.0
STABLE_AFTER_S = 30.0  # a worker up this long resets the backoff
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """A worker whose supervisor was killed (-9) stops gracefully instead of living on."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def worker_env(settings: Settings) -> dict[str, str]:
    """The workers' environment: this one, with what the command line and the supervisor
    decided (flags, the embedded Redis's URL, the bound port) written back as variables."""
    env = dict(os.environ)
    env.update({
        "AUTHSVC_HOST": settings.host, "AUTHSVC_PORT": str(settings.port),
        "AUTHSVC_TLS_CERT": str(settings.tls_cert or ""),
        "AUTHSVC_TLS_KEY": str(settings.tls_key or ""),
        "AUTHSVC_PUBLIC_HOST": settings.public_host or "",
        "AUTHSVC_DATA_DIR": str(settings.data_dir), "AUTHSVC_REDIS_URL": settings.redis_url or "",
        "AUTHSVC_WORKERS": "1"})
    return env


async def _ready(fd: int, timeout: float) -> bool:
    """True when the worker wrote its ready byte; False at EOF (it died) or after `timeout`."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bool] = loop.create_future()

    def readable() -> None:
        if not done.done():
            done.set_result(os.read(fd, 1) == b"1")

    loop.add_reader(fd, readable)
    try:
        async with asyncio.timeout(timeout):
            return await done
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)


class Workers:
    """N worker slots: start, restart with backoff, reload, stop."""

    def __init__(self, settings: Settings, sockets: Sequence[socket.socket], count: int) -> None:
        self._env = worker_env(settings)
        self._fds = [sock.fileno() for sock in sockets]
        self._slots: list[asyncio.subprocess.Process | None] = [None] * count
        self._monitors: set[asyncio.Task[None]] = set()
        self.stopping = False

    async def _spawn(self, slot: int) -> asyncio.subprocess.Process:
        """One worker, once it serves; raises ServeError if it dies or hangs first."""
        read_fd, write_fd = os.pipe()
        args = [arg for fd in self._fds for arg in ("--listen-fd", str(fd))]
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "authsvc.worker", *args, "--ready-fd", str(write_fd),
                pass_fds=(*self._fds, write_fd), env=self._env, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent)
        finally:
            os.close(write_fd)
        try:
            ready = await _ready(read_fd, READY_TIMEOUT_S)
        except asyncio.CancelledError:  # stopped while starting
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        finally:
            os.close(read_fd)
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            status = await process.wait()
            raise ServeError(f"worker {slot} did not start (exit status {status}; its error "
                             "is above)")
        return process

    def _watch(self, slot: int, process: asyncio.subprocess.Process) -> None:
        self._slots[slot] = process
        task = asyncio.get_running_loop().create_task(self._monitor(slot, process))
        self._monitors.add(task)
        task.add_done_callback(self._monitors.discard)

    async def start(self) -> None:
        """Start every worker; raises ServeError (and stops the others) if one cannot."""
        results = await asyncio.gather(*(self._spawn(slot) for slot in range(len(self._slots))),
                                       return_exceptions=True)
        started = [result for result in results if isinstance(result, asyncio.subprocess.Process)]
        failed = [result for result in results if isinstance(result, BaseException)]
        if failed:
            await _terminate(started)
            raise failed[0]
        for slot, process in enumerate(started):
            self._watch(slot, process)

    async def _monitor(self, slot: int, process: asyncio.subprocess.Process) -> None:
        """Restart the worker of `slot` when it dies (not when it was told to stop)."""
        delay, began = FIRST_RETRY_S, time.monotonic()
        while True:
            status = await process.wait()
            worker_exited(process.pid)  # its live gauges leave the /metrics sums
            if self._retired(slot, process):
                return
            if time.monotonic() - began > STABLE_AFTER_S:
                delay = FIRST_RETRY_S
            log.warning("worker %d (pid %d) exited with status %s; restarting it in %.1f s",
                        slot, process.pid, status, delay)
            await asyncio.sleep(delay)
            delay, began = min(delay * 2, MAX_RETRY_S), time.monotonic()
            try:
                process = await self._spawn(slot)
            except ServeError as exc:
                log.error("%s", exc)
                continue
            if self._retired(slot, None):  # stopped (or reloaded) meanwhile
                await _terminate([process])
                return
            self._slots[slot] = process

    def _retired(self, slot: int, process: asyncio.subprocess.Process | None) -> bool:
        """True when `slot` no longer runs `process` (None: the dead one), or all stop."""
        current = self._slots[slot]
        return self.stopping or (current is not process if process is not None
                                 else current is not None and current.returncode is None)

    async def reload(self) -> None:
        """Rolling reload: new workers serve before the old ones drain; if a new one cannot
        start, the old ones keep serving."""
        try:
            fresh = await asyncio.gather(*(self._spawn(slot) for slot in range(len(self._slots))))
        except ServeError as exc:
            log.error("reload abandoned, the running workers keep serving: %s", exc)
            return
        old = [process for process in self._slots if process is not None]
        for slot, process in enumerate(fresh):
            self._watch(slot, process)
        await _terminate(old)
        log.info("reloaded: %d new workers serve (pids %s)", len(fresh),
                 " ".join(str(process.pid) for process in fresh))

    async def stop(self) -> None:
        """Drain and stop every worker."""
        self.stopping = True
        await _terminate([process for process in self._slots if process is not None])
        for task in list(self._monitors):
            task.cancel()
        await asyncio.gather(*self._monitors, return_exceptions=True)


async def _terminate(processes: Sequence[asyncio.subprocess.Process]) -> None:
    """SIGTERM, then at most the shutdown timeout (and a margin) before SIGKILL; all at once."""
    async def reap(process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            async with asyncio.timeout(SHUTDOWN_TIMEOUT_S + 5):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    await asyncio.gather(*(reap(process) for process in processes))
