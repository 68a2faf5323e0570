"""WebAuthn for the passcode bench (``--factor webauthn``): soft security keys and their assertions.

Seeding (`seed`): every user registers one `tokens.fido.SoftAuthenticator` credential through
the service's own registration path (`loadtests.core.seeding`: the security-key service's
registration options -> `tokens.webauthn_client.register`, python-fido2's Fido2Client driving
the soft key at origin `ORIGIN` -> the service's check and store), what the self-service
portal's ``webauthn/begin`` and ``finish`` run after its login. The service is started with
``AUTHSVC_WEBAUTHN_RP_ID``/``AUTHSVC_WEBAUTHN_ORIGINS`` naming the same RP id and origin
(`service_env`), so it verifies what the key signs. The Auth API is HMAC-signed over plain HTTP;
the origin is only a string in the client data.

Requests (`WebauthnPlan`): the same endless round-robin sequence as the passcode plan. Before a
phase, one challenge per planned request is fetched with the documented call (``POST
/auth/v2/webauthn/options``, signed as duo_client signs), then each user's assertions are made
in position order with `tokens.webauthn_client.authenticate` (each login moves the soft key's
counter by 2: Fido2Client's ``up: false`` pre-flight is a signature too), and the lines are
signed with the Date of the moment they are written. wrk replays only ``POST /auth/v2/auth
factor=webauthn assertion=...``. Challenges are single use and live 5 minutes (docs/api.md): a
slice is fetched just before its phase, and `WebauthnPlan.oldest_challenge_s` says how old the
oldest one was when its phase ended.

The soft key's ceremonies run in worker processes (one per core; the service is idle
meanwhile), with one load-generator-side shortcut: python-fido2 2.2 calls
``typing.get_type_hints`` on its dataclasses for every CTAP message it parses (about 5 ms of a
7.6 ms login); `fast_fido2` memoises it per class. The messages and signatures are unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
import typing
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import aiohttp
import fido2.utils
import webauthn
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from loadtests.core.plan import write_signed
from loadtests.core.population import KeyHolder, Population, chunks, gather_in_order
from loadtests.core.seeding import seed_security_keys
from loadtests.core.signing import WEBAUTHN_OPTIONS_PATH, DuoApi, webauthn_params
from tokens.fido import SoftAuthenticator
from tokens.webauthn_client import authenticate

RP_ID = "bench.example"
ORIGIN = f"https://{RP_ID}"
CHALLENGE_TTL_S = 300  # "the challenge is single-use and lives 5 minutes" (docs/api.md)
HEADROOM = 1.25  # assertions cost ~1.5 ms each to make: write less spare than for passcodes
WARM_TO_FULL = 1.2
WARM_RATE_CAP = 2_500.0  # the warm-up's file is sized for at most this rate
CEILING_LINES = 2_000  # the ceiling app wraps its file and checks nothing
FETCH_CONNECTIONS = 32


def service_env() -> dict[str, str]:
    """What the service needs to accept the soft keys' assertions."""
    return {"AUTHSVC_WEBAUTHN_RP_ID": RP_ID, "AUTHSVC_WEBAUTHN_ORIGINS": ORIGIN}


def fast_fido2() -> None:
    """Memoise python-fido2's per-message ``get_type_hints`` (a pure function of the class)."""
    module: Any = fido2.utils
    if not hasattr(module.get_type_hints, "cache_info"):
        module.get_type_hints = functools.lru_cache(maxsize=None)(typing.get_type_hints)


def worker_pool() -> ProcessPoolExecutor:
    """One process per core for the soft keys' ceremonies (spawned: no inherited state)."""
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=get_context("spawn"),
                               initializer=fast_fido2)


def seed(pool: Executor, environ: Mapping[str, str], names: Sequence[str]) -> list[KeyHolder]:
    """Users named `names`, each with one registered soft key (see the module docstring)."""
    return seed_security_keys(pool, os.cpu_count() or 1, environ, names, ORIGIN)


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


