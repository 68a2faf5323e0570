"""WebAuthn for the bench: users with one soft security key each, and pre-signed assertions.

Seeding (`seed_security_keys`): every user is created with `UserDirectory` and registers one
`tokens.fido.SoftAuthenticator` credential through the service's own registration path,
`SecurityKeys.registration_options` -> `tokens.webauthn_client.register` (python-fido2's
Fido2Client driving the soft key, origin `ORIGIN`) -> `SecurityKeys.register` (py_webauthn's
verification, then the store): what ``/portal/self/webauthn/begin`` and ``.../finish`` run
after the portal's login and CSRF checks. The service is started with
``AUTHSVC_WEBAUTHN_RP_ID``/``AUTHSVC_WEBAUTHN_ORIGINS`` naming the same RP id and origin, so it
verifies what the key signs. The Auth API is HMAC-signed over plain HTTP; the origin is only a
string in the client data.

Requests (`WebauthnPlan`): the same endless round-robin sequence as the passcode plan. Before a
phase, one challenge per planned request is fetched with the documented call (``POST
/auth/v2/webauthn/options``, signed as duo_client signs), then each user's assertions are made
in position order with `tokens.webauthn_client.authenticate` (each login moves the soft key's
counter by 2: Fido2Client's ``up: false`` pre-flight is a signature too), and the lines are
signed with the Date of the moment they are written. wrk replays only ``POST /auth/v2/auth
factor=webauthn assertion=...``. Challenges are single use and live 300 s: a slice is fetched
just before its phase, and `WebauthnPlan.oldest_challenge_s` says how old the oldest one was when
its phase ended.

The soft key's ceremonies run in worker processes (one per core; the service is idle
meanwhile), with one load-generator-side shortcut: python-fido2 2.2 calls
``typing.get_type_hints`` on its dataclasses for every CTAP message it parses (about 5 ms of a
7.6 ms login); `fast_fido2` memoises it per class. The messages and signatures are unchanged.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import math
import os
import time
import typing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import aiohttp
import fido2.utils
import webauthn
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from authsvc.clock import SystemClock
from authsvc.domain.security_keys import RelyingParty, SecurityKeys
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.services import relying_party
from authsvc.settings import Settings
from authsvc.store import Redis, Store
from authsvc.store.security_keys import CHALLENGE_TTL_S
from loadtests.processes import ChildFailed
from loadtests.seed import gather_in_order
from loadtests.signing import AUTH_PATH, WEBAUTHN_OPTIONS_PATH, signed_post, webauthn_params
from tokens.fido import SoftAuthenticator
from tokens.webauthn_client import authenticate, register

RP_ID = "bench.example"
ORIGIN = f"https://{RP_ID}"
KEY_NAME = "bench key"
HEADROOM = 1.25  # assertions cost ~1.5 ms each to make: write less spare than for passcodes
WARM_TO_FULL = 1.2
WARM_RATE_CAP = 2_500.0  # the warm-up's file is sized for at most this rate
CEILING_LINES = 2_000  # the ceiling app wraps its file and checks nothing
FETCH_CONNECTIONS = 32
CHUNKS_PER_WORKER = 4


def service_env() -> dict[str, str]:
    """What the service needs to accept the soft keys' assertions."""
    return {"AUTHSVC_WEBAUTHN_RP_ID": RP_ID, "AUTHSVC_WEBAUTHN_ORIGINS": ORIGIN}


def bench_relying_party() -> RelyingParty:
    """The RelyingParty the service builds from `service_env` (its base URL only sets the AppID)."""
    return relying_party(Settings.from_env(service_env()), "http://127.0.0.1")


def fast_fido2() -> None:
    """Memoise python-fido2's per-message ``get_type_hints`` (a pure function of the class)."""
    module: Any = fido2.utils
    if not hasattr(module.get_type_hints, "cache_info"):
        module.get_type_hints = functools.lru_cache(maxsize=None)(typing.get_type_hints)


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """One seeded user, their credential id and the soft key's secret and counter after seeding."""

    username: str
    user_id: str
    credential_id: str
    secret: bytes
    counter: int


