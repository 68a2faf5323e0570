"""Real multi-node Redis for the tests: a 3-master + 3-replica Redis Cluster, and a Sentinel set
(one master, one replica, three Sentinels), all redis-server processes on loopback, each
started by `tests.harness.spawn` so that it stops when the process that started it dies.

`AUTHSVC_TEST_REDIS_CLUSTER=6` makes the session Redis of the suite a `RedisCluster`
(tests/conftest.py); the failover tests start their own (they kill masters).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from authsvc.store.redis_routing import command_slot
from tests.harness import RedisServer, free_port, redis_command, spawn

NODE_TIMEOUT_MS = 2000
MASTER_NAME = "mymaster"


def wait_until(check: object, what: str, timeout: float = 30.0) -> None:
    """Poll `check()` (a callable returning truthy) until it holds."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def cluster_node(directory: Path) -> RedisServer:
    """One cluster-enabled redis-server (bus port chosen freely, node-timeout 2 s)."""
    return RedisServer(directory, cluster=False)


def _cluster_flags() -> tuple[str, ...]:
    return ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-port", str(free_port()), "--cluster-node-timeout", str(NODE_TIMEOUT_MS))


def _exited(node: RedisServer) -> bool:
    return node.process is not None and node.process.poll() is not None


def _all_answer_or_exited(nodes: tuple[RedisServer, ...]) -> bool:
    return all(_exited(node) or node.command("PING").startswith(b"+PONG") for node in nodes)


@dataclass
class RedisCluster(RedisServer):
    """3 masters + 3 replicas; `port`/`url` name the first node (the service needs no more)."""

    nodes: list[RedisServer] = field(default_factory=list)
    size: int = 6

    def start(self, *, appendonly: bool = False, extra: tuple[str, ...] = (),
              wait: bool = True) -> RedisCluster:
        if not self.nodes:
            self.nodes = [cluster_node(self.directory / f"node{n}") for n in range(self.size)]
        self._start_nodes(appendonly, extra)
        self.port = self.nodes[0].port
        cli = shutil.which("redis-cli")
        assert cli, "redis-cli is not installed (it comes with redis-server)"
        subprocess.run([cli, "--cluster", "create",
                        *(f"127.0.0.1:{node.port}" for node in self.nodes),
                        "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        self.wait_healthy()
        return self

    def _start_nodes(self, appendonly: bool, extra: tuple[str, ...]) -> None:
        """Start every node, each on new ports again if it exited at start: a port
        `free_port` found free can be taken before the server binds it (any client connection
        of a busy machine may get it as its ephemeral port), and redis-server then exits."""
        pending = list(self.nodes)
        for _attempt in range(3):
            for node in pending:
                node.start(appendonly=appendonly, extra=(*_cluster_flags(), *extra), wait=False)
            wait_until(partial(_all_answer_or_exited, tuple(pending)), "a node")
            pending = [node for node in pending if _exited(node)]
            if not pending:
                return
            for node in pending:
                node.process, node.port = None, free_port()
        raise RuntimeError(f"{len(pending)} node(s) exited three times at start; "
                           "see redis.log in their directories")

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Until every live node says the cluster is ok and every master has a synced replica."""
        live = [node for node in self.nodes if node.process is not None]
        wait_until(lambda: all(b"cluster_state:ok" in n.command("CLUSTER", "INFO")
                               for n in live), "cluster_state:ok", timeout)
        wait_until(lambda: len(self.masters()) == self.size // 2, "three masters", timeout)
        wait_until(lambda: all(b"master_link_status:up" in n.command("INFO", "replication")
                               for n in live if n not in self.masters()), "replicas", timeout)

    def masters(self) -> list[RedisServer]:
        return [node for node in self.nodes if node.process is not None
                and node.command("ROLE").startswith(b"*3\r\n$6\r\nmaster")]

    def owner(self, slot: int) -> RedisServer:
        """The master serving `slot` now."""
        for node in self.masters():
            for line in node.command("CLUSTER", "NODES").decode().splitlines():
                fields = line.split()
                if len(fields) < 8 or "myself" not in fields[2]:
                    continue
                for span in fields[8:]:
                    low, _, high = span.partition("-")
                    if low.isdigit() and int(low) <= slot <= int(high or low):
                        return node
        raise RuntimeError(f"no master serves slot {slot}")

    def kill(self, node: RedisServer) -> None:
        """SIGKILL one node (no goodbye to the cluster, as a crash)."""
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)
        node.process = None

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                node.process.kill()
                node.process.wait(10)
                node.process = None

    def flush(self) -> None:
        for node in self.masters():
            assert node.command("FLUSHALL").startswith(b"+OK")

    def keys(self) -> list[str]:
        return sorted(key for node in self.masters() for key in RedisServer.keys(node))

    def command(self, *args: str) -> bytes:
        """One command, sent to the master of its key's slot (any master without a key)."""
        slot = command_slot(args)
        return (self.owner(slot) if slot is not None else self.masters()[0]).command(*args)


@dataclass
class SentinelSet:
    """One master, one replica and three Sentinels watching them (down after 1 s)."""

    directory: Path
    servers: list[RedisServer] = field(default_factory=list)
    sentinels: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sentinel_ports: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{MASTER_NAME}"

    def start(self) -> SentinelSet:
        self.servers = [RedisServer(self.directory / f"redis{n}", cluster=False).start()
                        for n in range(2)]
        master = self.servers[0]
        self.servers[1].command("REPLICAOF", "127.0.0.1", str(master.port))
        wait_until(lambda: b"state=online" in master.command("INFO", "replication"),
                   "the replica")
        binary = shutil.which("redis-server")
        assert binary
        for n in range(3):
            port, folder = free_port(), self.directory / f"sentinel{n}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "sentinel.conf").write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                f"sentinel failover-timeout {MASTER_NAME} 10000\n")
            self.sentinels.append(spawn(
                [binary, str(folder / "sentinel.conf"), "--sentinel",
                 "--logfile", str(folder / "sentinel.log")]))
            self.sentinel_ports.append(port)
        wait_until(lambda: all(self._sentinel_sees_replica(p) for p in self.sentinel_ports),
                   "the Sentinels")
        return self

    def _sentinel_sees_replica(self, port: int) -> bool:
        reply = redis_command(port, "SENTINEL", "replicas", MASTER_NAME)
        return reply.count(b"slave") >= 1 and b"s_down" not in reply

    def master_port(self) -> int:
        reply = redis_command(self.sentinel_ports[0], "SENTINEL", "get-master-addr-by-name",
                              MASTER_NAME).decode()
        return int(reply.split("\r\n")[-2])

    def master(self) -> RedisServer:
        port = self.master_port()
        return next(server for server in self.servers if server.port == port)

    def stop(self) -> None:
        for process in self.sentinels:
            process.terminate()
            process.wait(10)
        for server in self.servers:
            if server.process is not None:
                server.stop()


def session_redis(directory: Path) -> RedisServer:
    """The suite's Redis: a 3+3 cluster with ``AUTHSVC_TEST_REDIS_CLUSTER=6``, else one server
    (a one-node cluster with ``=1``)."""
    if os.environ.get("AUTHSVC_TEST_REDIS_CLUSTER") == "6":
        return RedisCluster(directory, cluster=False).start()
    return RedisServer(directory).start()
