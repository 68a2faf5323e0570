"""Duo Push end to end: pushes per second and their round trip, with a simulated phone fleet.

``python -m loadtests.push_bench [--phones N] [--in-flight 1000] [--duration S] [--delay-ms M]
[--runs R] [--json]``

One run, all in a fresh temporary directory:

1. a private redis-server as production's embedded one (unix socket, AOF ``appendfsync
   always``), a development CA and server certificate (`authsvc.tls.write_dev_cert`), and
   ``python -m authsvc serve --host 127.0.0.1 --tls-cert --tls-key`` (the device protocol is
   HTTPS only; links and activation codes then name ``127.0.0.1:PORT``, which the certificate
   covers);
2. an admin and an auth integration (domain classes, as ``authsvc integration create`` does),
   then N users with one Android phone each through the Admin API (`loadtests.push_seed`: the
   calls duo_client makes), their activation URLs written to a file; ``push_max_outstanding``
   is raised through ``/admin/v1/settings`` only if the in-flight pushes need more than 3 per
   user;
3. ``mobile-sim fleet`` (`python -m mobile_sim fleet`, its own process) activates every phone and
   answers pushes with ``--mix`` after ``--delay-ms`` +- ``--jitter-ms``;
4. the driver (`loadtests.push_driver`, its own process) keeps ``--in-flight`` pushes
   outstanding (``POST /auth/v2/auth factor=push device=auto``, signed as duo_client signs it),
   warms up, then measures ``--duration`` seconds: pushes completed per second, the round trip
   (request -> the phone sees the push -> answers -> the final answer) p50/p90/p99, the
   outcomes, and the CPU used meanwhile by the service, Redis, the fleet and the driver.

Children are stopped on every exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.integrations import IntegrationRegistry
from authsvc.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from authsvc.store import Redis, RedisError, RedisUnavailable, Store
from authsvc.tls import DevCert, write_dev_cert
from loadtests.cpu import _TICKS, _machine_ticks, _process_ticks
from loadtests.processes import ChildFailed, Children, free_port
from loadtests.push_driver import MEASURED, MEASURING
from loadtests.push_report import PushCpu, PushFigures, render_json, render_text
from loadtests.push_seed import seed, usernames, write_values
from loadtests.push_wire import ApiError

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_MAX_OUTSTANDING = 3
DRAIN_SECONDS = 10.0
MAX_WARMUP_SECONDS = 60.0
FLEET_MARGIN_SECONDS = 30.0  # the fleet is stopped when the driver is done; this is a backstop
FLEET_READY = "phones serving"
POLL_SECONDS = 0.01
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

    @property
    def per_user(self) -> int:
        return math.ceil(self.in_flight / self.phones)


@dataclass(frozen=True, slots=True)
class RunResult:
    """One run: the figures, and the driver's and fleet's own summaries."""

    figures: PushFigures
    driver: dict[str, Any]
    fleet: dict[str, Any]


class CpuWindow:
    """CPU of named processes (and of the whole machine) between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: tuple[float, dict[str, int], tuple[int, int]] | None = None

    def start(self) -> None:
        self._start = (time.monotonic(), {name: _process_ticks(pid) for name, pid in
                                          self._pids.items()}, _machine_ticks())

    def stop(self) -> PushCpu:
        if self._start is None:
            return PushCpu()
        began, ticks, (all_ticks, busy_ticks) = self._start
        seconds = time.monotonic() - began
        if seconds <= 0:
            return PushCpu()
        cores = {name: (_process_ticks(pid) - ticks[name]) / _TICKS / seconds
                 for name, pid in self._pids.items()}
        all_now, busy_now = _machine_ticks()
        machine = ((busy_now - busy_ticks) / (all_now - all_ticks) * (os.cpu_count() or 1)
                   if all_now > all_ticks else 0.0)
        return PushCpu(cores["service"], cores["redis"], cores["fleet"], cores["driver"], machine)


