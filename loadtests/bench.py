"""Throughput and latency of passcode verification, against this machine's own ceiling.

``python -m loadtests.bench [--factor hotp|yubikey|webauthn] [--users N] [--duration S]
[--connections C] [--runs R] [--json]``

One run, all in a fresh temporary directory:

1. a private redis-server exactly as production's embedded one (`EmbeddedRedis`: unix socket,
   AOF with ``appendfsync always``), and N users each holding one h6 HOTP token (``--tokens``
   for more; ``--factor yubikey``: one yk token; ``--factor webauthn``: one registered soft
   security key, `loadtests.webauthn_plan`), seeded through the domain classes; Redis
   ``used_memory`` before and after gives the memory per user;
2. the ceiling: `loadtests.ceiling` (bare aiohttp, one EVALSHA per request over the same lean
   client and Redis) driven by wrk with the same connections and duration;
3. ``python -m authsvc serve`` driven by wrk replaying pre-signed ``/auth/v2/auth`` requests
   (`loadtests.plan`: passcodes, HOTP or YubiKey OTP; `loadtests.webauthn_plan`: assertions on
   challenges fetched just before the phase) as fast as it answers: allowed verifications per
   second, p50/p99, and the ratio to the ceiling;
4. the same service at half that rate (wrk's per-connection delay, calibrated by a short probe):
   p50/p99 when not saturated.

Every phase is preceded by a short warm-up. Targets on 2 cores: ratio >= 0.5, p99 <= 10 ms at
half the maximum rate; FAIL is reported, never raised. Children are stopped on any exit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from authsvc.crypto import SecretBox
from authsvc.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from authsvc.store import Redis, RedisError, RedisUnavailable, Store
from authsvc.store.keys import Keys
from loadtests.phases import (
    HOST,
    WARMUP_SECONDS,
    Options,
    ServiceDriver,
    Stack,
    full_rate,
    measure_ceiling,
    paced,
)
from loadtests.plan import MAX_REPLAY_SECONDS, Plan, RequestPlan, YubikeyCodes, check_spacing
from loadtests.processes import ChildFailed, Children
from loadtests.report import FACTORS, Figures, Targets, render_json, render_text
from loadtests.seed import Person, Population, Seeder, Shape, usernames
from loadtests.webauthn_plan import (
    KeyHolder,
    KeyPopulation,
    WebauthnPlan,
    seed_security_keys,
    worker_pool,
)
from loadtests.wrk import Load
from tokens.yubikey import YubiKey

WEBAUTHN_MAX_DURATION = 30  # challenges live 300 s; making a phase's assertions takes longer


@dataclass(frozen=True, slots=True)
class Seeded:
    """The population, Redis bytes per user, and the redis-server's pid; for ``--factor
    yubikey`` each person's emulated key, for ``webauthn`` each person's soft key."""

    population: Population
    memory_per_user: float
    redis_pid: int
    yubikeys: tuple[YubiKey, ...] = ()
    key_holders: tuple[KeyHolder, ...] = ()


def _info_field(info: str, name: str) -> int:
    for line in info.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.partition(":")[2])
    raise ValueError(f"INFO has no {name}")


async def seed_measured(url: str, secret_key: str, options: Options,
                        pool: Executor | None = None) -> Seeded:
    """An auth integration and N people with `options.tokens` h6 tokens (or one yk token, or
    one soft security key registered by `pool`'s workers); Redis bytes per user.

    Also applies ``--appendfsync`` (a diagnostic: production always fsyncs every write).
    """
    store = Store(Redis.from_url(url, timeout=30.0))
    users, names = options.users, usernames("bench-", options.users)
    yubikeys: tuple[YubiKey, ...] = ()
    holders: tuple[KeyHolder, ...] = ()
    try:
        await store.start()
        await store.redis.execute("CONFIG", "SET", "appendfsync", options.appendfsync)
        seeder = Seeder(store, SecretBox.from_passphrase(secret_key))
        ikey, skey = await seeder.auth_integration("load test bench")
        before = _info_field(await store.redis.execute("INFO", "memory"), "used_memory")
        if options.factor == "yubikey":
            pairs = await seeder.yubikey_people(names)
            people, yubikeys = [person for person, _ in pairs], tuple(key for _, key in pairs)
        elif options.factor == "webauthn":
            if pool is None:
                raise ValueError("--factor webauthn seeds through a worker pool")
            holders = tuple(await asyncio.to_thread(seed_security_keys, pool, url, names,
                                                    os.cpu_count() or 1))
            people = [Person(holder.username, holder.user_id, ()) for holder in holders]
        else:
            people = await seeder.people(names, Shape(tokens_per_user=options.tokens))
        after = _info_field(await store.redis.execute("INFO", "memory"), "used_memory")
        pid = _info_field(await store.redis.execute("INFO", "server"), "process_id")
    finally:
        await store.close()
    return Seeded(Population(ikey, skey, people), (after - before) / users, pid, yubikeys,
                  holders)


def make_plan(seeded: Seeded, options: Options, pool: Executor | None) -> Plan:
    """The request sequence for `options.factor`."""
    if options.factor == "yubikey":
        return RequestPlan(seeded.population, HOST, YubikeyCodes(seeded.yubikeys))
    if options.factor == "webauthn" and pool is not None:
        population = KeyPopulation(seeded.population.ikey, seeded.population.skey,
                                   list(seeded.key_holders))
        return WebauthnPlan(population, HOST, pool, os.cpu_count() or 1)
    return RequestPlan(seeded.population, HOST)


def _holding(options: Options) -> str:
    if options.factor == "yubikey":
        return "one yk token (YubiKey OTP) each"
    if options.factor == "webauthn":
        return "one soft security key (WebAuthn, registered via SecurityKeys) each"
    return f"{options.tokens} h6 token(s) each"


async def authlog_bytes_per_entry(url: str) -> float:
    """Redis's estimate of the authentication log's size, divided by its entries."""
    redis = Redis.from_url(url)
    try:
        key = Keys().authlog()
        size, entries = await redis.pipeline([("MEMORY", "USAGE", key, "SAMPLES", 0),
                                              ("XLEN", key)])
    finally:
        await redis.close()
    return int(size or 0) / entries if entries else 0.0


def run_once(children: Children, workdir: Path, options: Options, log: TextLog,
             profile: Path | None = None) -> Figures:
    """One complete run (fresh Redis, ceiling, service at full and half rate)."""
    workdir.mkdir(parents=True)
    redis = EmbeddedRedis(workdir / "redis")
    url = redis.start()
    pool = worker_pool() if options.factor == "webauthn" else None
    try:
        key = secrets.token_urlsafe(32)
        log(f"seeding {options.users} users with {_holding(options)}")
        seeded = asyncio.run(seed_measured(url, key, options, pool))
        stack = Stack(children, workdir, url, seeded.redis_pid, key, options)
        plan = make_plan(seeded, options, pool)
        log(f"ceiling: bare aiohttp + 1 EVALSHA, {options.connections} connections")
        ceiling = measure_ceiling(stack, plan)
        log(f"ceiling: {ceiling.wrk.rate:,.0f} req/s; service at full rate")
        driver = ServiceDriver(stack, plan)
        warm = driver.replay(Load(options.connections, WARMUP_SECONDS),
                             min(ceiling.wrk.rate, plan.warm_rate_cap))
        full = full_rate(driver, options, plan.warm_to_full * warm.wrk.rate, profile)
        if full.wrk.other or full.wrk.denied:
            log(f"unexpected answers ({full.wrk.denied} denied, {full.wrk.other} other); "
                f"first: {full.wrk.first_error or 'a deny'}")
        half_rate = (full.wrk.allowed_rate or full.wrk.rate) / 2
        log(f"service: {full.wrk.allowed_rate:,.0f} allowed/s; now paced at {half_rate:,.0f}/s")
        half = paced(driver, options, half_rate)
        driver.stop()
        authlog = asyncio.run(authlog_bytes_per_entry(url))
        if isinstance(plan, WebauthnPlan):
            log(f"webauthn: {plan.assertions:,} assertions (the ceiling's included) made in "
                f"{plan.assert_s:,.0f} s, challenges fetched in {plan.fetch_s:,.0f} s; the oldest "
                f"challenge was {plan.oldest_challenge_s:,.0f} s old when its phase ended (they "
                f"live 300 s{': late requests were denied' if plan.challenges_expired else ''})")
    finally:
        children.stop_all()
        redis.stop()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return Figures.of(seeded.memory_per_user, ceiling, full, half_rate, half, authlog)


class TextLog:
    """Progress lines on stderr."""

    def __call__(self, message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factor", choices=FACTORS, default="hotp",
                        help="what the users verify with: an h6 HOTP token (the default), a "
                             "YubiKey OTP (yk token) or a WebAuthn security key (soft key)")
    parser.add_argument("--users", type=int, default=10_000, help="seeded users (10000)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured phase (15)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--runs", type=int, default=1, help="complete runs; medians reported (1)")
    parser.add_argument("--appendfsync", choices=["always", "everysec"], default="always",
                        help="Redis AOF fsync policy; production's is always (the default); "
                             "everysec shows what the disk's fsync costs")
    parser.add_argument("--tokens", type=int, default=1,
                        help="h6 tokens per user (1); codes come from the first, so every further "
                             "token is one the service must rule out")
    parser.add_argument("--json", action="store_true",
                        help="print the figures as JSON on stdout (the summary goes to stderr)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="sample the service with py-spy during the first full-rate phase "
                             "and write collapsed stacks to FILE (python -m loadtests.hotspots "
                             "FILE summarises them); py-spy costs the service some CPU")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the summary (or JSON); 1 if the benchmark itself broke, 130 on Ctrl-C."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    options = Options(args.users, args.duration, args.connections, args.appendfsync, args.tokens,
                      args.factor)
    log = TextLog()
    workdir = Path(tempfile.mkdtemp(prefix="authsvc-bench-"))
    keep = args.keep
    try:
        with Children() as children:
            runs = []
            for number in range(1, args.runs + 1):
                log(f"run {number} of {args.runs}")
                profile = args.profile.resolve() if args.profile and number == 1 else None
                runs.append(run_once(children, workdir / f"run{number}", options, log, profile))
    except KeyboardInterrupt:
        print("[bench] interrupted; child processes stopped", file=sys.stderr)
        return 130
    except (ChildFailed, EmbeddedRedisError, RedisError, RedisUnavailable, OSError) as exc:
        print(f"[bench] error: {exc} (logs kept in {workdir})", file=sys.stderr)
        keep = True
        return 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    targets = Targets()
    summary = _options_dict(options)
    text = render_text(runs, summary, targets)
    if args.json:  # figures on stdout, the summary block on stderr
        print(text, file=sys.stderr)
        print(render_json(runs, summary, targets))
    else:
        print(text)
    return 0


def _options_dict(options: Options) -> dict[str, int | str]:
    return {"users": options.users, "duration": options.duration,
            "connections": options.connections, "wrk_threads": 1, "cpus": os.cpu_count() or 0,
            "appendfsync": options.appendfsync, "tokens": options.tokens,
            "factor": options.factor}


if __name__ == "__main__":
    raise SystemExit(main())
