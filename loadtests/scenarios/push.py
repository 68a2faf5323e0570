"""Duo Push end to end: pushes per second and their round trip, with a simulated phone fleet.

``python -m loadtests push [--phones N] [--in-flight 1000 | --rate R] [--duration S]
[--workers N] [--runs R] [--json]`` (also ``python -m loadtests.push_bench``). One run, in a fresh
temporary directory: a private redis-server; ``python -m authsvc serve`` over HTTPS (a dev
certificate); an admin and an auth integration, then N users with one Android phone each through
the Admin API (``push_max_outstanding`` raised only if the in-flight pushes need more than 3 per
user); ``mobile-sim fleet`` activating every phone and answering pushes; and the driver
(`loadtests.scenarios.push_driver`) keeping ``--in-flight`` pushes outstanding (or starting
``--rate`` per second), then measuring ``--duration`` seconds: pushes completed per second, their
round trip p50/p90/p99, the outcomes, the CPU of the service, Redis, the fleet and the driver,
and the Redis commands per push. Children are stopped on every exit, SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authsvc.embedded_redis import EmbeddedRedis
from authsvc.tls import write_dev_cert
from loadtests.core import redisinfo
from loadtests.core.bench import Log, add_run_options, emit, progress, run_all
from loadtests.core.cpu import CpuMeter, CpuUse, listen_overflows
from loadtests.core.fleet import Answers, Fleet, start_fleet
from loadtests.core.population import usernames, write_private
from loadtests.core.processes import ChildFailed, Children, wait_for_line
from loadtests.core.profile import record
from loadtests.core.report import PushFigures, render_push_json, render_push_text
from loadtests.core.seeding import enroll_phones, integration_pair
from loadtests.core.service import ROOT, Service, service_env, start_service
from loadtests.scenarios.push_driver import MEASURED, MEASURING

DEFAULT_MAX_OUTSTANDING = 3
DRAIN_SECONDS = 10.0
MAX_WARMUP_SECONDS = 60.0
FLEET_MARGIN_SECONDS = 30.0  # the fleet is stopped when the driver is done; this is a backstop
RAMP_PER_SECOND = 500  # slots started per second by default
FLEET_SETTLE_SECONDS = 3.0
LATENCY_THRESHOLD_MS = 50


@dataclass(frozen=True, slots=True)
class PushOptions:
    """What the command line chose."""

    phones: int
    in_flight: int
    duration: int
    warmup: int
    delay_ms: float
    jitter_ms: float
    mix: str
    run_async: bool
    ramp: float = 0.0
    rate: float = 0.0
    workers: int = 1
    key_pool: int = 0

    @property
    def per_user(self) -> int:
        return math.ceil(self.in_flight / self.phones)


@dataclass(frozen=True, slots=True)
class RunResult:
    """One run: the figures, and the driver's and fleet's own summaries."""

    figures: PushFigures
    driver: dict[str, Any]
    fleet: dict[str, Any]


class Run:
    """One complete run in `workdir`."""

    def __init__(self, children: Children, workdir: Path, options: PushOptions, log: Log) -> None:
        self.children = children
        self.workdir = workdir
        self.options = options
        self.log = log

    def enroll(self, base: str, ca_file: Path, admin: tuple[str, str],
               auth: tuple[str, str]) -> tuple[Path, Path, float]:
        """Users and phones through the Admin API; (population file, values file, seconds)."""
        options = self.options
        settings = None
        if options.per_user > DEFAULT_MAX_OUTSTANDING:
            settings = {"push_max_outstanding": str(options.per_user)}
            self.log(f"raising push_max_outstanding to {options.per_user} (Admin API)")
        self.log(f"enrolling {options.phones} users with one phone each through the Admin API")
        began = time.monotonic()
        population, urls = asyncio.run(enroll_phones(base, str(ca_file), admin, auth,
                                                     usernames("push-", options.phones), settings))
        seconds = time.monotonic() - began
        values, pop_file = self.workdir / "activation-urls.txt", self.workdir / "population.json"
        write_private(values, (f"{url}\n" for url in urls))
        population.dump(pop_file)
        return pop_file, values, seconds

    def fleet(self, values: Path, ca_file: Path) -> tuple[Fleet, float]:
        """Start the fleet and wait until every phone is activated; it, and the seconds taken."""
        options = self.options
        self.log(f"activating {options.phones} phones (mobile-sim fleet; one RSA-2048 key each)")
        began = time.monotonic()
        fleet = start_fleet(
            self.children, self.workdir, values, ca_file,
            answers=Answers(options.mix, options.delay_ms, options.jitter_ms),
            phones=options.phones, serve_for=max(options.warmup, MAX_WARMUP_SECONDS)
            + options.duration + DRAIN_SECONDS + FLEET_MARGIN_SECONDS, key_pool=options.key_pool,
            poll_wait=60 if options.rate else 25)  # idle phones: one poll a minute each
        return fleet, time.monotonic() - began

    def start_driver(self, population: Path) -> tuple[subprocess.Popen[bytes], Path]:
        """The driver process, and the file its summary goes to."""
        options, out = self.options, self.workdir / "driver.json"
        process = self.children.start(
            [sys.executable, "-m", "loadtests", "push-driver", "--population", str(population),
             "--in-flight", str(options.in_flight), "--warmup", str(options.warmup),
             "--duration", str(options.duration), "--drain", str(DRAIN_SECONDS),
             "--max-warmup", str(MAX_WARMUP_SECONDS), "--ramp", str(options.ramp),
             "--rate", str(options.rate), "--out", str(out),
             *(["--async"] if options.run_async else [])],
            log=self.workdir / "driver.log", cwd=ROOT)
        return process, out

    def drive(self, population: Path, pids: dict[str, int], redis_url: str,
              profile: Path | None) -> tuple[dict[str, Any], CpuUse]:
        """Run the driver; its summary (with the Redis commands sent during its measured
        window) and the CPU used meanwhile."""
        options, log = self.options, self.workdir / "driver.log"
        process, out = self.start_driver(population)
        meter = CpuMeter({**pids, "driver": process.pid})
        wait_for_line(log, MEASURING, process, timeout=max(options.warmup, MAX_WARMUP_SECONDS) + 60)
        meter.start()
        commands = redisinfo.CommandWindow(redis_url)
        commands.start()
        sampler = None if profile is None else record(
            self.children, pids["service"], options.duration, profile, self.workdir / "py-spy.log")
        wait_for_line(log, MEASURED, process, timeout=options.duration + 60)
        cpu = meter.stop()
        calls, stalls = commands.stop()
        self.log(f"measured; draining the pushes still out (at most {DRAIN_SECONDS:g} s)")
        try:
            process.wait(options.duration + DRAIN_SECONDS + 60)
        except subprocess.TimeoutExpired:
            raise ChildFailed(f"the driver did not finish; see {log}") from None
        if sampler is not None:
            self.children.finish(sampler, 30)
        if process.returncode != 0 or not out.exists():
            raise ChildFailed(f"the driver exited with status {process.returncode}; see {log}")
        summary: dict[str, Any] = json.loads(out.read_text())
        return {**summary, "redis_calls": calls, "redis_stalls_ms": stalls}, cpu


@dataclass(frozen=True, slots=True)
class Stack:
    """What one run's enrollment and driver need: the integrations, Redis, the service."""

    admin: tuple[str, str]
    auth: tuple[str, str]
    redis_pid: int
    service: Service
    ca_file: Path


