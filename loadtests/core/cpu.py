"""Who used the CPU during a measured window: named processes, wrk, and everything else.

On a shared 2-core machine the rate a server reaches depends on what else runs, so every window
records the CPU (in cores) of the processes the load test knows (the server with its workers,
Redis, the phone fleet, the push driver; wrk, which is reaped inside the window) and the machine's busy cores
that none of them account for ("foreign" load). Requests per server CPU-second is much steadier
than requests per second, and a high foreign load marks a run as disturbed.

Linux only (``/proc``); elsewhere every figure is 0.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _own_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the workers of `authsvc serve --workers N`)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def _process_ticks(pid: int) -> int:
    """CPU ticks of the process and of every process below it that is still running (a
    supervisor's workers count as the service)."""
    return sum(_own_ticks(each) for each in (pid, *descendants(pid)))


def _ticks_of(pids: tuple[int, ...]) -> int:
    return sum(_process_ticks(pid) for pid in pids)


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
class CpuUse:
    """Average cores used during the window, per named process and by the whole machine."""

    cores: Mapping[str, float] = field(default_factory=dict)
    machine: float = 0.0

    def of(self, name: str) -> float:
        """The cores `name` used (0 if it was not measured)."""
        return self.cores.get(name, 0.0)

    @property
    def foreign(self) -> float:
        """Busy cores not used by the named processes (py-spy, when profiling, lands here)."""
        return max(0.0, self.machine - sum(self.cores.values()))


class CpuMeter:
    """``with CpuMeter({"server": pid, "redis": pid}, reaped="wrk") as meter: ...`` then
    ``meter.use``; or `start()` and `stop()`. A name may stand for several processes (every
    node of a Redis Cluster is "redis"): their CPU is summed.

    `reaped` names the CPU of this process's children reaped inside the window: wrk's, so wrk
    must be waited for inside the window (and no other child reaped there).
    """

    def __init__(self, pids: Mapping[str, int | tuple[int, ...]], *,
                 reaped: str | None = None) -> None:
        self._pids = {name: (pid,) if isinstance(pid, int) else pid for name, pid in pids.items()}
        self._reaped = reaped
        self.use = CpuUse()
        self._start: tuple[float, dict[str, int], tuple[int, int], float] | None = None

    def start(self) -> None:
        """Begin the window."""
        self._start = (time.monotonic(), {name: _ticks_of(pids) for name, pids in
                                          self._pids.items()}, _machine_ticks(),
                       _children_seconds())

    def stop(self) -> CpuUse:
        """End the window; what was used meanwhile (also kept as `use`)."""
        if self._start is None:
            return self.use
        began, ticks, (all_ticks, busy_ticks), children = self._start
        seconds = time.monotonic() - began
        if seconds <= 0:
            return self.use
        cores = {name: (_ticks_of(pids) - ticks[name]) / _TICKS / seconds
                 for name, pids in self._pids.items()}
        if self._reaped is not None:
            cores[self._reaped] = (_children_seconds() - children) / seconds
        all_now, busy_now = _machine_ticks()
        machine = ((busy_now - busy_ticks) / (all_now - all_ticks) * (os.cpu_count() or 1)
                   if all_now > all_ticks else 0.0)
        self.use = CpuUse(cores, machine)
        return self.use

    def __enter__(self) -> CpuMeter:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def listen_overflows() -> int:
    """The machine's count of connections dropped because a listen queue was full (Linux)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            fields = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(fields.get("ListenOverflows", 0))
    return 0
