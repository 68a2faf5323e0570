"""Throughput and latency of passcode verification, against this machine's own ceiling.

``python -m loadtests passcode [--factor hotp|yubikey|webauthn] [--users N] [--duration S]
[--connections C] [--workers N] [--cluster] [--runs R] [--json]`` (also ``python -m
loadtests.bench``)

One run, all in a fresh temporary directory:

1. a private redis-server exactly as production's embedded one (`EmbeddedRedis`: unix socket,
   AOF with ``appendfsync always``), or with ``--cluster`` a 3-master + 3-replica Redis Cluster
   on loopback (AOF, the same fsync policy; `loadtests.core.redis_under_test`) that the
   seeding, the ceiling and the service all reach through one node's URL; and N users each
   holding one h6 HOTP token (``--tokens`` for more; ``--factor yubikey``: one yk token;
   ``--factor webauthn``: one registered soft security key, `loadtests.scenarios.webauthn`),
   seeded through the service's domain services (`loadtests.core.seeding`); Redis
   ``used_memory`` before and after (summed over a cluster's masters) gives the memory per user;
2. the ceiling: `loadtests.scenarios.ceiling` (bare aiohttp, one HOTP code and one EVALSHA per
   request over the same lean client and Redis) driven by wrk with the same connections and
   duration;
3. ``python -m authsvc serve`` driven by wrk replaying pre-signed ``/auth/v2/auth`` requests
   (`loadtests.core.plan`: passcodes, HOTP or YubiKey OTP; the WebAuthn plan: assertions on
   challenges fetched just before the phase) as fast as it answers: allowed verifications per
   second, p50/p99, and the ratio to the ceiling;
4. the same service at half that rate (wrk's per-connection delay, calibrated by a short probe):
   p50/p99 when not saturated.

Every phase is preceded by a short warm-up. Targets on 2 cores: ratio >= 0.5, p99 <= 10 ms at
half the maximum rate; FAIL is reported, never raised. Children (and the cluster) are stopped
on any exit. On a cluster the service waits for one replica per decision (its default,
``AUTHSVC_REDIS_WAIT_REPLICAS=auto``) while the ceiling's EVALSHA does not wait and writes one
key, so one master: the ratio there includes what the replica round trip costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from loadtests.core import redisinfo
from loadtests.core.bench import Log, add_run_options, emit, progress, run_all
from loadtests.core.phases import (
    HOST,
    WARMUP_SECONDS,
    Options,
    ServiceDriver,
    Stack,
    full_rate,
    measure_ceiling,
    paced,
)
from loadtests.core.plan import MAX_REPLAY_SECONDS, Plan, RequestPlan, YubikeyCodes, check_spacing
from loadtests.core.population import KeyHolder, Person, Population, Shape, usernames
from loadtests.core.processes import Children
from loadtests.core.redis_under_test import CLUSTER, EMBEDDED, RedisUnderTest, running
from loadtests.core.report import Figures, Phase, Targets, render_json, render_text
from loadtests.core.seeding import authlog_key, seeder
from loadtests.core.wrk import Load
from loadtests.scenarios import webauthn
from tokens.yubikey import YubiKey

FACTORS = ("hotp", "yubikey", "webauthn")
WEBAUTHN_MAX_DURATION = 30  # challenges live 300 s; making a phase's assertions takes longer


@dataclass(frozen=True, slots=True)
class Seeded:
    """The population and Redis bytes per user; for ``--factor yubikey`` each person's
    emulated key, for ``webauthn`` each person's soft key."""

    population: Population
    memory_per_user: float
    yubikeys: tuple[YubiKey, ...] = ()
    key_holders: tuple[KeyHolder, ...] = ()


def _factor_env(options: Options) -> dict[str, str]:
    return webauthn.service_env() if options.factor == "webauthn" else {}