@dataclass(frozen=True, slots=True)
class KeyPopulation:
    """The auth integration's credentials and the key holders."""

    ikey: str
    skey: str
    people: list[KeyHolder]


def worker_pool() -> ProcessPoolExecutor:
    """One process per core for the soft keys' ceremonies (spawned: no inherited state)."""
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=get_context("spawn"),
                               initializer=fast_fido2)


def _chunks(items: Sequence[Any], pool_size: int) -> list[list[Any]]:
    count = max(1, min(len(items), pool_size * CHUNKS_PER_WORKER))
    size = math.ceil(len(items) / count)
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


# --- seeding ---------------------------------------------------------------------------------

async def _seed_async(redis_url: str, names: Sequence[str]) -> list[KeyHolder]:
    store = Store(Redis.from_url(redis_url, timeout=30.0))
    clock = SystemClock()
    users, keys = UserDirectory(store, clock), SecurityKeys(store, clock, bench_relying_party())

    async def holder(name: str) -> KeyHolder:
        user = await users.add(UserChanges(username=name))
        device = SoftAuthenticator()
        options = await keys.registration_options(user.user_id, user.username)
        credential = register(device, options, ORIGIN)
        await keys.register(user.user_id, credential, KEY_NAME)
        return KeyHolder(user.username, user.user_id, str(credential["id"]), device.secret,
                         device.counter)

    try:
        await store.start()
        return await gather_in_order(names, holder, concurrency=8)
    finally:
        await store.close()


def _seed_chunk(redis_url: str, names: list[str]) -> list[KeyHolder]:
    return asyncio.run(_seed_async(redis_url, names))


def seed_security_keys(pool: Executor, redis_url: str, names: Sequence[str],
                       pool_size: int) -> list[KeyHolder]:
    """Users named `names`, each with one registered soft-key credential (worker processes)."""
    chunks = _chunks(names, pool_size)
    holders: list[KeyHolder] = []
    for part in pool.map(_seed_chunk, [redis_url] * len(chunks), chunks):
        holders.extend(part)
    return holders


# --- assertions -------------------------------------------------------------------------------

Job = tuple[int, bytes, int, list[str]]  # user, key secret, counter, options (JSON) in order
Done = tuple[int, int, list[str]]  # user, counter afterwards, assertions (compact JSON)


def _assert_chunk(jobs: list[Job]) -> list[Done]:
    done = []
    for user, secret, counter, options in jobs:
        device = SoftAuthenticator.from_secret(secret, counter=counter)
        made = [json.dumps(authenticate(device, one, ORIGIN), separators=(",", ":"))
                for one in options]
        done.append((user, device.counter, made))
    return done


def local_options(credential_id: str) -> str:
    """Request options as the service makes them, with a challenge it never issued (ceiling)."""
    options = webauthn.generate_authentication_options(
        rp_id=RP_ID, allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential_id))],
        user_verification=UserVerificationRequirement.DISCOURAGED)
    return webauthn.options_to_json(options)


