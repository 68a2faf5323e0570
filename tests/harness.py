"""Real servers for the tests: a redis-server on a free port, and `authsvc serve` as a process.

No fakes: the tests talk to a real redis-server the harness starts, and to the service over real
HTTP (or TLS) on loopback, the way applications and duo_client do.

Every redis-server started here (`spawn`; tests/topologies.py's clusters and Sentinels too) is
asked, on Linux, to stop when the process that started it dies: a test run or a bench killed
with SIGKILL must not leave servers running on the machine forever.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from typing import IO, Protocol

# The load tests' free_port (never the same port twice), re-exported for the suite.
from loadtests.core.processes import free_port as free_port

TEST_SECRET_KEY = "test-master-key-0123456789abcdef-0123456789"
CLUSTER_ENV = "AUTHSVC_TEST_REDIS_CLUSTER"
# The suite's services run one process unless AUTHSVC_TEST_WORKERS asks for more (the worker
# tests start their own supervisors): a test about one rule should not also be about processes.
WORKERS_ENV = "AUTHSVC_TEST_WORKERS"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Resolved here, in the parent: loading a library in a child forked from a threaded process can
# deadlock on a lock another thread held at the fork.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
Start = Callable[[], subprocess.Popen[bytes]]


def _die_with(parent: int) -> Callable[[], None]:
    """What the child runs before exec: SIGTERM when the parent dies; if it died before the
    request took effect (nobody would send the signal any more), exit at once."""
    def before_exec() -> None:  # pragma: no cover - runs in the child between fork and exec
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)
    return before_exec


class _Starter:
    """One daemon thread that forks children on behalf of other threads and never returns (a
    daemon thread is not joined at exit: it lasts exactly as long as the process)."""

    def __init__(self) -> None:
        self._jobs: SimpleQueue[tuple[Start, Future[subprocess.Popen[bytes]]]] = SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, start: Start) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="harness-spawn",
                                                daemon=True)
                self._thread.start()
        started: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((start, started))
        return started.result()

    def _serve(self) -> None:
        while True:
            start, started = self._jobs.get()
            try:
                started.set_result(start())
            except BaseException as exc:  # the caller waiting on it raises it
                started.set_exception(exc)


_STARTER = _Starter()


def spawn(args: Sequence[str], *, env: dict[str, str] | None = None,
          output: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """Start a server child that dies with this process (SIGTERM on Linux), its stdout and
    stderr to `output` when given.

    Linux signals the child when the *thread* that forked it ends, not the process: a server
    started from a pool worker or `asyncio.to_thread` would be stopped as soon as that thread
    finished. The main thread lasts as long as the process, so it forks the child itself; any
    other thread hands the fork to `_Starter`'s thread."""
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(list(args), stdin=subprocess.DEVNULL, env=env, stdout=output,
                                stderr=output, preexec_fn=_die_with(os.getpid()))
    if threading.current_thread() is threading.main_thread():
        return start()
    return _STARTER.start(start)


