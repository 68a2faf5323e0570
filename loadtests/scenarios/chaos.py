"""Chaos: passcode and push sign-ins while Redis is killed and restarted and a service process
is killed and restarted; no decision may be lost.

``python -m loadtests chaos [--duration 60] [--users 12] [--phones 6] [--redis-down 2]
[--json]``. In a fresh temporary directory: a redis-server with AOF and ``appendfsync always``
(as the embedded one runs), two ``authsvc serve`` processes over HTTPS sharing it, users with
an HOTP token and single-use bypass codes, users with a phone answered by ``mobile-sim fleet``
(approve, 50 ms), and the traffic of `loadtests.core.chaos_load` spread over both processes.
At 20% of the duration Redis gets SIGKILL and is started again ``--redis-down`` seconds later;
at 55% the first service process gets SIGKILL and is started again on its port. Then every
accepted code is replayed and every approved push read again (`check_nothing_lost`).

Printed: decisions made, decisions lost (must be 0), requests failed (by cause), and recovery
times: after the Redis kill, the seconds until the next decision (and from Redis's restart);
after the process kill, until it answers /readyz again. Exit status 1 when a decision was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from authsvc.tls import DevCert, write_dev_cert
from loadtests.core.chaos_load import Ledger, Traffic, check_nothing_lost
from loadtests.core.fleet import Answers, start_fleet
from loadtests.core.population import Person, Shape, usernames, write_private
from loadtests.core.processes import ChildFailed, Children, on_a_free_port, wait_healthy
from loadtests.core.seeding import enroll_phones, seeder
from loadtests.core.service import HOST, ROOT, service_env
from loadtests.core.signing import DuoApi, client_ssl

# The chaos itself must meet no rate limit and no lockout (a replayed code answers deny; a
# lockout would hide a code that is accepted again, so the threshold is set out of reach).
UNLIMITED = {f"AUTHSVC_RATE_LIMIT_{name}": "off" for name in (
    "USERNAME", "FAILED_AUTH_INTEGRATION", "FAILED_AUTH_IP", "UNKNOWN_USERS")}
ACCOUNT = {"lockout_threshold": "9999", "push_max_outstanding": "5"}


@dataclass
class Timeline:
    """When each fault happened (monotonic seconds) and how long recovery took."""

    events: list[tuple[str, float]] = field(default_factory=list)
    process_ready_s: float | None = None

    def mark(self, name: str) -> float:
        now = time.monotonic()
        self.events.append((name, now))
        return now

    def at(self, name: str) -> float:
        return next(when for event, when in self.events if event == name)


class RedisChild:
    """redis-server with AOF fsync'ed on every write, killable and restartable."""

    def __init__(self, children: Children, workdir: Path) -> None:
        self.children, self.dir, self.port = children, workdir / "redis", 0
        self.dir.mkdir()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        """The first time on a free port (another if it was taken before the bind), after a
        kill on the same one: the services reconnect to it."""
        if self.port:
            self._start_on(self.port)
        else:
            on_a_free_port(self._start_on, self.dir / "redis.log")

    def _start_on(self, port: int) -> None:
        log = self.dir / "redis.log"
        self.port, self.process = port, self.children.start(
            ["redis-server", "--bind", HOST, "--port", str(port), "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""], log=log)
        deadline = time.monotonic() + 30
        while not self._pong():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ChildFailed(f"redis-server on port {port} did not start; see {log}")
            time.sleep(0.02)

    def kill(self) -> None:
        assert self.process is not None  # noqa: S101 - started first
        self.process.kill()  # SIGKILL: no shutdown, no final fsync
        self.process.wait()
        self.children.stop(self.process)

    def _pong(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class ServiceChild:
    """``authsvc serve`` over HTTPS, killable and restartable on the port it first bound."""

    def __init__(self, children: Children, workdir: Path, env: dict[str, str],
                 cert: DevCert, number: int) -> None:
        self.children, self.env, self.cert = children, env, cert
        self.port, self.log = 0, workdir / f"service-{number}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self) -> None:
        """The first time on a free port (another if it was taken before the bind), after a
        kill on the same one: the clients' base URLs stay valid."""
        if self.port:
            self._start_on(self.port)
        else:
            on_a_free_port(self._start_on, self.log)

    def _start_on(self, port: int) -> None:
        self.port, self.process = port, self.children.start(
            [sys.executable, "-m", "authsvc", "serve", "--host", HOST, "--port", str(port),
             "--tls-cert", str(self.cert.cert), "--tls-key", str(self.cert.key)],
            env=self.env, log=self.log, cwd=ROOT)
        wait_healthy(self.process, f"{self.base_url}/readyz", self.log,
                     ca_file=self.cert.ca_cert, timeout=60)

    def kill(self) -> None:
        assert self.process is not None  # noqa: S101 - started first
        self.process.kill()
        self.process.wait()
        self.children.stop(self.process)


def chaos(redis: RedisChild, victim: ServiceChild, duration: float, redis_down: float,
          timeline: Timeline) -> None:
    """The faults, on their schedule (runs in a thread beside the traffic)."""
    began = time.monotonic()
    time.sleep(max(0.0, began + 0.2 * duration - time.monotonic()))
    timeline.mark("redis killed")
    redis.kill()
    time.sleep(redis_down)
    redis.start()
    timeline.mark("redis restarted")
    time.sleep(max(0.0, began + 0.55 * duration - time.monotonic()))
    killed = timeline.mark("process killed")
    victim.kill()
    victim.start()
    timeline.process_ready_s = time.monotonic() - killed
    time.sleep(max(0.0, began + duration - time.monotonic()))


@dataclass(frozen=True, slots=True)
class Options:
    duration: float
    users: int
    phones: int
    redis_down: float


async def _seed(env: dict[str, str], options: Options
                ) -> tuple[tuple[str, str], tuple[str, str], list[Person]]:
    async with seeder(env) as seeding:
        admin = await seeding.integration("admin", "chaos admin")
        auth = await seeding.integration("auth", "chaos app")
        people = await seeding.people(usernames("chaos-", options.users),
                                      Shape(tokens_per_user=1, bypass_codes=10))
    return admin, auth, people


async def _traffic(bases: Sequence[str], cert: DevCert, auth: tuple[str, str],
                   people: Sequence[Person], phones: Sequence[str], run_faults: Any
                   ) -> tuple[Ledger, dict[str, Any]]:
    ledger = Ledger()
    async with aiohttp.ClientSession() as session:
        apis = [DuoApi(session, base, *auth, client_ssl(str(cert.ca_cert))) for base in bases]
        traffic = Traffic(apis, ledger)
        users = [asyncio.create_task(traffic.passcode_user(person)) for person in people]
        users += [asyncio.create_task(traffic.push_user(name)) for name in phones]
        await asyncio.to_thread(run_faults)
        traffic.stop.set()
        await asyncio.gather(*users)
        secrets_ = {p.username: bytes.fromhex(p.tokens[0].secret_hex) for p in people}
        return ledger, await check_nothing_lost(apis, ledger, secrets_)


def _figures(ledger: Ledger, lost: dict[str, Any], timeline: Timeline) -> dict[str, Any]:
    after_kill = ledger.first_decision_after(timeline.at("redis killed"))
    restarted = timeline.at("redis restarted")
    return {
        "decisions_made": sum(ledger.made.values()), "by_kind": dict(ledger.made),
        "decisions_lost": lost["replays_accepted"] + lost["pushes_missing"], **lost,
        "requests_failed": sum(ledger.failed.values()), "failed_by_cause": dict(ledger.failed),
        "redis_outage_s": None if after_kill is None else round(
            after_kill - timeline.at("redis killed"), 2),
        "redis_recovery_s": None if after_kill is None else round(
            max(0.0, after_kill - restarted), 2),
        "process_restart_s": None if timeline.process_ready_s is None else round(
            timeline.process_ready_s, 2),
    }


def run(options: Options, workdir: Path, log: Any) -> dict[str, Any]:
    """One chaos run in `workdir`; its figures."""
    with Children() as children:
        cert = write_dev_cert(workdir / "tls")
        redis = RedisChild(children, workdir)
        redis.start()
        env = service_env(redis.url, secrets.token_hex(32), workdir / "data", UNLIMITED)
        services = [ServiceChild(children, workdir, env, cert, number) for number in (1, 2)]
        for service in services:
            service.start()
        log(f"redis on {redis.port}, services on {[s.port for s in services]}; seeding")
        admin, auth, people = asyncio.run(_seed(env, options))
        names = usernames("chaos-phone-", options.phones)
        _, urls = asyncio.run(enroll_phones(services[1].base_url, str(cert.ca_cert), admin, auth,
                                            names, ACCOUNT))
        values = workdir / "activation-urls.txt"
        write_private(values, (f"{url}\n" for url in urls))
        start_fleet(children, workdir, values, cert.ca_cert,
                    answers=Answers("approve=1", 50.0, 10.0), phones=options.phones,
                    serve_for=options.duration + 120)
        log(f"traffic for {options.duration:.0f} s: {options.users} passcode users, "
            f"{options.phones} push users; Redis killed at 20%, a process at 55%")
        timeline = Timeline()
        ledger, lost = asyncio.run(_traffic(
            [s.base_url for s in services], cert, auth, people, names,
            lambda: chaos(redis, services[0], options.duration, options.redis_down, timeline)))
        return _figures(ledger, lost, timeline)


def render(figures: dict[str, Any]) -> str:
    """The human summary."""
    return "\n".join([
        "== authsvc chaos run",
        f"decisions made:   {figures['decisions_made']}  {figures['by_kind']}",
        f"decisions lost:   {figures['decisions_lost']}  ({figures['codes_replayed']} accepted "
        f"codes replayed, {figures['replays_accepted']} accepted again, "
        f"{figures['replays_skipped']} not replayed: equal to a code still to come; "
        f"{figures['pushes_checked']} approved pushes read again, "
        f"{figures['pushes_missing']} missing)",
        f"requests failed:  {figures['requests_failed']}  {figures['failed_by_cause']}",
        f"recovery:         Redis kill -9 -> next decision {figures['redis_outage_s']} s "
        f"({figures['redis_recovery_s']} s after Redis was back); process kill -9 -> "
        f"ready again {figures['process_restart_s']} s",
        *(f"LOST: {line}" for line in figures["lost"]),
    ])


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests chaos") -> int:
    """Entry point: one run, the figures, exit 1 if a decision was lost."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic")
    parser.add_argument("--users", type=int, default=12, help="users signing in by passcode")
    parser.add_argument("--phones", type=int, default=6, help="users signing in by push")
    parser.add_argument("--redis-down", type=float, default=2.0,
                        help="seconds between killing Redis and starting it again")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.duration < 5 or args.users < 1 or args.phones < 1:
        parser.error("--duration is at least 5 s, --users and --phones at least 1")
    options = Options(args.duration, args.users, args.phones, args.redis_down)
    with tempfile.TemporaryDirectory(prefix="authsvc-chaos-") as tmp:
        figures = run(options, Path(tmp), lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(figures) if args.json else render(figures), flush=True)
    return 1 if figures["decisions_lost"] else 0
