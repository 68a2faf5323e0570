"""Redis memory per user and per authentication-log entry, and where it goes.

``python -m loadtests memory [--users N] [--log-entries M]`` (docs/performance.md, "Memory"):

1. a private redis-server as `authsvc serve` starts one (`EmbeddedRedis`), one auth
   integration, then N users each holding one h6 token, seeded through the service's domain
   services (`loadtests.core.seeding`); Redis ``used_memory`` after minus before, per user;
2. ``MEMORY USAGE`` of every key, grouped by kind (user ids, shard tags and token ids folded
   out of the names), per user: where the bytes go;
3. M passcode sign-ins through the service's own decision flow (the first M users' first
   codes), each writing one authentication-log entry: the stream's ``MEMORY USAGE`` per entry.

Figures on stdout (``--json`` for JSON). Nothing is timed: memory does not depend on the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from authsvc.embedded_redis import EmbeddedRedis
from loadtests.core import redisinfo
from loadtests.core.population import Person, Shape, usernames
from loadtests.core.seeding import Seeder, authlog_key, seeder
from tokens.oath import oath_code

_FOLD = ((re.compile(r"\{u:[^}]+\}"), "{u:ID}"), (re.compile(r"\{cs\d+\}"), "{csN}"),
         (re.compile(r"(token_holders|integration):.+"), r"\1:ID"),
         (re.compile(r"\}:b:\d+$"), "}:b:N"))


def kind_of(key: str) -> str:
    """The key's name with its ids folded out (``as:{u:ID}:user``)."""
    for pattern, replacement in _FOLD:
        key = pattern.sub(replacement, key)
    return key


def usage_by_kind(url: str) -> dict[str, tuple[int, int]]:
    """kind -> (keys, bytes) over every key (``MEMORY USAGE ... SAMPLES 0``)."""
    client = redis.Redis.from_url(url, decode_responses=True, protocol=2)
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    try:
        for key in client.scan_iter(count=1000):
            size = client.memory_usage(key, samples=0) or 0
            sizes[kind_of(key)] += int(size)
            counts[kind_of(key)] += 1
    finally:
        client.close()
    return {kind: (counts[kind], sizes[kind]) for kind in sizes}


async def _seed_and_sign_in(environ: dict[str, str], url: str, users: int,
                            entries: int) -> tuple[float, list[str]]:
    async with seeder(environ) as seeding:
        ikey, _ = await seeding.integration("auth", "memory")
        before = redisinfo.info_field(url, "memory", "used_memory")
        people: list[Person] = await seeding.people(usernames("m", users), Shape())
        per_user = (redisinfo.info_field(url, "memory", "used_memory") - before) / users
        results = [await _first_code(seeding, ikey, person) for person in people[:entries]]
        await seeding.settle()
    return per_user, results


async def _first_code(seeding: Seeder, ikey: str, person: Person) -> str:
    return await seeding.sign_in(ikey, person, oath_code(
        bytes.fromhex(person.tokens[0].secret_hex), 0))


def measure(users: int, entries: int) -> dict[str, Any]:
    """Seed, sign in, measure; the private Redis is removed afterwards."""
    with tempfile.TemporaryDirectory() as work:
        embedded = EmbeddedRedis(Path(work) / "redis")
        url = embedded.start()
        try:
            environ = {"AUTHSVC_REDIS_URL": url, "AUTHSVC_SECRET_KEY": secrets.token_urlsafe(32)}
            per_user, results = asyncio.run(_seed_and_sign_in(environ, url, users, entries))
            kinds = usage_by_kind(url)
            per_entry = redisinfo.bytes_per_entry(url, authlog_key(environ))
        finally:
            embedded.stop()
    return {"users": users, "used_memory_per_user": per_user,
            "memory_usage_per_user": sum(size for _, size in kinds.values()) / users,
            "by_kind": {kind: {"keys": keys, "bytes_per_user": size / users}
                        for kind, (keys, size) in sorted(kinds.items(), key=lambda i: -i[1][1])},
            "log_entries": len(results), "allowed": results.count("allow"),
            "authlog_bytes_per_entry": per_entry}


def report(figures: dict[str, Any]) -> str:
    """The figures as text."""
    lines = [f"users      {figures['users']:,} with one h6 token each",
             f"per user   {figures['used_memory_per_user']:,.0f} B (INFO used_memory delta); "
             f"{figures['memory_usage_per_user']:,.0f} B (MEMORY USAGE of every key)"]
    lines += [f"  {kind:<40} {entry['keys']:>7,} keys {entry['bytes_per_user']:8,.1f} B/user"
              for kind, entry in figures["by_kind"].items() if entry["bytes_per_user"] >= 0.05]
    lines.append(f"authlog    {figures['authlog_bytes_per_entry']:,.0f} B per entry "
                 f"({figures['log_entries']:,} entries, {figures['allowed']:,} allowed)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "python -m loadtests memory") -> int:
    """Print the memory figures."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000, help="seeded users (10000)")
    parser.add_argument("--log-entries", type=int, default=2_000,
                        help="sign-ins, each one log entry (2000; at most --users)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.users, min(args.log_entries, args.users))
    print(json.dumps(figures, indent=2) if args.json else report(figures))
    return 0
