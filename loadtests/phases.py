"""The benchmark's phases: the ceiling app, and the service at full and at paced rates.

Every phase is one wrk run (`loadtests.wrk`) with the CPU each process used meanwhile
(`loadtests.cpu`). Service phases continue one request sequence (`loadtests.plan`): each writes
the next slice, signed just before it is replayed, and moves past what wrk consumed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from loadtests.cpu import CpuMeter
from loadtests.plan import Plan
from loadtests.processes import ChildFailed, Children, free_port, wait_healthy
from loadtests.report import Phase
from loadtests.signing import AUTH_PATH
from loadtests.wrk import Load, run_wrk

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
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


@dataclass(frozen=True, slots=True)
class Stack:
    """What one run shares between its phases."""

    children: Children
    workdir: Path
    redis_url: str
    redis_pid: int
    secret_key: str
    options: Options


def _budget(options: Options, seconds: int, rate: float, headroom: float) -> int:
    """Requests to write for a phase: expected rate x seconds x the plan's headroom, plus slack."""
    return int(rate * seconds * headroom) + 10 * options.connections + 1000


def measured(stack: Stack, server_pid: int, url: str, requests: Path, load: Load, *,
             wrap: bool = False) -> Phase:
    """One wrk run, with the CPU each process used meanwhile."""
    with CpuMeter(server_pid, stack.redis_pid) as meter:
        result = run_wrk(stack.children, url, requests, AUTH_PATH, load, wrap=wrap)
    return Phase(result, meter.share)


def measure_ceiling(stack: Stack, plan: Plan) -> Phase:
    """The bare app's rate. Its requests are real ones it never checks, so none are consumed."""
    port, log = free_port(), stack.workdir / "ceiling.log"
    process = stack.children.start(
        [sys.executable, "-m", "loadtests.ceiling", "--port", str(port), "--redis-url",
         stack.redis_url], log=log, cwd=ROOT)
    base = f"http://{HOST}:{port}"
    wait_healthy(process, f"{base}/healthz", log)
    requests = stack.workdir / "ceiling.requests"
    plan.write_ceiling(requests, CEILING_FILE_LINES)
    connections, duration = stack.options.connections, stack.options.duration
    run_wrk(stack.children, base, requests, AUTH_PATH, Load(connections, WARMUP_SECONDS), wrap=True)
    phase = measured(stack, process.pid, base, requests, Load(connections, duration), wrap=True)
    stack.children.stop(process)
    return phase


def _service_env(stack: Stack, plan: Plan) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AUTHSVC_")}
    env.update({"AUTHSVC_REDIS_URL": stack.redis_url, "AUTHSVC_SECRET_KEY": stack.secret_key,
                "AUTHSVC_DATA_DIR": str(stack.workdir / "service"),
                "AUTHSVC_LOG_LEVEL": "warning"})
    env.update(plan.service_env())
    return env


class ServiceDriver:
    """The service process and the replays against it, each continuing the request sequence."""

    def __init__(self, stack: Stack, plan: Plan) -> None:
        self._stack = stack
        self._plan = plan
        port, self._log = free_port(), stack.workdir / "service.log"
        self.base = f"http://{HOST}:{port}"
        self._process = stack.children.start(
            [sys.executable, "-m", "authsvc", "serve", "--port", str(port)],
            env=_service_env(stack, plan), log=self._log, cwd=ROOT)
        wait_healthy(self._process, f"{self.base}/healthz", self._log)
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
        phase = measured(self._stack, self._process.pid, self.base, requests, load)
        self._plan.consumed(phase.wrk.calls - phase.wrk.exhausted)
        return phase

    def profile(self, out: Path, seconds: int) -> subprocess.Popen[bytes]:
        """py-spy (installed separately) sampling the service for `seconds`, into `out`."""
        binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(binary).exists():
            raise ChildFailed("--profile needs py-spy: .venv/bin/pip install py-spy")
        return self._stack.children.start(
            [binary, "record", "-p", str(self._process.pid), "-d", str(seconds), "-r", "250",
             "--nonblocking", "-f", "raw", "-o", str(out)], log=self._stack.workdir / "py-spy.log")

    def finish(self, helper: subprocess.Popen[bytes], timeout: float) -> None:
        """Let a helper (the profiler) end by itself, then make sure it has."""
        try:
            helper.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self._stack.children.stop(helper)

    def stop(self) -> None:
        """Stop the service."""
        self._stack.children.stop(self._process)


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
    sampler = driver.profile(profile, options.duration)
    try:
        return driver.run(requests, load)
    finally:
        driver.finish(sampler, timeout=30)