async def seed_measured(redis: RedisUnderTest, secret_key: str, options: Options,
                        pool: Executor | None = None) -> Seeded:
    """An auth integration and N people with `options.tokens` h6 tokens (or one yk token, or
    one soft security key registered by `pool`'s workers); Redis bytes per user."""
    environ = {"AUTHSVC_REDIS_URL": redis.url, "AUTHSVC_SECRET_KEY": secret_key,
               **_factor_env(options)}
    names = usernames("bench-", options.users)
    yubikeys: tuple[YubiKey, ...] = ()
    holders: tuple[KeyHolder, ...] = ()
    async with seeder(environ) as seeding:
        ikey, skey = await seeding.integration("auth", "load test bench")
        before = redis.used_memory()
        if options.factor == "yubikey":
            pairs = await seeding.yubikey_people(names)
            people, yubikeys = [person for person, _ in pairs], tuple(key for _, key in pairs)
        elif options.factor == "webauthn":
            if pool is None:
                raise ValueError("--factor webauthn seeds through a worker pool")
            holders = tuple(await asyncio.to_thread(webauthn.seed, pool, environ, names))
            people = [Person(holder.username, holder.user_id, ()) for holder in holders]
        else:
            people = await seeding.people(names, Shape(tokens_per_user=options.tokens))
    after = redis.used_memory()
    return Seeded(Population(ikey, skey, people), (after - before) / options.users, yubikeys,
                  holders)


def make_plan(seeded: Seeded, options: Options, pool: Executor | None) -> Plan:
    """The request sequence for `options.factor`."""
    if options.factor == "yubikey":
        return RequestPlan(seeded.population, HOST, YubikeyCodes(seeded.yubikeys))
    if options.factor == "webauthn" and pool is not None:
        return webauthn.WebauthnPlan(seeded.population, seeded.key_holders, HOST, pool)
    return RequestPlan(seeded.population, HOST)


def _holding(options: Options) -> str:
    if options.factor == "yubikey":
        return "one yk token (YubiKey OTP) each"
    if options.factor == "webauthn":
        return "one soft security key (WebAuthn, registered via SecurityKeys) each"
    return f"{options.tokens} h6 token(s) each"


def _phases(stack: Stack, plan: Plan, memory: float, log: Log, profile: Path | None) -> Figures:
    """The ceiling, the service at full rate and at half that; the run's figures."""
    options = stack.options
    log(f"ceiling: bare aiohttp + HOTP + 1 EVALSHA, {options.connections} connections")
    ceiling = measure_ceiling(stack, plan)
    log(f"ceiling: {ceiling.wrk.rate:,.0f} req/s; service at full rate")
    driver = ServiceDriver(stack, plan)
    warm = driver.replay(Load(options.connections, WARMUP_SECONDS),
                         min(ceiling.wrk.rate, plan.warm_rate_cap))
    measured_from = plan.position
    full = full_rate(driver, options, plan.warm_to_full * warm.wrk.rate, profile)
    first_visits = first_visit_share(measured_from, plan.position, options.users)
    if full.wrk.other or full.wrk.denied:
        log(f"unexpected answers ({full.wrk.denied} denied, {full.wrk.other} other); "
            f"first: {full.wrk.first_error or 'a deny'}")
    half_rate = (full.wrk.allowed_rate or full.wrk.rate) / 2
    log(f"service: {full.wrk.allowed_rate:,.0f} allowed/s; now paced at {half_rate:,.0f}/s")
    half: Phase = paced(driver, options, half_rate)
    driver.stop()
    authlog = redisinfo.bytes_per_entry(stack.redis_url, authlog_key(driver.environ))
    if isinstance(plan, webauthn.WebauthnPlan):
        log(plan.summary())
    return Figures.of(memory, ceiling, full, half_rate, half, authlog, first_visits)


def first_visit_share(start: int, end: int, users: int) -> float:
    """The share of the requests at positions [start, end) that were a user's first in the run
    (position p is user p % users): the service had not seen that user yet, so its decision
    took the cold path (docs/architecture.md). The warm-up reaches the first users only."""
    if end <= start:
        return 0.0
    return max(0, min(users, end) - start) / (end - start)


