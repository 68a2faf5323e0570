"""Seeding: the one module of loadtests/ that uses the service's internals, and why.

Everything else in loadtests/ talks to the service as its users do: signed HTTP calls
(`loadtests.core.signing`) and its public commands. Seeding people is the exception, for speed:
10,000 users with a token each take minutes through the Admin API (each call signed, checked
and logged) and a few seconds here, many people at a time over one pipelined connection.

It goes through the composition root, ``Services.build(settings, store, box, clock)`` (how
``authsvc serve`` wires itself), and the domain services hanging off it (`users`, `tokens`,
`bypass`, `integrations`, `security_keys`), never through raw Redis writes: the records are
exactly what the Admin API and the self-service portal would have stored. The settings come
from the same ``AUTHSVC_*`` environment the service is started with (`loadtests.core.service`),
so the seeds are sealed with the key the service opens them with and carry its key prefix.

When the service's internals move, this is the one file to fix; its imports from `authsvc` are
the whole list. Duo Push phones are enrolled through the Admin API instead (`enroll_phones`, the
calls an administrator's duo_client makes): their activation goes through the service anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Executor

import aiohttp

from authsvc.app import KEY_FILE_NAME, secret_box
from authsvc.clock import SystemClock
from authsvc.domain.auth_requests import AuthRequest, Passcode
from authsvc.domain.bypass import BypassRequest
from authsvc.domain.tokens import NewToken
from authsvc.domain.users import UserChanges
from authsvc.embedded_redis import running_url
from authsvc.errors import AuthsvcError
from authsvc.services import Services
from authsvc.settings import Settings, SettingsError
from authsvc.store import Redis, RedisError, RedisUnavailable, Store
from authsvc.store.keys import Keys
from loadtests.core.population import (
    KeyHolder,
    Person,
    Population,
    PushPopulation,
    SeededToken,
    Shape,
    chunks,
    gather_in_order,
    usernames,
)
from loadtests.core.signing import SETTINGS_PATH, DuoApi, client_ssl
from tokens.fido import SoftAuthenticator
from tokens.webauthn_client import register
from tokens.yubikey import YubiKey

SEED_BYTES = 20  # RFC 4226's recommended 160-bit HOTP secret
KEY_NAME = "bench key"
ENROLL_CONCURRENCY = 32
# What seeding raises when the service's Redis, key or settings are not usable.
SEED_ERRORS: tuple[type[Exception], ...] = (SettingsError, AuthsvcError, RedisError,
                                            RedisUnavailable)


class Seeder:
    """Integrations and people, through the service's domain services."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def integration(self, kind: str, name: str) -> tuple[str, str]:
        """A new integration (``auth`` or ``admin``): its (ikey, skey)."""
        credentials = await self._services.integrations.create(kind, name)
        return credentials.integration.ikey, credentials.skey

    async def person(self, username: str, shape: Shape) -> Person:
        """A user holding `shape.tokens_per_user` h6 tokens and `shape.bypass_codes` codes."""
        services = self._services
        user = await services.users.add(UserChanges(username=username))
        tokens = []
        for number in range(shape.tokens_per_user):
            seeded = SeededToken(f"{username}-{number}", secrets.token_bytes(SEED_BYTES).hex())
            token = await services.tokens.add(NewToken(type="h6", serial=seeded.serial,
                                                       secret=seeded.secret_hex))
            await services.tokens.assign(user.user_id, token.token_id)
            tokens.append(seeded)
        codes: list[str] = []
        if shape.bypass_codes:
            codes = await services.bypass.issue(user.user_id,
                                                BypassRequest(count=shape.bypass_codes))
        return Person(user.username, user.user_id, tuple(tokens), tuple(codes))

    async def yubikey_person(self, username: str) -> tuple[Person, YubiKey]:
        """A user holding one yk token, as ``add_yubikey_token`` + ``add_user_token`` make it,
        and the emulated key (`tokens.yubikey`) that types its OTPs."""
        user = await self._services.users.add(UserChanges(username=username))
        key = YubiKey()
        token = await self._services.tokens.add(NewToken(
            type="yk", serial=f"YK-{key.public_id}", private_id=key.private_id,
            aes_key=key.aes_key))
        await self._services.tokens.assign(user.user_id, token.token_id)
        return Person(user.username, user.user_id, ()), key

    async def key_holder(self, username: str, origin: str) -> KeyHolder:
        """A user with one `tokens.fido.SoftAuthenticator` credential, registered as the portal's
        ``webauthn/begin`` and ``finish`` do: options, python-fido2's client at `origin`, check."""
        keys = self._services.security_keys
        user = await self._services.users.add(UserChanges(username=username))
        device = SoftAuthenticator()
        options = await keys.registration_options(user.user_id, user.username)
        credential = register(device, options, origin)
        await keys.register(user.user_id, credential, KEY_NAME)
        return KeyHolder(user.username, user.user_id, str(credential["id"]), device.secret,
                         device.counter)

    async def sign_in(self, ikey: str, person: Person, code: str) -> str:
        """One passcode authentication through the service's own decision flow (no HTTP): the
        verdict's result, and an authentication-log entry written as the Auth API writes it."""
        services = self._services
        credentials = await services.integrations.credentials(ikey)
        assert credentials is not None  # noqa: S101 - created by `integration`
        integration = credentials.integration
        answer = await services.auth.auth(AuthRequest(
            integration, username=person.username, ipaddr="198.51.100.7",
            proof=Passcode(code), client_ip="127.0.0.1"))
        return answer.verdict.result.value

    async def settle(self) -> None:
        """Wait until Redis has run every command sent so far (log entries are not awaited)."""
        await self._services.store.ping()

    async def people(self, names: Sequence[str], shape: Shape, *, concurrency: int = 256,
                     progress: Callable[[int], None] | None = None) -> list[Person]:
        """Everyone in `names`, `concurrency` at a time over the one connection, in order."""
        return await gather_in_order(names, lambda name: self.person(name, shape),
                                     concurrency=concurrency, progress=progress)

    async def yubikey_people(self, names: Sequence[str]) -> list[tuple[Person, YubiKey]]:
        """`yubikey_person` for everyone in `names`, in order."""
        return await gather_in_order(names, self.yubikey_person)


