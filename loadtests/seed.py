"""Seed a load-test population straight into the service's Redis, through the domain classes.

Each person is a user with HOTP (h6) tokens assigned and, optionally, bypass codes. The seeds
and the bypass codes are generated here, sealed and hashed with the same master key the
service uses, and written to a JSON file the load generators read: the only place the plain
secrets exist. Going through `UserDirectory`, `TokenRegistry` and `BypassIssuer` (not raw
Redis writes) keeps the records exactly what the Admin API would have stored; running many
people concurrently over the one pipelined connection keeps 10 000 people to a few seconds.

``python -m loadtests.seed --users 200 --out pop.json`` finds Redis and the master key the way
``authsvc integration create`` does: ``AUTHSVC_REDIS_URL`` (or the Redis serving
``AUTHSVC_DATA_DIR``) and ``AUTHSVC_SECRET_KEY`` (or ``DATA_DIR/secret.key``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from authsvc.app import KEY_FILE_NAME, secret_box
from authsvc.clock import SystemClock
from authsvc.crypto import SecretBox
from authsvc.domain.bypass import BypassIssuer, BypassRequest
from authsvc.domain.integrations import IntegrationRegistry
from authsvc.domain.tokens import NewToken, TokenRegistry
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.embedded_redis import running_url
from authsvc.errors import AuthsvcError
from authsvc.settings import Settings, SettingsError
from authsvc.store import Redis, RedisUnavailable, Store
from tokens.yubikey import YubiKey

SEED_BYTES = 20  # RFC 4226's recommended 160-bit HOTP secret
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SeededToken:
    """A hardware token as its owner holds it: serial and plain seed (hex)."""

    serial: str
    secret_hex: str


@dataclass(frozen=True, slots=True)
class Person:
    """One seeded user and the secrets only the load generator knows."""

    username: str
    user_id: str
    tokens: tuple[SeededToken, ...]
    bypass_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Population:
    """The auth integration's credentials and the people to sign in as."""

    ikey: str
    skey: str
    people: list[Person]

    def dump(self, path: Path) -> None:
        """Write the population as JSON (it holds secrets: mode 0600)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"ikey": self.ikey, "skey": self.skey,
                       "people": [asdict(person) for person in self.people]}, handle)

    @classmethod
    def load(cls, path: Path) -> Population:
        """Read what `dump` wrote."""
        data: dict[str, Any] = json.loads(path.read_text())
        people = [Person(raw["username"], raw["user_id"],
                         tuple(SeededToken(**token) for token in raw["tokens"]),
                         tuple(raw["bypass_codes"]))
                  for raw in data["people"]]
        return cls(data["ikey"], data["skey"], people)


@dataclass(frozen=True, slots=True)
class Shape:
    """What each person gets."""

    tokens_per_user: int = 1
    bypass_codes: int = 0


class Seeder:
    """Creates integrations and people through the domain classes."""

    def __init__(self, store: Store, box: SecretBox) -> None:
        clock = SystemClock()
        self._integrations = IntegrationRegistry(store, box, clock)
        self._users = UserDirectory(store, clock)
        self._tokens = TokenRegistry(store, box, clock)
        self._bypass = BypassIssuer(store, box, clock)

    async def auth_integration(self, name: str) -> tuple[str, str]:
        """A new auth integration's (ikey, skey)."""
        credentials = await self._integrations.create("auth", name)
        return credentials.integration.ikey, credentials.skey

    async def person(self, username: str, shape: Shape) -> Person:
        """A user holding `shape.tokens_per_user` h6 tokens and `shape.bypass_codes` codes."""
        user = await self._users.add(UserChanges(username=username))
        tokens = []
        for number in range(shape.tokens_per_user):
            seeded = SeededToken(f"{username}-{number}", secrets.token_bytes(SEED_BYTES).hex())
            token = await self._tokens.add(NewToken(type="h6", serial=seeded.serial,
                                                    secret=seeded.secret_hex))
            await self._tokens.assign(user.user_id, token.token_id)
            tokens.append(seeded)
        codes: list[str] = []
        if shape.bypass_codes:
            codes = await self._bypass.issue(user.user_id, BypassRequest(count=shape.bypass_codes))
        return Person(user.username, user.user_id, tuple(tokens), tuple(codes))

    async def yubikey_person(self, username: str) -> tuple[Person, YubiKey]:
        """A user holding one yk token, as ``add_yubikey_token`` + ``add_user_token`` make it,
        and the emulated key (`tokens.yubikey`) that types its OTPs."""
        user = await self._users.add(UserChanges(username=username))
        key = YubiKey()
        token = await self._tokens.add(NewToken(type="yk", serial=f"YK-{key.public_id}",
                                                private_id=key.private_id, aes_key=key.aes_key))
        await self._tokens.assign(user.user_id, token.token_id)
        return Person(user.username, user.user_id, ()), key

    async def people(self, names: Sequence[str], shape: Shape, *, concurrency: int = 256,
                     progress: Callable[[int], None] | None = None) -> list[Person]:
        """Everyone in `names`, `concurrency` at a time over the one connection, in order."""
        return await gather_in_order(names, lambda name: self.person(name, shape),
                                     concurrency=concurrency, progress=progress)

    async def yubikey_people(self, names: Sequence[str], *, concurrency: int = 256
                             ) -> list[tuple[Person, YubiKey]]:
        """`yubikey_person` for everyone in `names`, in order."""
        return await gather_in_order(names, self.yubikey_person, concurrency=concurrency)