async def fetch_options(base_url: str, ikey: str, skey: str, host: str,
                        usernames: Sequence[str]) -> list[str]:
    """``POST /auth/v2/webauthn/options`` once per name, `FETCH_CONNECTIONS` at a time: the
    options (JSON) in the order of `usernames`."""
    connector = aiohttp.TCPConnector(limit=FETCH_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def fetch(name: str) -> str:
            signed = signed_post(ikey=ikey, skey=skey, host=host, path=WEBAUTHN_OPTIONS_PATH,
                                 params={"username": name})
            async with session.post(base_url + WEBAUTHN_OPTIONS_PATH, data=signed.body,
                                    headers=signed.headers) as reply:
                answer: dict[str, Any] = await reply.json(content_type=None)
            if reply.status != 200 or answer.get("stat") != "OK":
                raise ChildFailed(f"{WEBAUTHN_OPTIONS_PATH} for {name}: {reply.status} {answer}")
            return json.dumps(answer["response"]["options"], separators=(",", ":"))

        return await gather_in_order(usernames, fetch, concurrency=FETCH_CONNECTIONS)


class WebauthnPlan:
    """Security-key requests: the `loadtests.plan.Plan` the phases replay for ``--factor webauthn``."""

    headroom = HEADROOM
    warm_to_full = WARM_TO_FULL
    warm_rate_cap = WARM_RATE_CAP

    def __init__(self, population: KeyPopulation, host: str, pool: Executor,
                 pool_size: int) -> None:
        if not population.people:
            raise ValueError("the population is empty")
        self.population = population
        self.host = host
        self.position = 0
        self._pool, self._pool_size = pool, pool_size
        self._counters = [holder.counter for holder in population.people]
        self._base_url: str | None = None
        self._fetched_at: float | None = None
        self.oldest_challenge_s = 0.0
        self.fetch_s = 0.0  # seconds spent fetching challenges
        self.assert_s = 0.0  # seconds spent making assertions and writing the lines
        self.assertions = 0

    def service_env(self) -> dict[str, str]:
        return service_env()

    def service_started(self, base_url: str) -> None:
        self._base_url = base_url

    def write(self, path: Path, count: int) -> None:
        """Fetch `count` challenges, make the assertions in order, sign and write the lines."""
        if self._base_url is None:
            raise ChildFailed("the WebAuthn plan needs the service's URL before it can write")
        users = self._users(count)
        people = self.population.people
        started = time.monotonic()
        options = asyncio.run(fetch_options(self._base_url, self.population.ikey,
                                            self.population.skey, self.host,
                                            [people[user].username for user in users]))
        self._fetched_at = started
        fetched = time.monotonic()
        self._write_lines(path, users, self._assertions(users, options))
        self.fetch_s += fetched - started
        self.assert_s += time.monotonic() - fetched

    def write_ceiling(self, path: Path, count: int) -> None:
        """Requests of the same shape, on challenges nobody issued (the ceiling checks nothing)."""
        started = time.monotonic()
        users = self._users(min(count, CEILING_LINES))
        people = self.population.people
        options = [local_options(people[user].credential_id) for user in users]
        self._write_lines(path, users, self._assertions(users, options))
        self.assert_s += time.monotonic() - started

    def consumed(self, lines: int) -> None:
        """Move past what a phase took; note how old its challenges were by its end."""
        self.position += lines
        if self._fetched_at is not None:
            age = time.monotonic() - self._fetched_at
            self.oldest_challenge_s = max(self.oldest_challenge_s, age)
            self._fetched_at = None

    @property
    def challenges_expired(self) -> bool:
        """Whether a phase ran past its challenges' lifetime (its late requests are denied)."""
        return self.oldest_challenge_s >= CHALLENGE_TTL_S

    def _users(self, count: int) -> list[int]:
        total = len(self.population.people)
        return [position % total for position in range(self.position, self.position + count)]

    def _assertions(self, users: list[int], options: list[str]) -> list[str]:
        """One assertion per line, each user's made in line order by one worker."""
        lines_of: dict[int, list[int]] = {}
        for line, user in enumerate(users):
            lines_of.setdefault(user, []).append(line)
        people = self.population.people
        jobs: list[Job] = [(user, people[user].secret, self._counters[user],
                            [options[line] for line in lines]) for user, lines in lines_of.items()]
        made: list[str] = [""] * len(users)
        self.assertions += len(users)
        for part in self._pool.map(_assert_chunk, _chunks(jobs, self._pool_size)):
            for user, counter, assertions in part:
                self._counters[user] = counter
                for line, assertion in zip(lines_of[user], assertions, strict=True):
                    made[line] = assertion
        return made

    def _write_lines(self, path: Path, users: list[int], assertions: list[str]) -> None:
        date = email.utils.formatdate()
        people, ikey, skey = self.population.people, self.population.ikey, self.population.skey
        with path.open("w") as out:
            for user, assertion in zip(users, assertions, strict=True):
                signed = signed_post(ikey=ikey, skey=skey, host=self.host, path=AUTH_PATH,
                                     params=webauthn_params(people[user].username, assertion),
                                     date=date)
                out.write(f"{signed.headers['Authorization']}\t{date}\t{signed.body}\n")