@contextlib.asynccontextmanager
async def seeder(environ: Mapping[str, str]) -> AsyncIterator[Seeder]:
    """A `Seeder` over the Redis, key and settings of the service run with `environ`."""
    settings = Settings.from_env(environ)
    if not settings.redis_url:
        raise SettingsError("AUTHSVC_REDIS_URL is not set")
    store = Store(Redis.from_url(settings.redis_url, timeout=30.0), prefix=settings.key_prefix,
                  authlog_max_entries=settings.authlog_max_entries)
    try:
        await store.start()
        yield Seeder(Services.build(settings, store, secret_box(settings), SystemClock()))
    finally:
        await store.close()


def running_service_env(environ: Mapping[str, str], redis_url: str | None) -> dict[str, str]:
    """`environ` naming the Redis and master key of a service already running, found as the
    ``authsvc`` CLI finds them (``AUTHSVC_REDIS_URL`` or the Redis serving the data directory;
    ``AUTHSVC_SECRET_KEY`` or ``DATA_DIR/secret.key``)."""
    settings = Settings.from_env(environ, redis_url=redis_url)
    url = settings.redis_url or running_url(settings.data_dir)
    if url is None:
        raise SettingsError("no Redis: set AUTHSVC_REDIS_URL, or run `authsvc serve` with the "
                            "same AUTHSVC_DATA_DIR first")
    if settings.secret_key is None and not (settings.data_dir / KEY_FILE_NAME).exists():
        # secret_box() would create a fresh key, and the service could not open our seeds.
        raise SettingsError(f"no AUTHSVC_SECRET_KEY and no {settings.data_dir / KEY_FILE_NAME}: "
                            "give the service's master key")
    return {**environ, "AUTHSVC_REDIS_URL": url}


async def seed_people(environ: Mapping[str, str], *, prefix: str, count: int,
                      shape: Shape) -> Population:
    """An auth integration and `count` people named ``<prefix>NNNNNN``."""
    async with seeder(environ) as seeding:
        ikey, skey = await seeding.integration("auth", f"load test {prefix}")
        people = await seeding.people(usernames(prefix, count), shape)
    return Population(ikey, skey, people)


def _key_holders(environ: dict[str, str], names: list[str], origin: str) -> list[KeyHolder]:
    """One worker process's share of `seed_security_keys`."""

    async def share() -> list[KeyHolder]:
        async with seeder(environ) as seeding:
            return await gather_in_order(names, lambda name: seeding.key_holder(name, origin),
                                         concurrency=8)

    return asyncio.run(share())


def seed_security_keys(pool: Executor, workers: int, environ: Mapping[str, str],
                       names: Sequence[str], origin: str) -> list[KeyHolder]:
    """Users named `names`, each with one registered soft key, made by `pool`'s `workers`
    processes (a registration is about 3.5 ms of CPU on the key's side)."""
    parts = chunks(names, workers)
    holders: list[KeyHolder] = []
    for part in pool.map(_key_holders, [dict(environ)] * len(parts), parts,
                         [origin] * len(parts)):
        holders.extend(part)
    return holders


def authlog_key(environ: Mapping[str, str]) -> str:
    """The authentication log's Redis key (a stream), for its bytes-per-entry figure."""
    return Keys(Settings.from_env(environ).key_prefix).authlog()


async def _enroll_phone(admin: DuoApi, username: str, number: str) -> str:
    """A user with one Android phone, through the Admin API; the phone's activation URL."""
    user = await admin.post("/admin/v1/users", {"username": username})
    phone = await admin.post("/admin/v1/phones", {"number": number, "type": "mobile",
                                                  "platform": "google android"})
    await admin.post(f"/admin/v1/users/{user['user_id']}/phones", {"phone_id": phone["phone_id"]})
    activation = await admin.post(f"/admin/v1/phones/{phone['phone_id']}/activation_url", {})
    return str(activation["activation_url"])


async def enroll_phones(base_url: str, ca_file: str, admin_keys: tuple[str, str],
                        auth_keys: tuple[str, str], names: Sequence[str],
                        settings: dict[str, str] | None = None
                        ) -> tuple[PushPopulation, list[str]]:
    """`names` with one Android phone each (`settings` changed first, through
    ``/admin/v1/settings``); the population and the activation URLs, in order."""
    connector = aiohttp.TCPConnector(limit=ENROLL_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        admin = DuoApi(session, base_url, *admin_keys, client_ssl(ca_file))
        if settings:
            await admin.post(SETTINGS_PATH, settings)
        urls = await gather_in_order(
            range(len(names)), lambda index: _enroll_phone(admin, names[index],
                                                           f"+1555{index:07d}"),
            concurrency=ENROLL_CONCURRENCY)
    return PushPopulation(base_url, ca_file, *auth_keys, list(names)), urls


async def integration_pair(environ: Mapping[str, str], name: str
                           ) -> tuple[tuple[str, str], tuple[str, str]]:
    """An admin and an auth integration named after `name`: their (ikey, skey)."""
    async with seeder(environ) as seeding:
        return (await seeding.integration("admin", f"{name} admin"),
                await seeding.integration("auth", f"{name} app"))
