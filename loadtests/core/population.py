"""Who the load tests sign in as, as files the load generators read; and making many at once.

`Population` (passcode people: h6 tokens, bypass codes; ``python -m loadtests.seed --out``),
`KeyHolder` (a registered soft security key and its counter) and `PushPopulation` (people with
one activated phone; ``python -m loadtests.push_seed --out``). The files hold the only copies of
the plain secrets, so they are written mode 0600. Nothing here knows the service's internals:
`loadtests.core.seeding` creates the people these records describe.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")
_I = TypeVar("_I")


def write_private(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` to `path`, readable by its owner only (it holds secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(lines)


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
class Shape:
    """What each person gets."""

    tokens_per_user: int = 1
    bypass_codes: int = 0


@dataclass(frozen=True, slots=True)
class Population:
    """The auth integration's credentials and the people to sign in as."""

    ikey: str
    skey: str
    people: list[Person]

    def dump(self, path: Path) -> None:
        """Write the population as JSON (it holds secrets: mode 0600)."""
        write_private(path, [json.dumps({"ikey": self.ikey, "skey": self.skey,
                                         "people": [asdict(person) for person in self.people]})])

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
class KeyHolder:
    """One seeded user, their credential id and the soft key's secret and counter after seeding."""

    username: str
    user_id: str
    credential_id: str
    secret: bytes
    counter: int


@dataclass(frozen=True, slots=True)
class PushPopulation:
    """Who to push to, and how: the service, the CA to trust, the auth integration."""

    base_url: str
    ca_file: str
    ikey: str
    skey: str
    usernames: list[str]

    def dump(self, path: Path) -> None:
        """Write as JSON (it holds the auth integration's secret key: mode 0600)."""
        write_private(path, [json.dumps(asdict(self))])

    @classmethod
    def load(cls, path: Path) -> PushPopulation:
        """Read what `dump` wrote."""
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(str(data["base_url"]), str(data["ca_file"]), str(data["ikey"]),
                   str(data["skey"]), [str(name) for name in data["usernames"]])


def usernames(prefix: str, count: int) -> list[str]:
    """``<prefix>000000``, ``<prefix>000001``, ..."""
    return [f"{prefix}{index:06d}" for index in range(count)]


async def gather_in_order(items: Sequence[_I], make: Callable[[_I], Awaitable[_T]], *,
                          concurrency: int = 256,
                          progress: Callable[[int], None] | None = None) -> list[_T]:
    """``make(item)`` for every item, `concurrency` at a time, results in the order of `items`."""
    done: list[_T | None] = [None] * len(items)
    cursor = iter(range(len(items)))

    async def worker() -> None:
        for index in cursor:
            done[index] = await make(items[index])
            if progress is not None:
                progress(index)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(items))))))
    return [result for result in done if result is not None]


def chunks(items: Sequence[_I], workers: int, per_worker: int = 4) -> list[list[_I]]:
    """`items` cut into about ``workers * per_worker`` consecutive chunks (for a process pool)."""
    count = max(1, min(len(items), workers * per_worker))
    size = math.ceil(len(items) / count)
    return [list(items[start:start + size]) for start in range(0, len(items), size)]
