"""The embedded Redis is supervised: `kill -9` of the private redis-server and the service is back
within seconds, with nothing it had decided undone (the AOF is fsynced on every write); a second
`authsvc serve` on the same data directory takes the Redis over when its owner stops. `/healthz`
is liveness (no Redis call), `/readyz` readiness (Redis answers)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duo_client
import pytest

from tests.harness import RedisServer, ServiceProcess, service_env
from tokens.oath import HotpToken

pytestmark = pytest.mark.slow
SEED = b"supervised-embedded-redis-seed"


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHSVC_")}
    env["AUTHSVC_LOG_LEVEL"] = "info"
    return env


def _cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "authsvc", *args], capture_output=True,
                            text=True, timeout=60, env=_env(), check=True)
    return result.stdout


def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _get(port, "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "the service did not become ready again"
        time.sleep(0.1)


def _redis_pid(service: ServiceProcess) -> int:
    assert service.process is not None
    for children in Path(f"/proc/{service.process.pid}/task").glob("*/children"):
        for pid in children.read_text().split():
            if Path(f"/proc/{pid}/comm").read_text().strip() == "redis-server":
                return int(pid)
    raise AssertionError("no redis-server child")


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess(_env(), args=("--data-dir", str(tmp_path / "var")))
    process.start(tmp_path / "owner.log")
    yield process
    process.stop()


def _clients(data: Path, port: int) -> tuple[duo_client.Admin, duo_client.Auth]:
    admin = json.loads(_cli("integration", "create", "--type", "admin", "--name", "ops",
                            "--data-dir", str(data)))
    app = json.loads(_cli("integration", "create", "--type", "auth", "--name", "app",
                          "--data-dir", str(data)))
    return (duo_client.Admin(admin["ikey"], admin["skey"], "127.0.0.1", ca_certs="HTTP",
                             port=port),
            duo_client.Auth(app["ikey"], app["skey"], "127.0.0.1", ca_certs="HTTP", port=port))


def test_kill_9_of_the_embedded_redis_is_recovered_and_nothing_comes_back(
        owner: ServiceProcess, tmp_path: Path) -> None:
    admin, auth = _clients(tmp_path / "var", owner.port)
    user = admin.add_user("kim")
    token = HotpToken(SEED, "SUP-1")
    admin.add_user_token(user["user_id"],
                         admin.add_hotp6_token(token.serial, token.secret_hex)["token_id"])
    [bypass] = admin.add_user_bypass_codes(user["user_id"], count=1, remaining_uses=2)
    used = token.press()
    assert auth.auth("passcode", username="kim", passcode=used)["result"] == "allow"
    assert auth.auth("passcode", username="kim", passcode=bypass)["result"] == "allow"

    killed = _redis_pid(owner)
    os.kill(killed, signal.SIGKILL)
    status, body = _get(owner.port, "/healthz")  # liveness never asks Redis
    assert (status, body["stat"]) == (200, "OK")
    _wait_ready(owner.port)
    assert _redis_pid(owner) != killed

    assert auth.auth("passcode", username="kim", passcode=used)["result"] == "deny"
    assert auth.auth("passcode", username="kim", passcode=bypass)["result"] == "allow"
    assert auth.auth("passcode", username="kim", passcode=bypass)["result"] == "deny"
    assert auth.auth("passcode", username="kim", passcode=token.press())["result"] == "allow"
    assert owner.log_path is not None
    log_path = owner.log_path
    # The supervisor logs the restart once its own readiness poll (a thread) sees the new
    # server, which on a busy machine can be after this test's requests were served.
    deadline = time.monotonic() + 10
    while "restarted the private redis-server" not in log_path.read_text():
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.05)
    log = log_path.read_text()
    assert "exited (status -9); restarting it" in log and "Traceback" not in log


def test_a_second_service_takes_the_redis_over_when_its_owner_stops(
        owner: ServiceProcess, tmp_path: Path) -> None:
    joined = ServiceProcess(_env(), args=("--data-dir", str(tmp_path / "var")))
    joined.start(tmp_path / "joined.log")
    try:
        admin, _ = _clients(tmp_path / "var", joined.port)
        admin.add_user("kept")
        owner.stop()  # stops the Redis it started
        _wait_ready(joined.port)
        assert [user["username"] for user in admin.get_users()] == ["kept"]
        assert joined.log_path is not None
        assert "owner of the Redis" in joined.log_path.read_text()
    finally:
        joined.stop()
    assert not (tmp_path / "var" / "redis.url").exists()


def test_readiness_follows_redis_and_liveness_does_not(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    service = ServiceProcess(service_env(redis.url, tmp_path / "data",
                                         AUTHSVC_REDIS_TIMEOUT="0.5"))
    service.start(tmp_path / "serve.log")
    try:
        assert _get(service.port, "/readyz") == (200, {"stat": "OK", "response": {"redis": "ok"}})
        redis.stop()
        status, body = _get(service.port, "/readyz")
        assert (status, body["code"]) == (503, 50301)
        assert _get(service.port, "/healthz") == (200, {"stat": "OK",
                                                        "response": {"alive": True}})
        redis.start()
        _wait_ready(service.port)
    finally:
        service.stop()
        redis.stop()


def test_the_embedded_redis_stops_when_its_service_is_killed(owner: ServiceProcess) -> None:
    """`kill -9` of `authsvc serve` leaves no redis-server behind (PR_SET_PDEATHSIG): the next
    `serve` on the data directory starts its own instead of finding a stray one."""
    redis_pid = _redis_pid(owner)
    assert owner.process is not None
    owner.process.kill()
    owner.process.wait(10)
    deadline = time.monotonic() + 5
    while _alive(redis_pid):
        assert time.monotonic() < deadline, "the private redis-server outlived its service"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie left for a reaper that never comes counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
