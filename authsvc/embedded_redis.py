"""The private Redis that `authsvc serve` runs when no AUTHSVC_REDIS_URL is given, supervised.

It listens only on a unix socket inside the data directory (mode 0700), keeps its data there as
an append-only file fsynced on every write (a crash must never roll a counter back and let a used
code in again), and is stopped when the service exits; on Linux it is also told to stop if its
parent dies. While it runs, ``DATA_DIR/redis.url`` names it, so other `authsvc` commands (and
more `authsvc serve` processes) given the same data directory use the same Redis.

Ownership is a lock: the process that starts the redis-server holds an exclusive ``flock`` on
``DATA_DIR/redis.lock`` for as long as it owns it (the kernel drops the lock when that process
dies, however it dies), so exactly one process of a data directory ever starts one. `supervise`
keeps it running: the owner restarts a redis-server that died (kill -9, OOM killer) with a
backoff that grows while it keeps dying; a process that joined takes the lock and starts the
Redis itself when the owner is gone. Either way the restarted server loads the AOF, so nothing
written (a consumed code, a bypass use) comes back, and the service's client reconnects on its
next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

URL_FILE = "redis.url"
SOCKET_FILE = "redis.sock"
LOCK_FILE = "redis.lock"
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1
CHECK_EVERY_S = 0.25
FIRST_RETRY_S = 0.1
MAX_RETRY_S = 5.0
STABLE_AFTER_S = 30.0  # a server up this long resets the backoff


class EmbeddedRedisError(RuntimeError):
    """The private redis-server could not be started."""


def _libc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError):
        return ctypes.CDLL(None, use_errno=True)
    return None


# Resolved here, in the parent: loading a library in a child forked from a threaded process can
# deadlock on a lock another thread held at the fork.
_LIBC = _libc()


def _die_with_parent_of(parent: int) -> Callable[[], None]:
    def before_exec() -> None:  # pragma: no cover - runs in the child before exec
        with contextlib.suppress(AttributeError):
            if _LIBC is not None:
                _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)
    return before_exec


def _ping(url: str, timeout: float = 0.5) -> bool:
    """True if a Redis answers PING at this URL (redis:// host:port or unix://path)."""
    try:
        if url.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(url.removeprefix("unix://"))
            except OSError:
                sock.close()
                raise
        else:
            host, _, port = url.removeprefix("redis://").partition(":")
            sock = socket.create_connection((host, int(port)), timeout=timeout)
        with sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def running_url(data_dir: Path) -> str | None:
    """The URL of a Redis already serving this data directory, if one answers."""
    try:
        url = (data_dir / URL_FILE).read_text().strip()
    except OSError:
        return None
    return url if url and _ping(url) else None


class EmbeddedRedis:
    """Start, supervise and stop the private redis-server of a data directory."""

    def __init__(self, data_dir: Path, binary: str = "redis-server") -> None:
        self.data_dir = data_dir.resolve()
        self.binary = binary
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: int | None = None
        self._listen: list[str] | None = None

    @property
    def owner(self) -> bool:
        """True while this process owns (started, and restarts) the redis-server."""
        return self._lock is not None

    def start(self, timeout: float = 15.0) -> str:
        """Start redis-server (or join the one already serving the directory); returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._take_lock():
            self.url = self._join(timeout)
            log.info("using the Redis already serving %s", self.data_dir)
            return self.url
        existing = running_url(self.data_dir)
        if existing is not None:  # left behind by an owner that died without taking it along
            self.url = existing
            log.info("using the Redis already serving %s", self.data_dir)
            return existing
        return self._spawn(timeout)

    def _take_lock(self) -> bool:
        if self._lock is not None:
            return True
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd
        return True

    def _join(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            url = running_url(self.data_dir)
            if url is not None:
                return url
            time.sleep(0.05)
        raise EmbeddedRedisError(
            f"another process owns the Redis of {self.data_dir} ({self.data_dir / LOCK_FILE}) "
            f"but it does not answer within {timeout:.0f} s")

    def _listen_args(self) -> tuple[list[str], str]:
        sock = self.data_dir / SOCKET_FILE
        if len(str(sock)) <= _MAX_SOCKET_PATH:
            return ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"], \
                f"unix://{sock}"
        # The path is too long for a unix socket: loopback TCP instead, on the same port after
        # a restart (clients keep the URL they were given).
        port = int(self.url.rsplit(":", 1)[1]) if self.url and self.url.startswith(
            "redis://") else _free_port()
        return ["--port", str(port), "--bind", "127.0.0.1"], f"redis://127.0.0.1:{port}"

    def _spawn(self, timeout: float) -> str:
        url = self._launch()
        self._wait_ready(url, timeout)
        return self._started(url)

    def _launch(self) -> str:
        """Start the redis-server process (from the thread that will outlive it: on Linux the
        child is told to stop when the thread that started it ends)."""
        binary = shutil.which(self.binary)
        if binary is None:
            raise EmbeddedRedisError(
                f"{self.binary} not found: install it (apt-get install redis-server) "
                "or set AUTHSVC_REDIS_URL")
        listen, url = self._listen_args()
        (self.data_dir / SOCKET_FILE).unlink(missing_ok=True)
        args = [binary, *listen, "--dir", str(self.data_dir), "--appendonly", "yes",
                "--appendfsync", "always", "--save", "", "--daemonize", "no",
                "--logfile", str(self.data_dir / "redis.log")]
        self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL,  # noqa: S603
                                         preexec_fn=_die_with_parent_of(os.getpid()))
        return url

    def _started(self, url: str) -> str:
        (self.data_dir / URL_FILE).write_text(url + "\n")
        self.url = url
        log.info("started private redis-server (%s, AOF fsync always) in %s", url, self.data_dir)
        return url

    def _wait_ready(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited; see {self.data_dir / 'redis.log'}")
            if _ping(url):
                return
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f} s")

    async def supervise(self, timeout: float = 15.0) -> None:
        """Keep the redis-server running until cancelled: restart it when it dies (the owner),
        or take it over when its owner is gone (a process that joined)."""
        delay, started = FIRST_RETRY_S, time.monotonic()
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            if not await self._lost():
                continue
            if time.monotonic() - started > STABLE_AFTER_S:
                delay = FIRST_RETRY_S
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)
            started = time.monotonic()
            try:
                url = self._launch()
                await asyncio.to_thread(self._wait_ready, url, timeout)
                self._started(url)
            except (EmbeddedRedisError, OSError) as exc:
                log.error("could not restart redis-server in %s: %s", self.data_dir, exc)
            else:
                log.warning("restarted the private redis-server of %s", self.data_dir)

    async def _lost(self) -> bool:
        """True when the server must be (re)started by this process now."""
        if self.owner:
            process = self._process
            if process is None:  # a server left behind by a dead owner, which we joined
                return self.url is not None and not await asyncio.to_thread(_ping, self.url)
            if process.poll() is None:
                return False
            log.warning("the private redis-server of %s exited (status %s); restarting it",
                        self.data_dir, process.returncode)
            self._process = None
            return True
        if self.url is None or await asyncio.to_thread(_ping, self.url):
            return False
        if not self._take_lock():
            return False  # its owner lives (and is restarting it)
        log.warning("the owner of the Redis of %s is gone; this process starts it",
                    self.data_dir)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the redis-server this process owns (never one it joined) and give up the lock."""
        process, self._process = self._process, None
        if process is not None:
            (self.data_dir / URL_FILE).unlink(missing_ok=True)
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            with contextlib.suppress(OSError):
                os.unlink(self.data_dir / SOCKET_FILE)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