def wait_for_line(path: Path, marker: str, process: subprocess.Popen[bytes],
                  timeout: float) -> str:
    """Poll a child's log until a line contains `marker`; that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                if marker in line:
                    return line
        if process.poll() is not None:
            raise ChildFailed(f"{path.stem} exited with status {process.returncode}; see {path}")
        time.sleep(POLL_SECONDS)
    raise ChildFailed(f"{path.stem}: no {marker!r} within {timeout:.0f} s; see {path}")


def wait_https(process: subprocess.Popen[bytes], url: str, ca_file: Path, log: Path,
               timeout: float = 30.0) -> None:
    """Poll ``url`` over verified TLS until it answers ``{"stat": "OK"}``."""
    context = ssl.create_default_context(cafile=str(ca_file))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildFailed(f"the service exited with status {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as reply:  # noqa: S310
                if json.load(reply).get("stat") == "OK":
                    return
        except (OSError, ValueError):
            time.sleep(0.05)
    raise ChildFailed(f"the service was not healthy within {timeout:.0f} s; see {log}")


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


async def _redis_call(url: str, *args: str) -> Any:
    redis = Redis.from_url(url)
    try:
        return await redis.execute(*args)
    finally:
        await redis.close()


def redis_command(url: str, *args: str) -> Any:
    """One command on a connection of its own (outside any event loop)."""
    return asyncio.run(_redis_call(url, *args))


def redis_calls(url: str) -> Counter[str]:
    """Calls per Redis command so far (``INFO commandstats``; commands run by scripts count)."""
    calls: Counter[str] = Counter()
    for line in str(redis_command(url, "INFO", "commandstats")).splitlines():
        name, _, stats = line.partition(":")
        if name.startswith("cmdstat_"):
            fields = dict(item.split("=", 1) for item in stats.split(",") if "=" in item)
            calls[name.removeprefix("cmdstat_")] = int(fields.get("calls", 0))
    return calls


def redis_stalls(url: str) -> dict[str, int]:
    """The worst latency (ms) per event Redis's latency monitor saw since its last reset."""
    return {str(event[0]): int(event[3]) for event in redis_command(url, "LATENCY", "LATEST")}


def _info_field(info: str, name: str) -> int:
    for line in info.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.partition(":")[2])
    raise ValueError(f"INFO has no {name}")


async def integrations(url: str, secret_key: str) -> tuple[tuple[str, str], tuple[str, str], int]:
    """An admin and an auth integration (ikey, skey), and the redis-server's pid."""
    store = Store(Redis.from_url(url, timeout=30.0))
    try:
        await store.start()
        registry = IntegrationRegistry(store, SecretBox.from_passphrase(secret_key), SystemClock())
        admin = await registry.create("admin", "push bench admin")
        auth = await registry.create("auth", "push bench app")
        pid = _info_field(await store.redis.execute("INFO", "server"), "process_id")
        # Events slower than this (an fsync, a slow command) are kept for the summary.
        await store.redis.execute("CONFIG", "SET", "latency-monitor-threshold",
                                  str(LATENCY_THRESHOLD_MS))
    finally:
        await store.close()
    return ((admin.integration.ikey, admin.skey), (auth.integration.ikey, auth.skey), pid)