async def fetch_options(base_url: str, ikey: str, skey: str, usernames: Sequence[str]) -> list[str]:
    """``POST /auth/v2/webauthn/options`` once per name, `FETCH_CONNECTIONS` at a time: the
    options (JSON) in the order of `usernames` (ApiError if one is refused)."""
    connector = aiohttp.TCPConnector(limit=FETCH_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        api = DuoApi(session, base_url, ikey, skey)

        async def fetch(name: str) -> str:
            answer = await api.post(WEBAUTHN_OPTIONS_PATH, {"username": name})
            return json.dumps(answer["options"], separators=(",", ":"))

        return await gather_in_order(usernames, fetch, concurrency=FETCH_CONNECTIONS)


class WebauthnPlan:
    """Security-key requests: the `loadtests.core.plan.Plan` of ``--factor webauthn``."""

    headroom = HEADROOM
    warm_to_full = WARM_TO_FULL
    warm_rate_cap = WARM_RATE_CAP

    def __init__(self, population: Population, holders: Sequence[KeyHolder], host: str,
                 pool: Executor) -> None:
        if not holders:
            raise ValueError("the population is empty")
        self.population, self.holders, self.host = population, list(holders), host
        self.position = 0
        self._pool = pool
        self._counters = [holder.counter for holder in holders]
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
            raise ValueError("the WebAuthn plan needs the service's URL before it can write")
        users = self._users(count)
        started = time.monotonic()
        options = asyncio.run(fetch_options(
            self._base_url, self.population.ikey, self.population.skey,
            [self.holders[user].username for user in users]))
        self._fetched_at = started
        fetched = time.monotonic()
        self._write_lines(path, users, self._assertions(users, options))
        self.fetch_s += fetched - started
        self.assert_s += time.monotonic() - fetched

    def write_ceiling(self, path: Path, count: int) -> None:
        """Requests of the same shape, on challenges nobody issued (the ceiling checks nothing)."""
        started = time.monotonic()
        users = self._users(min(count, CEILING_LINES))
        options = [local_options(self.holders[user].credential_id) for user in users]
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

    def summary(self) -> str:
        """One progress line: what the plan's preparation cost, and its challenges' age."""
        return (f"webauthn: {self.assertions:,} assertions (the ceiling's included) made in "
                f"{self.assert_s:,.0f} s, challenges fetched in {self.fetch_s:,.0f} s; the oldest "
                f"challenge was {self.oldest_challenge_s:,.0f} s old when its phase ended (they "
                f"live 300 s{': late requests were denied' if self.challenges_expired else ''})")

    def _users(self, count: int) -> list[int]:
        total = len(self.holders)
        return [position % total for position in range(self.position, self.position + count)]

    def _assertions(self, users: list[int], options: list[str]) -> list[str]:
        """One assertion per line, each user's made in line order by one worker."""
        lines_of: dict[int, list[int]] = {}
        for line, user in enumerate(users):
            lines_of.setdefault(user, []).append(line)
        jobs: list[Job] = [(user, self.holders[user].secret, self._counters[user],
                            [options[line] for line in lines]) for user, lines in lines_of.items()]
        made: list[str] = [""] * len(users)
        self.assertions += len(users)
        for part in self._pool.map(_assert_chunk, chunks(jobs, os.cpu_count() or 1)):
            for user, counter, assertions in part:
                self._counters[user] = counter
                for line, assertion in zip(lines_of[user], assertions, strict=True):
                    made[line] = assertion
        return made

    def _write_lines(self, path: Path, users: list[int], assertions: list[str]) -> None:
        write_signed(path, ikey=self.population.ikey, skey=self.population.skey, host=self.host,
                     params=(webauthn_params(self.holders[user].username, assertion)
                             for user, assertion in zip(users, assertions, strict=True)))