def _stack(run: Run, url: str) -> Stack:
    """The run's integrations and TLS service; Redis keeps slow events for the summary."""
    key = secrets.token_urlsafe(32)
    env = service_env(url, key, run.workdir / "service")
    admin, auth = asyncio.run(integration_pair(env, "push bench"))
    redisinfo.config_set(url, "latency-monitor-threshold", str(LATENCY_THRESHOLD_MS))
    cert = write_dev_cert(run.workdir / "tls")
    service = start_service(run.children, run.workdir, env, cert=cert,
                            workers=run.options.workers)
    return Stack(admin, auth, redisinfo.info_field(url, "server", "process_id"), service,
                 cert.ca_cert)


def run_once(children: Children, workdir: Path, options: PushOptions, log: Log,
             profile: Path | None = None) -> RunResult:
    """One complete run: Redis, TLS service, enrollment, fleet, driver."""
    workdir.mkdir(parents=True)
    redis_server = EmbeddedRedis(workdir / "redis")
    url = redis_server.start()
    run = Run(children, workdir, options, log)
    overflows_before = listen_overflows()
    try:
        stack = _stack(run, url)
        population, values, seed_seconds = run.enroll(stack.service.base_url, stack.ca_file,
                                                      stack.admin, stack.auth)
        log(f"enrolled in {seed_seconds:.1f} s")
        fleet, activation_seconds = run.fleet(values, stack.ca_file)
        log(f"fleet activated in {activation_seconds:.1f} s; driving "
            f"{_options_dict(options)['loop']} ({options.warmup} s warm-up, "
            f"{options.duration} s measured)")
        driver, cpu = run.drive(population, {"service": stack.service.pid,
                                             "redis": stack.redis_pid, "fleet": fleet.process.pid},
                                url, profile)
        # The fleet's loop may still be behind (answers the service has decided, whose replies
        # it has not read yet): let it settle, then SIGTERM, on which the fleet prints its summary.
        time.sleep(FLEET_SETTLE_SECONDS)
        fleet_summary = fleet.stop(children)
        if fleet_summary.get("errors"):  # what failed says who to look at: service or network
            log(f"the fleet's poll errors by kind: {fleet_summary.get('error_kinds')}")
        overflows = listen_overflows() - overflows_before
    finally:
        children.stop_all()
        redis_server.stop()
    figures = PushFigures.of(driver, cpu, fleet_summary, (seed_seconds, activation_seconds),
                             overflows)
    return RunResult(figures, driver, fleet_summary)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--phones", type=int, default=1000, help="users, one activated phone each (1000)")
    add("--in-flight", type=int, default=1000, help="pushes kept outstanding by the driver (1000)")
    add("--duration", type=int, default=15, help="seconds measured (15)")
    add("--warmup", type=int, default=5,
        help="seconds before measuring (5; open loop: at least one per 250 phones)")
    add("--delay-ms", type=float, default=50.0, help="the phones' mean answer delay (50)")
    add("--jitter-ms", type=float, default=10.0,
        help="spread of that delay, a normal distribution's sigma (10)")
    add("--ramp", type=float, default=None, metavar="S",
        help="start the driver's slots evenly over S seconds (default: one second per 500 in "
             "flight); 0 starts them all at once, and the pushes then move in step as one wave")
    add("--mix", default="approve=1",
        help="the phones' answers, e.g. approve=0.9,deny=0.1 (approve=1)")
    add("--async", dest="run_async", action="store_true",
        help="async=1 + auth_status long polls instead of a blocking auth")
    add("--rate", type=float, default=0.0, metavar="R",
        help="open loop: R pushes started per second whatever is still out (--in-flight is "
             "then ignored); e.g. --phones 10000 --rate 200 --delay-ms 0 --jitter-ms 0")
    add("--workers", type=int, default=1, metavar="N",
        help="authsvc serve --workers N (1); the service CPU is the supervisor's and workers'")
    add("--key-pool", type=int, default=None, metavar="N",
        help="phones share N RSA keys (default: 64 above 1,000 phones, else one key each)")
    add_run_options(parser, "sample the service with py-spy during the first run's measured "
                    "window into FILE (python -m loadtests hotspots --requests FILE)")
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if min(args.phones, args.in_flight, args.duration, args.runs) < 1 or args.warmup < 0:
        parser.error("--phones, --in-flight, --duration and --runs must be positive")
    if math.ceil(args.in_flight / args.phones) > 100:
        parser.error("more than 100 pushes per user in flight (push_max_outstanding is 1-100): "
                     "add phones")


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests push") -> int:
    """Run, print the summary (or JSON); 1 if the benchmark itself broke, 130 on Ctrl-C."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    _check(parser, args)
    key_pool = (64 if args.phones > 1000 else 0) if args.key_pool is None else args.key_pool
    if args.rate:  # no slots: one push per user at a time is plenty
        args.in_flight = args.phones
    options = PushOptions(args.phones, args.in_flight, args.duration, args.warmup, args.delay_ms,
                          args.jitter_ms, args.mix, args.run_async,
                          args.in_flight / RAMP_PER_SECOND if args.ramp is None else args.ramp,
                          args.rate, args.workers, key_pool)
    log = progress("push-bench")

    def done(number: int, result: RunResult) -> None:
        log(f"run {number}: {result.figures.pushes_per_s:,.1f} pushes/s, round trip "
            f"p50 {result.figures.round_trip_p50_ms:,.0f} ms")

    results = run_all(args, "push-bench", lambda children, workdir, profile: run_once(
        children, workdir, options, log, profile), done)
    if isinstance(results, int):
        return results
    runs, summary = [result.figures for result in results], _options_dict(options)
    emit(render_push_text(runs, summary), lambda: render_push_json(
        runs, summary, [{"driver": r.driver, "fleet": r.fleet} for r in results]),
        as_json=args.json)
    return 0


def _options_dict(options: PushOptions) -> dict[str, Any]:
    loop = (f"open loop, {options.rate:g} pushes/s offered" if options.rate
            else f"{options.in_flight:,} pushes in flight")
    return {**{name: getattr(options, name) for name in PushOptions.__dataclass_fields__},
            "per_user": options.per_user, "mode": "async" if options.run_async else "sync",
            "loop": loop, "cpus": os.cpu_count() or 0}
