"""Every Redis error reply that means "not now" is a 503 / 50301 with Retry-After, produced by a
real redis-server put in that state (no fake Redis): out of memory (maxmemory 1, noeviction),
a read-only replica (REPLICAOF), a replica whose master is gone (MASTERDOWN), a busy script
(BUSY), an RDB being loaded after a restart (LOADING), a cluster without its slots
(CLUSTERDOWN) and a slot being migrated (TRYAGAIN, at the client). Any other error reply is a
50000 with an error id that the log carries next to the traceback; the client never sees one.
The service recovers by itself each time.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duo_client
import pytest

from authsvc.store import Redis, RedisError
from authsvc.store.redis_client import RedisTransientError
from tests.conftest import IntegrationPair, create_integrations
from tests.harness import RedisServer, ServiceProcess, free_port, service_env
from tests.inprocess.api.wire import Outgoing, prepare

pytestmark = pytest.mark.slow


@dataclass
class Rig:
    redis: RedisServer
    service: ServiceProcess
    keys: IntegrationPair
    codes: list[str]
    log: Path

    def send(self, outgoing: Outgoing) -> tuple[int, dict[str, str], dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.service.port, timeout=10)
        try:
            path = outgoing.path + (f"?{outgoing.query}" if outgoing.query else "")
            connection.request(outgoing.method, path, body=outgoing.body or None,
                               headers=dict(outgoing.headers))
            reply = connection.getresponse()
            return reply.status, dict(reply.getheaders()), json.loads(reply.read())
        finally:
            connection.close()

    def passcode(self, code: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        return self.send(prepare(self.keys.auth, "POST", "/auth/v2/auth",
                                 {"factor": "passcode", "username": "ada", "passcode": code}))

    def assert_unavailable(self, code: str) -> None:
        status, headers, body = self.passcode(code)
        assert (status, body["stat"], body["code"]) == (503, "FAIL", 50301), body
        assert headers["Retry-After"] == "1"
        assert "Traceback" not in json.dumps(body)

    def assert_allowed(self, code: str) -> None:
        status, _, body = self.passcode(code)
        assert status == 200 and body["response"]["result"] == "allow", body


def _wait_for(predicate: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """A plain (never cluster) Redis with a user holding bypass codes, and the service."""
    base = tmp_path_factory.mktemp("error-replies")
    redis = RedisServer(base / "redis", cluster=False).start(
        extra=("--enable-debug-command", "yes"))
    service = ServiceProcess(service_env(redis.url, base / "data", AUTHSVC_REDIS_TIMEOUT="1"))
    service.start(base / "serve.log")
    keys = create_integrations(redis.url)
    admin = duo_client.Admin(keys.admin.ikey, keys.admin.skey, "127.0.0.1", ca_certs="HTTP",
                             port=service.port)
    user = admin.add_user("ada")
    codes = admin.add_user_bypass_codes(user["user_id"], count=10)
    yield Rig(redis, service, keys, codes, base / "serve.log")
    service.stop()
    redis.stop()


def test_out_of_memory_is_503_until_memory_is_back(rig: Rig) -> None:
    assert rig.redis.command("CONFIG", "SET", "maxmemory", "1").startswith(b"+OK")
    try:
        rig.assert_unavailable(rig.codes[0])
    finally:
        rig.redis.command("CONFIG", "SET", "maxmemory", "0")
    rig.assert_allowed(rig.codes[0])


def test_a_read_only_replica_is_503_until_promoted(rig: Rig, tmp_path: Path) -> None:
    other = RedisServer(tmp_path / "other", cluster=False).start()
    try:
        # `other` copies the data, becomes the master, and the service's Redis its replica.
        other.command("REPLICAOF", "127.0.0.1", str(rig.redis.port))
        _wait_for(lambda: b"master_link_status:up" in other.command("INFO", "replication"),
                  "the copy")
        other.command("REPLICAOF", "NO", "ONE")
        rig.redis.command("REPLICAOF", "127.0.0.1", str(other.port))
        _wait_for(lambda: b"master_link_status:up" in rig.redis.command("INFO", "replication"),
                  "the replica")
        rig.assert_unavailable(rig.codes[1])
    finally:
        rig.redis.command("REPLICAOF", "NO", "ONE")
        other.stop()
    rig.assert_allowed(rig.codes[1])


def test_a_replica_without_its_master_is_503(rig: Rig) -> None:
    rig.redis.command("CONFIG", "SET", "replica-serve-stale-data", "no")
    rig.redis.command("REPLICAOF", "127.0.0.1", str(free_port()))  # nobody listens there
    try:
        assert rig.redis.command("GET", "x").startswith(b"-MASTERDOWN")
        rig.assert_unavailable(rig.codes[2])
    finally:
        rig.redis.command("REPLICAOF", "NO", "ONE")
        rig.redis.command("CONFIG", "SET", "replica-serve-stale-data", "yes")
    rig.assert_allowed(rig.codes[2])


def test_a_busy_script_is_503_until_it_is_killed(rig: Rig) -> None:
    rig.redis.command("CONFIG", "SET", "busy-reply-threshold", "50")
    busy = threading.Thread(target=rig.redis.command,
                            args=("EVAL", "while true do end", "0"), daemon=True)
    busy.start()
    try:
        _wait_for(lambda: rig.redis.command("PING").startswith(b"-BUSY"), "BUSY")
        rig.assert_unavailable(rig.codes[3])
    finally:
        _wait_for(lambda: rig.redis.command("SCRIPT", "KILL").startswith(b"+OK"), "SCRIPT KILL")
        busy.join(10)
        rig.redis.command("CONFIG", "SET", "busy-reply-threshold", "5000")
    rig.assert_allowed(rig.codes[3])


def test_loading_after_a_restart_is_503_then_the_service_carries_on(rig: Rig) -> None:
    rig.redis.command("DEBUG", "POPULATE", "3000", "filler", "10")
    assert rig.redis.command("SAVE").startswith(b"+OK")
    rig.redis.stop()
    # The restart loads dump.rdb one key per millisecond, answering LOADING meanwhile.
    rig.redis.start(wait=False, extra=(
        "--enable-debug-command", "yes", "--key-load-delay", "1000",
        "--loading-process-events-interval-bytes", "1024"))

    def loading() -> bool:
        try:
            return rig.redis.command("PING").startswith(b"-LOADING")
        except OSError:
            return False

    _wait_for(loading, "LOADING")
    rig.assert_unavailable(rig.codes[4])
    _wait_for(lambda: rig.redis.command("PING").startswith(b"+PONG"), "the end of loading")
    rig.redis.command("CONFIG", "SET", "key-load-delay", "0")
    rig.assert_allowed(rig.codes[4])
    rig.redis.command("DEL", *[f"filler:{n}" for n in range(3000)])


def test_another_error_reply_is_50000_with_an_error_id_that_the_log_carries(rig: Rig) -> None:
    settings_key = "as:settings"
    kept = rig.redis.command("TYPE", settings_key)
    rig.redis.command("DEL", settings_key)
    rig.redis.command("SET", settings_key, "not a hash")  # every decision reads it: WRONGTYPE
    try:
        status, headers, body = rig.passcode(rig.codes[5])
    finally:
        rig.redis.command("DEL", settings_key)
    assert kept.startswith(b"+none") or kept.startswith(b"+hash")
    assert (status, body["code"]) == (500, 50000) and "Retry-After" not in headers
    error_id = re.fullmatch(r"error id ([0-9a-f]{12})", body["message_detail"])
    assert error_id is not None, body
    assert "Traceback" not in json.dumps(body) and "WRONGTYPE" not in json.dumps(body)
    log = rig.log.read_text()
    assert f"unexpected error {error_id[1]} on POST /auth/v2/auth" in log
    assert "WRONGTYPE" in log
    rig.assert_allowed(rig.codes[5])


def test_every_transient_reply_was_logged_as_a_warning_without_traceback(rig: Rig) -> None:
    log = rig.log.read_text()
    for reply in ("OOM", "READONLY", "MASTERDOWN", "BUSY", "LOADING"):
        assert re.search(rf"WARNING .*redis unavailable: {reply}", log), reply
    assert log.count("Traceback") == 1  # the WRONGTYPE bug above, and only it


def test_a_cluster_that_lost_its_slots_is_503_then_recovers(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis", cluster=True).start()
    service = ServiceProcess(service_env(redis.url, tmp_path / "data"))
    try:
        service.start(tmp_path / "serve.log")
        keys = create_integrations(redis.url)
        check = prepare(keys.auth, "GET", "/auth/v2/check")
        rig = Rig(redis, service, keys, [], tmp_path / "serve.log")
        redis.command("CLUSTER", "DELSLOTSRANGE", "0", "16383")
        _wait_for(lambda: redis.command("GET", "x").startswith(b"-CLUSTERDOWN"), "CLUSTERDOWN")
        status, headers, body = rig.send(prepare(keys.auth, "GET", "/auth/v2/check"))
        assert (status, body["code"], headers["Retry-After"]) == (503, 50301, "1"), body
        redis.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        _wait_for(lambda: b"cluster_state:ok" in redis.command("CLUSTER", "INFO"), "slots back")
        assert rig.send(check)[0] == 200
    finally:
        service.stop()
        redis.stop()


def _node_id(server: RedisServer) -> str:
    return server.command("CLUSTER", "MYID").split(b"\r\n")[1].decode()


async def test_a_slot_being_migrated_is_transient_at_the_client(tmp_path: Path) -> None:
    """TRYAGAIN: a multi-key command in a MIGRATING slot with some of its keys missing."""
    source = RedisServer(tmp_path / "a", cluster=True).start()
    target = RedisServer(tmp_path / "b", cluster=True).start(wait=False)
    try:
        _wait_for(lambda: _pong(target), "the second node")
        bus_port = target.command("CONFIG", "GET", "cluster-port").split(b"\r\n")[4].decode()
        source.command("CLUSTER", "MEET", "127.0.0.1", str(target.port), bus_port)
        _wait_for(lambda: _node_id(target).encode() in source.command("CLUSTER", "NODES")
                  and b"handshake" not in source.command("CLUSTER", "NODES"), "MEET")
        slot = int(source.command("CLUSTER", "KEYSLOT", "{u:1}").split(b"\r\n")[0][1:])
        source.command("SET", "as:{u:1}:user", "1")
        assert source.command("CLUSTER", "SETSLOT", str(slot), "MIGRATING",
                              _node_id(target)).startswith(b"+OK")
        redis = Redis.from_url(source.url)
        try:
            with pytest.raises(RedisTransientError, match="^TRYAGAIN"):
                await redis.execute("MGET", "as:{u:1}:user", "as:{u:1}:tokens")
            with pytest.raises(RedisError, match="^ASK"):  # not transient: another node's key
                await redis.execute("GET", "as:{u:1}:tokens")
            source.command("CLUSTER", "SETSLOT", str(slot), "STABLE")
            assert await redis.execute("MGET", "as:{u:1}:user", "as:{u:1}:tokens") == ["1", None]
        finally:
            await redis.close()
    finally:
        target.stop()
        source.stop()


def _pong(server: RedisServer) -> bool:
    try:
        return server.command("PING").startswith(b"+PONG")
    except OSError:
        return False
