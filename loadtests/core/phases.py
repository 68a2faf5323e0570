"""wrk phases: the ceiling app, and the service at full and at paced rates.

Every phase is one wrk run (`loadtests.core.wrk`) with the CPU each process used meanwhile
(`loadtests.core.cpu`). Service phases continue one request sequence (`loadtests.core.plan`):
each writes the next slice, signed just before it is replayed, and moves past what wrk consumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loadtests.core.cpu import CpuMeter
from loadtests.core.plan import Plan
from loadtests.core.processes import Children
from loadtests.core.profile import record
from loadtests.core.report import Phase
from loadtests.core.service import HOST, service_env, start_ceiling, start_service
from loadtests.core.signing import AUTH_PATH
from loadtests.core.wrk import Load, run_wrk

__all__ = ["HOST", "Options", "ServiceDriver", "Stack", "full_rate", "measure_ceiling", "paced"]

WARMUP_SECONDS = 2
CEILING_FILE_LINES = 20_000


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line chose."""

    users: int
    duration: int
    connections: int
    appendfsync: str = "always"
    tokens: int = 1
    factor: str = "hotp"
    workers: int = 1
    cluster: bool = False


@dataclass(frozen=True, slots=True)
class Stack:
    """What one run shares between its phases."""

    children: Children
    workdir: Path
    redis_url: str
    redis_pids: tuple[int, ...]  # every redis-server (a cluster's six), counted as "redis"
    secret_key: str
    options: Options


def _budget(options: Options, seconds: int, rate: float, headroom: float) -> int:
    """Requests to write for a phase: expected rate x seconds x the plan's headroom, plus slack."""
    return int(rate * seconds * headroom) + 10 * options.connections + 1000


def measured(stack: Stack, server_pid: int, url: str, requests: Path, load: Load, *,
             wrap: bool = False) -> Phase:
    """One wrk run, with the CPU each process used meanwhile."""
    with CpuMeter({"server": server_pid, "redis": stack.redis_pids}, reaped="wrk") as meter:
        result = run_wrk(stack.children, url, requests, AUTH_PATH, load, wrap=wrap)
    return Phase(result, meter.use)


def measure_ceiling(stack: Stack, plan: Plan) -> Phase:
    """The bare app's rate. Its requests are real ones it never checks, so none are consumed."""
    ceiling = start_ceiling(stack.children, stack.workdir, stack.redis_url)
    requests = stack.workdir / "ceiling.requests"
    plan.write_ceiling(requests, CEILING_FILE_LINES)
    connections, duration = stack.options.connections, stack.options.duration
    run_wrk(stack.children, ceiling.base_url, requests, AUTH_PATH,
            Load(connections, WARMUP_SECONDS), wrap=True)
    phase = measured(stack, ceiling.pid, ceiling.base_url, requests, Load(connections, duration),
                     wrap=True)
    stack.children.stop(ceiling.process)
    return phase


class ServiceDriver:
    """The service process and the replays against it, each continuing the request sequence."""

    def __init__(self, stack: Stack, plan: Plan) -> None:
        self._stack = stack
        self._plan = plan
        self.environ = service_env(stack.redis_url, stack.secret_key, stack.workdir / "service",
                                   plan.service_env())
        self._service = start_service(stack.children, stack.workdir, self.environ,
                                      workers=stack.options.workers)
        self.base = self._service.base_url
        plan.service_started(self.base)

    def replay(self, load: Load, expected_rate: float) -> Phase:
        """Write the next requests, replay them, and move the sequence past what was used."""
        return self.run(self.prepare(load, expected_rate), load)

    def prepare(self, load: Load, expected_rate: float) -> Path:
        """Write the next requests for a phase of `load` at about `expected_rate`."""
        requests = self._stack.workdir / "service.requests"
        self._plan.write(requests, _budget(self._stack.options, load.duration, expected_rate,
                                           self._plan.headroom))
        return requests

    def run(self, requests: Path, load: Load) -> Phase:
        """Replay what `prepare` wrote and move the sequence past what was used."""
        phase = measured(self._stack, self._service.pid, self.base, requests, load)
        self._plan.consumed(phase.wrk.calls - phase.wrk.exhausted)
        return phase

    def profiled_run(self, requests: Path, load: Load, out: Path) -> Phase:
        """`run`, with py-spy sampling the service into `out` meanwhile."""
        sampler = record(self._stack.children, self._service.pid, load.duration, out,
                         self._stack.workdir / "py-spy.log")
        try:
            return self.run(requests, load)
        finally:
            self._stack.children.finish(sampler, timeout=30)

    def stop(self) -> None:
        """Stop the service."""
        self._stack.children.stop(self._service.process)


def paced(driver: ServiceDriver, options: Options, rate: float) -> Phase:
    """Replay at `rate`: a warm-up probe measures what wrk adds to the delay, then the run."""
    connections = options.connections
    nominal_ms = connections / rate * 1000
    probe = driver.replay(Load(connections, WARMUP_SECONDS, nominal_ms), rate).wrk
    cycle_ms = connections / probe.rate * 1000 if probe.requests else nominal_ms
    delay_ms = max(0.0, nominal_ms - max(0.0, cycle_ms - nominal_ms))
    return driver.replay(Load(connections, options.duration, delay_ms), rate)


def full_rate(driver: ServiceDriver, options: Options, expected_rate: float,
              profile: Path | None) -> Phase:
    """The service as fast as it answers (sampled by py-spy into `profile` if given, from when
    the requests are written: a plan that fetches challenges keeps the service busy before)."""
    load = Load(options.connections, options.duration)
    requests = driver.prepare(load, expected_rate)
    if profile is None:
        return driver.run(requests, load)
    return driver.profiled_run(requests, load, profile)