def redis_command(port: int, *args: str) -> bytes:
    """Send one inline command to Redis and return the raw reply (setup and teardown only)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        parts = [f"${len(arg.encode())}\r\n{arg}\r\n" for arg in args]
        sock.sendall(f"*{len(args)}\r\n{''.join(parts)}".encode())
        return sock.recv(65536)


@dataclass
class RedisServer:
    """A redis-server child on a fixed free port; can be stopped and started again."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # AUTHSVC_TEST_REDIS_CLUSTER=1 runs the suite against a one-node Redis Cluster.
    cluster: bool = field(default_factory=lambda: os.environ.get(CLUSTER_ENV) == "1")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, appendonly: bool = False, extra: tuple[str, ...] = (),
              wait: bool = True) -> RedisServer:
        """Start redis-server (`extra`: more flags); with `wait`, until it answers PONG."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (./bootstrap.sh installs it)"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = spawn(
            # A replica's first sync starts at once (Redis waits 5 s by default to batch
            # replicas): every replica, Sentinel set and cluster a test starts is ready sooner.
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--repl-diskless-sync-delay", "0",
             "--appendonly", "yes" if appendonly else "no", "--dir", str(self.directory),
             "--logfile", str(self.directory / "redis.log"), *self._cluster_flags(), *extra])
        if not wait:
            return self
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis_command(self.port, "PING").startswith(b"+PONG"):
                    return self._own_every_slot() if self.cluster else self
            except OSError as exc:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited at start: {self._last_log_line()}") from exc
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def _last_log_line(self) -> str:
        log = self.directory / "redis.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return lines[-1] if lines else "(no log)"

    def _cluster_flags(self) -> list[str]:
        if not self.cluster:
            return []
        # The bus port defaults to port + 10000, which is out of range for high free ports.
        return ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-port", str(free_port())]

    def _own_every_slot(self) -> RedisServer:
        """A one-node cluster serving all 16,384 slots: it answers CROSSSLOT for any
        multi-key command or script whose keys are in different slots, as a real cluster does."""
        redis_command(self.port, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")  # -ERR once owned
        deadline = time.monotonic() + 10
        while b"cluster_state:ok" not in redis_command(self.port, "CLUSTER", "INFO"):
            if time.monotonic() > deadline:
                raise RuntimeError("the one-node cluster did not become ready")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def flush(self) -> None:
        assert redis_command(self.port, "FLUSHALL").startswith(b"+OK")

    def command(self, *args: str) -> bytes:
        """One command on a connection of its own (setup, fault injection)."""
        return redis_command(self.port, *args)

    def keys(self) -> list[str]:
        """Every key stored (on every master of a cluster)."""
        reply = self.command("KEYS", "*").decode("latin-1")
        return [line for line in reply.split("\r\n")[1:] if line and not line.startswith("$")]


def service_env(redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHSVC_")}
    env.update({"AUTHSVC_REDIS_URL": redis_url, "AUTHSVC_SECRET_KEY": TEST_SECRET_KEY,
                "AUTHSVC_DATA_DIR": str(data_dir), "AUTHSVC_LOG_LEVEL": "warning",
                "AUTHSVC_WORKERS": os.environ.get(WORKERS_ENV, "1"), **extra})
    return env


class Service(Protocol):
    """A running service as tests reach it: `ServiceProcess` here, or the app served in the
    test's own process (`tests/inprocess/serving.py`)."""

    @property
    def port(self) -> int: ...

    @property
    def tls_ca(self) -> Path | None: ...

    @property
    def data_dir(self) -> Path: ...


@dataclass
class ServiceProcess:
    """`python -m authsvc serve` in a child process."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    tls_ca: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_ca else "http"

    @property
    def data_dir(self) -> Path:
        """``AUTHSVC_DATA_DIR`` of the process."""
        return Path(self.env["AUTHSVC_DATA_DIR"])

    def start(self, log_path: Path, timeout: float = 20) -> ServiceProcess:
        """Start `authsvc serve` and wait until it is healthy; on a port someone took between
        `free_port` and the bind (another process's connection may get it), on another port
        (three tries)."""
        self.log_path = log_path
        for _attempt in range(3):
            if self._started(log_path, timeout):
                return self
            self.port = free_port()
        raise RuntimeError(f"authsvc found no free port: {log_path.read_text()}")

    def _started(self, log_path: Path, timeout: float) -> bool:
        """True once healthy; False if the port was taken; raises on any other failure."""
        with log_path.open("ab") as log:
            start = log.tell()
            # A killed test run leaves no service behind (and the service, stopping, stops the
            # private Redis it started).
            self.process = spawn(
                [sys.executable, "-m", "authsvc", "serve", "--port", str(self.port), *self.args],
                env=self.env, output=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = log_path.read_bytes()[start:].decode(errors="replace")
                if f"port {self.port} on " in said and "is already in use" in said:
                    return False
                raise RuntimeError(f"authsvc exited: {log_path.read_text()}")
            if self._healthy():
                return True
            time.sleep(0.05)
        raise RuntimeError(f"authsvc did not become healthy: {log_path.read_text()}")

    def _healthy(self) -> bool:
        import ssl

        context = ssl.create_default_context(cafile=str(self.tls_ca)) if self.tls_ca else None
        try:
            with urllib.request.urlopen(  # noqa: S310 - loopback test server
                    f"{self.scheme}://localhost:{self.port}/healthz", timeout=1,
                    context=context) as reply:
                return bool(json.load(reply)["stat"] == "OK")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
