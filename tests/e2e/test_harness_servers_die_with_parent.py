"""The harness's redis-servers stop when the process that started them is killed with SIGKILL
(a bench or a test run killed outright must not leave servers running forever), including a
server started from a thread that has ended since."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import free_port, redis_command

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux's")

# The parent: start one redis-server through the harness (from the main thread, or from a thread
# that then ends), print its pid, and wait to be killed.
PARENT = """
import sys, threading
from pathlib import Path
from tests.harness import RedisServer

server = RedisServer(Path(sys.argv[1]), port=int(sys.argv[2]), cluster=False)
if sys.argv[3] == "thread":
    starter = threading.Thread(target=server.start)
    starter.start()
    starter.join()
else:
    server.start()
print(server.process.pid, flush=True)
threading.Event().wait()
"""


def _running(pid: int, port: int) -> bool:
    """True while `pid` is our redis-server and has not exited (a zombie has exited: init, or
    whoever adopted it, may not have reaped it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return state != "Z" and b"redis-server" in command and str(port).encode() in command


def _answers(port: int) -> bool:
    try:
        return redis_command(port, "PING").startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def parent(request: pytest.FixtureRequest, tmp_path: Path, repo_root: Path
           ) -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    """The parent process, its redis-server's pid and port; both killed whatever happens."""
    port = free_port()
    pid = 0
    with subprocess.Popen(
            [sys.executable, "-c", PARENT, str(tmp_path / "redis"), str(port), request.param],
            cwd=repo_root, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            pid = int(process.stdout.readline())
            yield process, pid, port
        finally:
            process.kill()
            process.wait(10)
            if pid and _running(pid, port):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("parent", ["main", "thread"], indirect=True)
def test_a_harness_redis_server_stops_when_its_parent_is_killed(
        parent: tuple[subprocess.Popen[str], int, int]) -> None:
    process, pid, port = parent
    time.sleep(0.3)  # a server started from a thread must outlive that thread
    assert _running(pid, port) and _answers(port)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    deadline = time.monotonic() + 5
    while _running(pid, port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid, port)
    assert not _answers(port)


SERVICE_PARENT = """
import os, sys, threading
from pathlib import Path
from tests.harness import ServiceProcess

env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHSVC_")}
service = ServiceProcess(env, args=("--data-dir", sys.argv[1]))
service.start(Path(sys.argv[1] + ".log"))
print(service.process.pid, flush=True)
threading.Event().wait()
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_harness_service_stops_when_its_parent_is_killed(tmp_path: Path,
                                                          repo_root: Path) -> None:
    """`authsvc serve` started by the harness gets SIGTERM when the test run dies, and stops
    (with the private Redis it started)."""
    with subprocess.Popen([sys.executable, "-c", SERVICE_PARENT, str(tmp_path / "var")],
                          cwd=repo_root, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        pid = int(process.stdout.readline())
        try:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not _alive(pid), "the service outlived the process that started it"
        finally:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