def _service_env(redis_url: str, secret_key: str, data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AUTHSVC_")}
    env.update({"AUTHSVC_REDIS_URL": redis_url, "AUTHSVC_SECRET_KEY": secret_key,
                "AUTHSVC_DATA_DIR": str(data_dir), "AUTHSVC_LOG_LEVEL": "warning"})
    return env


def _fleet_summary(log: Path) -> dict[str, Any]:
    """The JSON line `mobile-sim fleet` prints when its duration is over ({} if none)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                summary: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            return summary
    return {}


def _py_spy() -> str:
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        raise ChildFailed("--profile needs py-spy: .venv/bin/pip install py-spy")
    return binary


class Run:
    """One complete run in `workdir`."""

    def __init__(self, children: Children, workdir: Path, options: PushOptions,
                 log: Callable[[str], None]) -> None:
        self.children = children
        self.workdir = workdir
        self.options = options
        self.log = log

    def service(self, cert: DevCert, redis_url: str, secret_key: str) -> tuple[int, str]:
        """Start ``authsvc serve`` over TLS; its pid and base URL."""
        port, log = free_port(), self.workdir / "service.log"
        process = self.children.start(
            [sys.executable, "-m", "authsvc", "serve", "--host", HOST, "--port", str(port),
             "--tls-cert", str(cert.cert), "--tls-key", str(cert.key)],
            env=_service_env(redis_url, secret_key, self.workdir / "service"), log=log, cwd=ROOT)
        base = f"https://{HOST}:{port}"
        wait_https(process, f"{base}/healthz", cert.ca_cert, log)
        return process.pid, base

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
        population, urls = asyncio.run(seed(base, str(ca_file), admin, auth,
                                            usernames("push-", options.phones), settings))
        seconds = time.monotonic() - began
        values, pop_file = self.workdir / "activation-urls.txt", self.workdir / "population.json"
        write_values(values, urls)
        population.dump(pop_file)
        return pop_file, values, seconds

    def fleet(self, values: Path, ca_file: Path) -> tuple[subprocess.Popen[bytes], Path, float]:
        """Start the fleet and wait until every phone is activated; (process, log, seconds)."""
        options, log = self.options, self.workdir / "fleet.log"
        serve_for = (max(options.warmup, MAX_WARMUP_SECONDS) + options.duration + DRAIN_SECONDS
                     + FLEET_MARGIN_SECONDS)
        command = [sys.executable, "-m", "mobile_sim", "fleet",
                   "--values", str(values), "--ca-file", str(ca_file), "--mix", options.mix,
                   "--delay-ms", str(options.delay_ms), "--jitter-ms", str(options.jitter_ms),
                   "--duration", str(serve_for), "--state", str(self.workdir / "fleet-state.json")]
        self.log(f"activating {options.phones} phones (mobile-sim fleet; one RSA-2048 key each)")
        began = time.monotonic()
        process = self.children.start(command, log=log, cwd=ROOT)
        wait_for_line(log, FLEET_READY, process, timeout=120 + options.phones * 0.5)
        return process, log, time.monotonic() - began

    def drive(self, population: Path, pids: dict[str, int], redis_url: str,
              profile: Path | None) -> tuple[dict[str, Any], PushCpu]:
        """Run the driver; its summary (with the Redis commands sent during its measured
        window) and the CPU used meanwhile."""
        options, log = self.options, self.workdir / "driver.log"
        out = self.workdir / "driver.json"
        process = self.children.start(
            [sys.executable, "-m", "loadtests.push_driver", "--population", str(population),
             "--in-flight", str(options.in_flight), "--warmup", str(options.warmup),
             "--duration", str(options.duration), "--drain", str(DRAIN_SECONDS),
             "--max-warmup", str(MAX_WARMUP_SECONDS), "--ramp", str(options.ramp),
             "--out", str(out),
             *(["--async"] if options.run_async else [])], log=log, cwd=ROOT)
        meter = CpuWindow({**pids, "driver": process.pid})
        total = options.duration + DRAIN_SECONDS + 60
        wait_for_line(log, MEASURING, process,
                      timeout=max(options.warmup, MAX_WARMUP_SECONDS) + 60)
        meter.start()
        calls_before = redis_calls(redis_url)
        redis_command(redis_url, "LATENCY", "RESET")
        sampler = None
        if profile is not None:
            sampler = self.children.start(
                [_py_spy(), "record", "-p", str(pids["service"]), "-d", str(options.duration),
                 "-r", "250", "--nonblocking", "-f", "raw", "-o", str(profile)],
                log=self.workdir / "py-spy.log")
        wait_for_line(log, MEASURED, process, timeout=options.duration + 60)
        cpu = meter.stop()
        calls = redis_calls(redis_url) - calls_before
        calls.pop("info", None)
        stalls = redis_stalls(redis_url)
        self.log(f"measured; draining the pushes still out (at most {DRAIN_SECONDS:g} s)")
        try:
            process.wait(total)
        except subprocess.TimeoutExpired:
            raise ChildFailed(f"the driver did not finish; see {log}") from None
        if sampler is not None:
            with_timeout(sampler, 30)
            self.children.stop(sampler)
        if process.returncode != 0 or not out.exists():
            raise ChildFailed(f"the driver exited with status {process.returncode}; see {log}")
        summary: dict[str, Any] = json.loads(out.read_text())
        summary["redis_calls"] = dict(calls.most_common())
        summary["redis_stalls_ms"] = stalls
        return summary, cpu


def with_timeout(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Let a child end by itself within `seconds` (the caller stops it otherwise)."""
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        pass


def run_once(children: Children, workdir: Path, options: PushOptions, log: Callable[[str], None],
             profile: Path | None = None) -> RunResult:
    """One complete run: Redis, TLS service, enrollment, fleet, driver."""
    workdir.mkdir(parents=True)
    cert = write_dev_cert(workdir / "tls")
    redis = EmbeddedRedis(workdir / "redis")
    url = redis.start()
    run = Run(children, workdir, options, log)
    overflows_before = listen_overflows()
    try:
        key = secrets.token_urlsafe(32)
        admin, auth, redis_pid = asyncio.run(integrations(url, key))
        service_pid, base = run.service(cert, url, key)
        population, values, seed_seconds = run.enroll(base, cert.ca_cert, admin, auth)
        log(f"enrolled in {seed_seconds:.1f} s")
        fleet, fleet_log, activation_seconds = run.fleet(values, cert.ca_cert)
        log(f"fleet activated in {activation_seconds:.1f} s; driving {options.in_flight} pushes "
            f"in flight ({options.warmup} s warm-up, {options.duration} s measured)")
        driver, cpu = run.drive(population, {"service": service_pid, "redis": redis_pid,
                                             "fleet": fleet.pid}, url, profile)
        # The fleet's loop may still be behind (answers the service has decided, whose replies
        # it has not read yet): let it settle, then SIGTERM, on which the fleet prints its summary.
        time.sleep(FLEET_SETTLE_SECONDS)
        children.stop(fleet)
        fleet_summary = _fleet_summary(fleet_log)
        overflows = listen_overflows() - overflows_before
    finally:
        children.stop_all()
        redis.stop()
    figures = PushFigures.of(driver, cpu, fleet_summary, seed_seconds, activation_seconds,
                             overflows)
    return RunResult(figures, driver, fleet_summary)


def _log(message: str) -> None:
    print(f"[push-bench] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests.push_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=1000,
                        help="users, one activated phone each (1000)")
    parser.add_argument("--in-flight", type=int, default=1000,
                        help="pushes kept outstanding by the driver (1000)")
    parser.add_argument("--duration", type=int, default=15, help="seconds measured (15)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds before measuring (5)")
    parser.add_argument("--delay-ms", type=float, default=50.0,
                        help="the phones' mean answer delay (50)")
    parser.add_argument("--jitter-ms", type=float, default=10.0,
                        help="spread of that delay, a normal distribution's sigma (10)")
    parser.add_argument("--ramp", type=float, default=None, metavar="S",
                        help="start the driver's slots evenly over S seconds (default: one "
                             "second per 500 in flight); 0 starts them all at once, and the "
                             "pushes then move in step as one wave")
    parser.add_argument("--mix", default="approve=1",
                        help="the phones' answers, e.g. approve=0.9,deny=0.1 (approve=1)")
    parser.add_argument("--async", dest="run_async", action="store_true",
                        help="async=1 + auth_status long polls instead of a blocking auth")
    parser.add_argument("--runs", type=int, default=1, help="complete runs; medians reported (1)")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as JSON on stdout (the summary goes to stderr)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="sample the service with py-spy during the first run's measured "
                             "window into FILE (python -m loadtests.hotspots FILE)")
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if min(args.phones, args.in_flight, args.duration, args.runs) < 1 or args.warmup < 0:
        parser.error("--phones, --in-flight, --duration and --runs must be positive")
    if math.ceil(args.in_flight / args.phones) > 100:
        parser.error("more than 100 pushes per user in flight (push_max_outstanding is 1-100): "
                     "add phones")


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the summary (or JSON); 1 if the benchmark itself broke, 130 on Ctrl-C."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    options = PushOptions(args.phones, args.in_flight, args.duration, args.warmup, args.delay_ms,
                          args.jitter_ms, args.mix, args.run_async,
                          args.in_flight / RAMP_PER_SECOND if args.ramp is None else args.ramp)
    workdir = Path(tempfile.mkdtemp(prefix="authsvc-push-bench-"))
    keep = args.keep
    results: list[RunResult] = []
    try:
        with Children() as children:
            for number in range(1, args.runs + 1):
                _log(f"run {number} of {args.runs}")
                profile = args.profile.resolve() if args.profile and number == 1 else None
                results.append(run_once(children, workdir / f"run{number}", options, _log,
                                        profile))
                _log(f"run {number}: {results[-1].figures.pushes_per_s:,.1f} pushes/s, round trip "
                     f"p50 {results[-1].figures.round_trip_p50_ms:,.0f} ms")
    except KeyboardInterrupt:
        print("[push-bench] interrupted; child processes stopped", file=sys.stderr)
        return 130
    except (ChildFailed, EmbeddedRedisError, RedisError, RedisUnavailable, ApiError,
            OSError) as exc:
        print(f"[push-bench] error: {exc} (logs kept in {workdir})", file=sys.stderr)
        keep = True
        return 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = _options_dict(options)
    runs = [result.figures for result in results]
    text = render_text(runs, summary)
    if args.json:
        print(text, file=sys.stderr)
        print(render_json(runs, summary, [{"driver": r.driver, "fleet": r.fleet}
                                          for r in results]))
    else:
        print(text)
    return 0


def _options_dict(options: PushOptions) -> dict[str, Any]:
    return {"phones": options.phones, "in_flight": options.in_flight,
            "per_user": options.per_user, "duration": options.duration,
            "warmup": options.warmup, "delay_ms": options.delay_ms,
            "jitter_ms": options.jitter_ms, "mix": options.mix,
            "mode": "async" if options.run_async else "sync",
            "ramp": options.ramp,
            "cpus": os.cpu_count() or 0}


if __name__ == "__main__":
    raise SystemExit(main())