async def gather_in_order(names: Sequence[str], make: Callable[[str], Awaitable[_T]], *,
                          concurrency: int = 256,
                          progress: Callable[[int], None] | None = None) -> list[_T]:
    """``make(name)`` for every name, `concurrency` at a time, results in the order of `names`."""
    done: list[_T | None] = [None] * len(names)
    cursor = iter(range(len(names)))

    async def worker() -> None:
        for index in cursor:
            done[index] = await make(names[index])
            if progress is not None:
                progress(index)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(names))))))
    return [result for result in done if result is not None]


def usernames(prefix: str, count: int) -> list[str]:
    """``<prefix>000000``, ``<prefix>000001``, ..."""
    return [f"{prefix}{index:06d}" for index in range(count)]


def _store_and_box(environ: dict[str, str], redis_url: str | None) -> tuple[str, SecretBox]:
    """Redis and the master key, found as the ``authsvc`` CLI finds them."""
    settings = Settings.from_env(environ, redis_url=redis_url)
    url = settings.redis_url or running_url(settings.data_dir)
    if url is None:
        raise SettingsError("no Redis: set AUTHSVC_REDIS_URL, or run `authsvc serve` with the "
                            "same AUTHSVC_DATA_DIR first")
    if settings.secret_key is None and not (settings.data_dir / KEY_FILE_NAME).exists():
        # secret_box() would create a fresh key, and the service could not open our seeds.
        raise SettingsError(f"no AUTHSVC_SECRET_KEY and no {settings.data_dir / KEY_FILE_NAME}: "
                            "give the service's master key")
    return url, secret_box(settings)


async def seed(url: str, box: SecretBox, *, prefix: str, count: int, shape: Shape) -> Population:
    """An auth integration and `count` people named ``<prefix>NNNNNN``."""
    store = Store(Redis.from_url(url, timeout=30.0))
    try:
        await store.start()
        seeder = Seeder(store, box)
        ikey, skey = await seeder.auth_integration(f"load test {prefix}")
        people = await seeder.people(usernames(prefix, count), shape)
    finally:
        await store.close()
    return Population(ikey, skey, people)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loadtests.seed``: seed and write the population file."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.seed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="people to create (default 100)")
    parser.add_argument("--tokens-per-user", type=int, default=1, help="h6 tokens each (1)")
    parser.add_argument("--bypass-codes", type=int, default=0, help="bypass codes each (0-10)")
    parser.add_argument("--prefix", default=None, help="username prefix (default lt<random>-)")
    parser.add_argument("--redis-url", default=None, help="overrides AUTHSVC_REDIS_URL")
    parser.add_argument("--out", type=Path, required=True, help="population JSON to write")
    args = parser.parse_args(argv)
    prefix = args.prefix or f"lt{secrets.token_hex(3)}-"
    try:
        url, box = _store_and_box(dict(os.environ), args.redis_url)
        population = asyncio.run(seed(url, box, prefix=prefix, count=args.users,
                                      shape=Shape(args.tokens_per_user, args.bypass_codes)))
    except (SettingsError, AuthsvcError, RedisUnavailable, OSError) as exc:
        print(f"loadtests.seed: error: {exc}", file=sys.stderr)
        return 1
    population.dump(args.out)
    print(f"seeded {len(population.people)} users named {prefix}NNNNNN; auth integration "
          f"{population.ikey}; wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
