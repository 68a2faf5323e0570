"""Awaited Redis round trips per operation, counted on a real Redis: the admin lists load a page
in a constant number of round trips however large it is, and what one passcode verification
waits for (the figures are quoted in docs/performance.md and docs/architecture.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.auth_requests import AuthRequest, Passcode
from authsvc.domain.phones import PhoneChanges
from authsvc.domain.tokens import NewToken
from authsvc.domain.users import UserChanges
from authsvc.model.permissions import SYSTEM
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Redis, Store
from tests.harness import TEST_SECRET_KEY
from tests.store.counting import CountingRedis
from tokens.oath import oath_code

SEED = bytes(range(20))


@pytest.fixture
async def services(redis_url: str) -> AsyncIterator[Services]:
    # No replica is waited for (WAIT 0), as with one Redis: the one-round-trip passcode path
    # is counted here also on the test command's 3+3 cluster (the waited path:
    # test_replication_wait.py).
    store = Store(CountingRedis.from_url(redis_url, wait_replicas=0))
    await store.start()
    settings = Settings.from_env({"AUTHSVC_REDIS_URL": redis_url})
    yield Services.build(settings, store, SecretBox.from_passphrase(TEST_SECRET_KEY),
                         FakeClock())
    await store.close()


async def _people(svc: Services, count: int) -> None:
    for n in range(count):
        user = await svc.users.add(UserChanges(username=f"user{n}"))
        token = await svc.tokens.add(NewToken(type="h6", serial=f"S{n}", secret=SEED.hex()))
        await svc.tokens.assign(user.user_id, token.token_id)
        phone = await svc.phones.add(PhoneChanges(number=f"+1555555{n:04d}"))
        await svc.phones.attach(user.user_id, phone.phone_id)


async def _counted(call: Any) -> tuple[Any, int]:
    CountingRedis.round_trips = 0
    result = await call
    return result, CountingRedis.round_trips


@pytest.mark.slow
async def test_a_page_of_users_phones_or_tokens_costs_the_same_round_trips_at_any_size(
        services: Services) -> None:
    await _people(services, 300)
    admin, seen = services.admin.devices, set()
    # The first page this process reads learns the listing's sizes first (one round trip more);
    # later pages guess their ranges from what it read and need none while nothing changed.
    (_, cold_trips), (_, cold_phone_trips), (_, cold_token_trips) = (
        await _counted(services.admin.users.page(SYSTEM, 0, 10)),
        await _counted(admin.phones(SYSTEM, 0, 10)),
        await _counted(admin.tokens(SYSTEM, 0, 10)))
    assert (cold_trips, cold_phone_trips, cold_token_trips) == (4, 5, 4)
    for size in (10, 300):
        (views, total), users_trips = await _counted(services.admin.users.page(SYSTEM, 0, size))
        assert len(views) == size and total == 300
        assert all(len(view.tokens) == 1 and len(view.phones) == 1 for view in views)
        (phones, _), phone_trips = await _counted(admin.phones(SYSTEM, 0, size))
        (tokens, owners, _), token_trips = await _counted(admin.tokens(SYSTEM, 0, size))
        assert len(phones) == len(tokens) == len(owners) == size
        seen.add((users_trips, phone_trips, token_trips))
    # Users: the id page, the users' own keys, their phones. Phones: the id page, the records,
    # their holders' ids, the holders. Tokens: the id page, the records with their holders'
    # ids, the holders.
    assert seen == {(3, 4, 3)}


async def test_a_passcode_verification_waits_for_one_round_trip_once_the_user_is_known(
        services: Services, redis_url: str) -> None:
    """Warm (this process decided the user's last attempt): the rate limiters' admission, the
    settings' version and the decision in one write. Cold: a process that has never seen anyone
    waits for five (the admission, the name, the user's load, the settings, the decision). A
    copy whose counters another process moved (it accepted a code) is caught up by the decision
    itself: one round trip for a right code; a code refused from such a copy is decided again
    from the counters the refusal answered with (two). A copy stale in who the user is (here:
    an email changed elsewhere) waits for three (the refused decision, which carried the
    admission; the load; the decision). A wrong code waits for one more (its failure counted
    against the caller's budgets). The log record is not awaited."""
    user = await services.users.add(UserChanges(username="pat"))
    token = await services.tokens.add(NewToken(type="h6", serial="P1", secret=SEED.hex()))
    await services.tokens.assign(user.user_id, token.token_id)
    app = (await services.integrations.create("auth", "app")).integration

    async def attempt(svc: Services, counter: int) -> tuple[str, int]:
        request = AuthRequest(app, username="pat", proof=Passcode(oath_code(SEED, counter)))
        answer, trips = await _counted(svc.auth.auth(request))
        return answer.verdict.result.value, trips

    assert await attempt(services, 0) == ("allow", 5)  # nothing known yet
    assert await attempt(services, 1) == ("allow", 1)
    assert await attempt(services, 2) == ("allow", 1)
    other = Store(Redis.from_url(redis_url, wait_replicas=0))  # another process, own caches
    await other.start()
    try:
        elsewhere = Services.build(services.settings, other, services.box, FakeClock())
        assert (await elsewhere.auth.auth(AuthRequest(
            app, username="pat", proof=Passcode(oath_code(SEED, 3))))).verdict.reason \
            == "valid_passcode"
        assert await attempt(services, 4) == ("allow", 1)  # caught up by the decision
        assert await attempt(services, 4) == ("deny", 2)  # a replay: decided warm; + its failure counted
        await elsewhere.auth.auth(AuthRequest(app, username="pat",
                                              proof=Passcode(oath_code(SEED, 5))))
        assert await attempt(services, 5) == ("deny", 3)  # refused stale, decided again; + failure
        await elsewhere.users.update(user.user_id, UserChanges(email="pat@example.com"))
        assert await attempt(services, 6) == ("allow", 3)  # who the user is moved: loaded again
        assert await attempt(services, 7) == ("allow", 1)
    finally:
        await other.close()


async def test_a_cold_attempt_sends_its_admission_with_the_users_load(
        services: Services) -> None:
    """A user this process holds no copy of: the rate limiters' admission leaves with the
    first read of the user (the name's lookup, or the load for a user_id), so the attempt waits
    for one round trip fewer than it makes. (That the admission still decides first, 429
    whatever the load found, is tests/e2e/test_rate_limits.py's spray over many users: every
    attempt there is cold.)"""
    app = (await services.integrations.create("auth", "app")).integration
    people = []
    for name in ("pat", "sam"):
        user = await services.users.add(UserChanges(username=name))
        token = await services.tokens.add(NewToken(type="h6", serial=name, secret=SEED.hex()))
        await services.tokens.assign(user.user_id, token.token_id)
        people.append(user.user_id)

    async def waits(request: AuthRequest) -> tuple[str, int, int]:
        CountingRedis.round_trips = CountingRedis.waves = 0
        answer = await services.auth.auth(request)
        return answer.verdict.result.value, CountingRedis.round_trips, CountingRedis.waves

    # Nothing known: admission + name together, the load, the settings, the decision (on a
    # cluster the admission, split over nodes, may still be in flight when the load leaves:
    # one wait fewer again).
    result, trips, waves = await waits(
        AuthRequest(app, username="pat", proof=Passcode(oath_code(SEED, 0))))
    assert (result, trips) == ("allow", 5) and waves <= 4
    # A user_id, the settings known: admission + load together, the decision.
    result, trips, waves = await waits(
        AuthRequest(app, user_id=people[1], proof=Passcode(oath_code(SEED, 0))))
    assert (result, trips, waves) == ("allow", 3, 2)
