"""What the load tests ask the service's Redis directly: its own figures, never the service's data.

``INFO`` (memory, pid, per-command counts), ``CONFIG SET`` (the
``--appendfsync`` diagnostic, the latency monitor's threshold), the latency monitor, and the
size of one stream (on a Redis Cluster, asked of the node holding it). Through redis-py, one
short connection per call, outside any event loop. The connection speaks RESP2 and
sends nothing but the command (no ``HELLO``, no ``CLIENT SETINFO``), so the per-command counts
over a window hold the service's traffic and the load test's own few calls, nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import redis


def _call_once(url: str, *args: str | int) -> Any:
    client = redis.Redis.from_url(url, decode_responses=True, protocol=2,
                                 lib_name=None, lib_version=None)
    execute: Callable[..., Any] = client.execute_command  # redis-py leaves it unannotated
    try:
        return execute(*args)
    finally:
        client.close()


def _call(url: str, *args: str | int) -> Any:
    """One command; on a Redis Cluster node that does not hold its key, again at the node the
    MOVED reply names (the bench asks about one stream, wherever its slot lives)."""
    try:
        return _call_once(url, *args)
    except redis.exceptions.MovedError as moved:
        return _call_once(f"redis://{moved.host}:{moved.port}", *args)


def info_field(url: str, section: str, name: str) -> int:
    """One integer of ``INFO section`` (``used_memory``, ``process_id``)."""
    info: dict[str, Any] = _call(url, "INFO", section)
    if name not in info:
        raise ValueError(f"INFO has no {name}")
    return int(info[name])


def memory_without_replication(url: str) -> int:
    """``used_memory`` less the replication buffers: a master's backlog grows with every write
    up to ``repl-backlog-size`` (1 MB by default), which is not data and would otherwise be
    charged to the users seeded meanwhile (0 on a server without replicas)."""
    info: dict[str, Any] = _call(url, "INFO", "memory")
    if "mem_total_replication_buffers" in info:  # Redis 7: backlog and replicas' output shared
        buffers = int(info["mem_total_replication_buffers"])
    else:
        buffers = int(info.get("mem_replication_backlog", 0)) + int(
            info.get("mem_clients_slaves", 0))
    return int(info["used_memory"]) - buffers


def config_set(url: str, name: str, value: str) -> None:
    """``CONFIG SET name value``."""
    _call(url, "CONFIG", "SET", name, value)


def command_calls(url: str) -> Counter[str]:
    """Calls per Redis command so far (``INFO commandstats``; commands run by scripts count)."""
    stats: dict[str, Any] = _call(url, "INFO", "commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(values["calls"])
                    for name, values in stats.items() if name.startswith("cmdstat_")})


def latency_reset(url: str) -> None:
    """Forget the latency monitor's events (``LATENCY RESET``)."""
    _call(url, "LATENCY", "RESET")


def latency_worst(url: str) -> dict[str, int]:
    """The worst latency (ms) per event the latency monitor saw since its last reset."""
    return {str(event[0]): int(event[3]) for event in _call(url, "LATENCY", "LATEST")}


def bytes_per_entry(url: str, stream: str) -> float:
    """Redis's estimate of a stream's size divided by its entries (0 for none)."""
    size = _call(url, "MEMORY", "USAGE", stream, "SAMPLES", 0)
    entries = int(_call(url, "XLEN", stream))
    return int(size or 0) / entries if entries else 0.0


class CommandWindow:
    """The commands Redis ran, and its worst latency events, between `start()` and `stop()`
    (the load test's own ``INFO`` left out)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._before: Counter[str] = Counter()

    def start(self) -> None:
        """Count from now; forget earlier latency events."""
        self._before = command_calls(self._url)
        latency_reset(self._url)

    def stop(self) -> tuple[dict[str, int], dict[str, int]]:
        """(calls per command, most first; worst latency in ms per event) since `start()`."""
        calls = command_calls(self._url) - self._before
        calls.pop("info", None)
        return dict(calls.most_common()), latency_worst(self._url)
