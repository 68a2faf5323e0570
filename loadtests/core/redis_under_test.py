"""The Redis a passcode run measures: the private embedded server, or a 3+3 Redis Cluster.

By default a private redis-server exactly as production's embedded one (`EmbeddedRedis`: unix
socket, AOF with ``appendfsync always``). With ``--cluster``, 3 masters and 3 replicas on
loopback TCP, started by the test harness's real servers (tests/topologies.py `RedisCluster`, as
`loadtests.scenarios.topologies` starts them) with AOF and the same fsync policy. The service,
the seeding and the ceiling are all given the first node's ``redis://`` URL and discover the
other nodes themselves, as a deployment would configure them.

What the run reads from it: ``used_memory`` summed over the masters (a replica holds a copy,
not more users' data) less their replication buffers (a master's backlog grows with every write
up to 1 MB: on a small run it would look like per-user data), and the pids of every
redis-server, replicas included, so the CPU figure "Redis" is what the whole topology burned.
Stopped on leaving `running`, whatever the exit (the bench turns Ctrl-C and SIGTERM into
KeyboardInterrupt, which unwinds through it). A SIGKILL of the bench stops them too: the
harness asks each node (Linux ``PR_SET_PDEATHSIG``) to stop when its parent dies, as the embedded
server is asked.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from authsvc.embedded_redis import EmbeddedRedis
from loadtests.core import redisinfo
from loadtests.core.processes import ChildFailed
from tests.topologies import RedisCluster

EMBEDDED = "embedded (unix socket)"
CLUSTER = "3+3 cluster (loopback)"


@dataclass(frozen=True, slots=True)
class RedisUnderTest:
    """The URL everything is given, the masters' URLs, every redis-server's pid, and the name
    the summary prints."""

    url: str
    master_urls: tuple[str, ...]
    pids: tuple[int, ...]
    label: str

    def used_memory(self) -> int:
        """Bytes in use, summed over the masters, replication buffers left out."""
        return sum(redisinfo.memory_without_replication(url) for url in self.master_urls)


@contextmanager
def running(workdir: Path, *, cluster: bool, appendfsync: str) -> Iterator[RedisUnderTest]:
    """A fresh Redis in `workdir` (see the module docstring), stopped on leaving."""
    if cluster:
        with _cluster(workdir / "cluster", appendfsync) as started:
            yield started
        return
    embedded = EmbeddedRedis(workdir / "redis")
    url = embedded.start()
    try:
        # The embedded server always starts with "always"; everysec is the bench's diagnostic.
        redisinfo.config_set(url, "appendfsync", appendfsync)
        pid = redisinfo.info_field(url, "server", "process_id")
        yield RedisUnderTest(url, (url,), (pid,), EMBEDDED)
    finally:
        embedded.stop()


@contextmanager
def _cluster(directory: Path, appendfsync: str) -> Iterator[RedisUnderTest]:
    nodes = RedisCluster(directory, cluster=False)
    try:
        try:
            nodes.start(appendonly=True, extra=("--appendfsync", appendfsync))
        except (RuntimeError, subprocess.SubprocessError) as exc:
            raise ChildFailed(f"the Redis Cluster did not form ({exc}); see {directory}") from exc
        masters = tuple(node.url for node in nodes.masters())
        pids = tuple(node.process.pid for node in nodes.nodes if node.process is not None)
        yield RedisUnderTest(nodes.url, masters, pids, CLUSTER)
    finally:
        nodes.stop()
