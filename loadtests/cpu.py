"""Who used the CPU during a measured phase: the server, Redis, wrk, and everything else.

On a shared 2-core machine the rate a server reaches depends on what else runs, so every phase
also records the server's own CPU (in cores) and the machine's busy cores not accounted for by
the benchmark's processes ("foreign" load). Requests per server CPU-second is much steadier than
requests per second, and a high foreign load marks a run as disturbed.

Linux only (``/proc``); elsewhere every figure is 0.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from types import TracebackType

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _machine_ticks() -> tuple[int, int]:
    """(all ticks, busy ticks) summed over CPUs."""
    try:
        with open("/proc/stat") as stat:
            values = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + values[4]  # idle + iowait
    return sum(values), sum(values) - idle


def _children_seconds() -> float:
    times = os.times()
    return times.children_user + times.children_system


@dataclass(frozen=True, slots=True)
class CpuShare:
    """Average cores used during the phase."""

    server: float = 0.0
    redis: float = 0.0
    wrk: float = 0.0
    machine: float = 0.0

    @property
    def foreign(self) -> float:
        """Busy cores not used by the server, Redis or wrk."""
        return max(0.0, self.machine - self.server - self.redis - self.wrk)


class CpuMeter:
    """``with CpuMeter(server_pid, redis_pid) as meter: ...`` then ``meter.share``.

    wrk's CPU is taken from the benchmark's reaped children, so wrk must be waited for inside
    the block (and no other child reaped there).
    """

    def __init__(self, server_pid: int, redis_pid: int) -> None:
        self._pids = (server_pid, redis_pid)
        self.share = CpuShare()
        self._start: tuple[float, list[int], tuple[int, int], float] | None = None

    def __enter__(self) -> CpuMeter:
        self._start = (time.monotonic(), [_process_ticks(pid) for pid in self._pids],
                       _machine_ticks(), _children_seconds())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._start is None:
            return
        began, ticks, (all_ticks, busy_ticks), children = self._start
        seconds = time.monotonic() - began
        if seconds <= 0:
            return
        server, redis = ((_process_ticks(pid) - before) / _TICKS / seconds
                         for pid, before in zip(self._pids, ticks, strict=True))
        all_now, busy_now = _machine_ticks()
        cores = os.cpu_count() or 1
        machine = (busy_now - busy_ticks) / (all_now - all_ticks) * cores \
            if all_now > all_ticks else 0.0
        self.share = CpuShare(server, redis, (_children_seconds() - children) / seconds, machine)