def run_once(children: Children, workdir: Path, options: Options, log: Log,
             profile: Path | None = None) -> Figures:
    """One complete run (fresh Redis, ceiling, service at full and half rate)."""
    workdir.mkdir(parents=True)
    if options.cluster:
        log("starting a 3-master + 3-replica Redis Cluster")
    with running(workdir, cluster=options.cluster, appendfsync=options.appendfsync) as redis:
        pool = webauthn.worker_pool() if options.factor == "webauthn" else None
        try:
            key = secrets.token_urlsafe(32)
            log(f"seeding {options.users} users with {_holding(options)} ({redis.label})")
            seeded = asyncio.run(seed_measured(redis, key, options, pool))
            stack = Stack(children, workdir, redis.url, redis.pids, key, options)
            return _phases(stack, make_plan(seeded, options, pool), seeded.memory_per_user,
                           log, profile)
        finally:
            children.stop_all()  # the service and the ceiling go before their Redis
            if pool is not None:
                pool.shutdown(cancel_futures=True)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--factor", choices=FACTORS, default="hotp",
        help="what the users verify with: an h6 HOTP token (the default), a YubiKey OTP (yk "
             "token) or a WebAuthn security key (soft key)")
    add("--users", type=int, default=10_000, help="seeded users (10000)")
    add("--duration", type=int, default=15, help="seconds per measured phase (15)")
    add("--connections", type=int, default=64, help="wrk connections (64)")
    add("--appendfsync", choices=["always", "everysec"], default="always",
        help="Redis AOF fsync policy; production's is always (the default); everysec shows what "
             "the disk's fsync costs")
    add("--cluster", action="store_true",
        help="run everything against a 3-master + 3-replica Redis Cluster on loopback (AOF, "
             "--appendfsync's policy) instead of the private embedded redis-server; the "
             "service is given one node's URL and waits for a replica per decision")
    add("--workers", type=int, default=1, metavar="N",
        help="authsvc serve --workers N (1); the ceiling stays one process, so the ratio "
             "compares N processes with one")
    add("--tokens", type=int, default=1,
        help="h6 tokens per user (1); codes come from the first, so every further token is one "
             "the service must rule out")
    add_run_options(parser, "sample the service with py-spy during the first full-rate phase and "
                    "write collapsed stacks to FILE (python -m loadtests hotspots FILE "
                    "summarises them); py-spy costs the service some CPU")
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not 1 <= args.duration <= MAX_REPLAY_SECONDS:
        parser.error(f"--duration must be 1..{MAX_REPLAY_SECONDS} (signed dates must stay fresh)")
    if args.connections < 1 or args.runs < 1 or args.tokens < 1:
        parser.error("--connections, --runs and --tokens must be positive")
    if args.factor != "hotp" and args.tokens != 1:
        parser.error("--tokens is for --factor hotp (the others give each user one device)")
    if args.factor == "webauthn" and args.duration > WEBAUTHN_MAX_DURATION:
        parser.error(f"--factor webauthn: --duration at most {WEBAUTHN_MAX_DURATION} (challenges "
                     "live 300 s, and making a phase's assertions takes longer than the phase)")
    try:
        check_spacing(args.users, args.connections)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests passcode") -> int:
    """Run, print the summary (or JSON); 1 if the benchmark itself broke, 130 on Ctrl-C."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    _check(parser, args)
    options = Options(args.users, args.duration, args.connections, args.appendfsync, args.tokens,
                      args.factor, args.workers, args.cluster)
    log = progress("bench")
    runs = run_all(args, "bench", lambda children, workdir, profile: run_once(
        children, workdir, options, log, profile))
    if isinstance(runs, int):
        return runs
    summary = _options_dict(options)
    emit(render_text(runs, summary, Targets()), lambda: render_json(runs, summary, Targets()),
         as_json=args.json)
    return 0


def _options_dict(options: Options) -> dict[str, int | str]:
    return {"users": options.users, "duration": options.duration,
            "connections": options.connections, "wrk_threads": 1, "cpus": os.cpu_count() or 0,
            "appendfsync": options.appendfsync, "tokens": options.tokens,
            "factor": options.factor, "workers": options.workers,
            "redis": CLUSTER if options.cluster else EMBEDDED}
