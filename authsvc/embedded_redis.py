"""The private Redis that `authsvc serve` runs when no AUTHSVC_REDIS_URL is given.

It listens only on a unix socket inside the data directory (mode 0700), keeps its data there as
an append-only file fsynced on every write (a crash must never roll a counter back and let a used
code in again), and is stopped when the service exits; on Linux it is also told to stop if its
parent dies. While it runs, ``DATA_DIR/redis.url`` names it, so other `authsvc` commands (and
more `authsvc serve` processes) given the same data directory use the same Redis.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

URL_FILE = "redis.url"
SOCKET_FILE = "redis.sock"
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1


class EmbeddedRedisError(RuntimeError):
    """The private redis-server could not be started."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


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
    """Start and stop one private redis-server for a data directory."""

    def __init__(self, data_dir: Path, binary: str = "redis-server") -> None:
        self.data_dir = data_dir.resolve()
        self.binary = binary
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def _listen_args(self) -> tuple[list[str], str]:
        sock = self.data_dir / SOCKET_FILE
        if len(str(sock)) <= _MAX_SOCKET_PATH:
            return ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"], \
                f"unix://{sock}"
        port = _free_port()  # the path is too long for a unix socket: loopback TCP instead
        return ["--port", str(port), "--bind", "127.0.0.1"], f"redis://127.0.0.1:{port}"

    def start(self, timeout: float = 15.0) -> str:
        """Start redis-server (or join the one already serving the directory); returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        existing = running_url(self.data_dir)
        if existing is not None:
            log.info("using the Redis already serving %s", self.data_dir)
            self.url = existing
            return existing
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
                                         preexec_fn=_die_with_parent)
        self._wait_ready(url, timeout)
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

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the redis-server this object started (never one it joined)."""
        process, self._process = self._process, None
        if process is None:
            return
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
