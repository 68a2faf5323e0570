"""A process's copy of a user (domain/subjects.py: the passcode decided in one round trip from
it) against changes made by another process, in process against a real Redis: every change
takes effect at the next attempt, and the rate limiters' admission sent along with a decision
gives away no more than docs/architecture.md says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.auth_requests import AuthRequest, Passcode
from authsvc.domain.subjects import UnknownUser
from authsvc.domain.tokens import NewToken
from authsvc.domain.users import UserChanges
from authsvc.errors import RateLimited
from authsvc.model.integrations import Integration
from authsvc.model.ratelimits import RateLimit
from authsvc.services import Services
from authsvc.settings import Settings
from authsvc.store import Redis, Store
from tokens.oath import oath_code

SEED, OTHER_SEED = bytes(range(20)), bytes(range(1, 21))


@pytest.fixture
async def two(redis_url: str, box: SecretBox, tmp_path: Path
              ) -> AsyncIterator[tuple[Services, Services]]:
    """Two processes' services on one Redis (each its own connection and caches)."""
    settings = Settings(data_dir=tmp_path, rate_limit_failed_auth_ip=RateLimit(4, 60))
    # WAIT 0: the warm path pipelines admission and decision only when no replica is waited
    # for (on the test command's 3+3 cluster too; the waited path: test_replication_wait.py).
    stores = [Store(Redis.from_url(redis_url, wait_replicas=0)) for _ in range(2)]
    for store in stores:
        await store.start()
    yield (Services.build(settings, stores[0], box, FakeClock()),
           Services.build(settings, stores[1], box, FakeClock()))
    for store in stores:
        await store.close()


async def _user(svc: Services, name: str = "pat") -> tuple[str, Integration]:
    user = await svc.users.add(UserChanges(username=name))
    token = await svc.tokens.add(NewToken(type="h6", serial=f"{name}-1", secret=SEED.hex()))
    await svc.tokens.assign(user.user_id, token.token_id)
    return user.user_id, (await svc.integrations.create("auth", "app")).integration


async def _try(svc: Services, app: Integration, code: str, *, name: str = "pat",
               ip: str = "192.0.2.1") -> str:
    answer = await svc.auth.auth(AuthRequest(app, username=name, proof=Passcode(code),
                                             client_ip=ip))
    return answer.verdict.reason


async def test_a_status_changed_elsewhere_decides_the_next_attempt(
        two: tuple[Services, Services]) -> None:
    here, there = two
    user_id, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"  # copy made here
    await there.users.update(user_id, UserChanges(status="disabled"))
    assert await _try(here, app, oath_code(SEED, 1)) == "user_disabled"
    await there.users.update(user_id, UserChanges(status="active"))
    # This process's copy said disabled (it would match nothing): refused as stale, reloaded.
    assert await _try(here, app, oath_code(SEED, 1)) == "valid_passcode"


async def test_a_token_given_and_codes_used_elsewhere_are_seen_at_once(
        two: tuple[Services, Services]) -> None:
    here, there = two
    user_id, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"
    token = await there.tokens.add(NewToken(type="h6", serial="pat-2", secret=OTHER_SEED.hex()))
    await there.tokens.assign(user_id, token.token_id)
    assert await _try(here, app, oath_code(OTHER_SEED, 0)) == "valid_passcode"
    assert await _try(there, app, oath_code(SEED, 1)) == "valid_passcode"
    assert await _try(here, app, oath_code(SEED, 1)) == "invalid_passcode"  # replayed
    assert await _try(here, app, oath_code(SEED, 2)) == "valid_passcode"


async def test_a_user_renamed_elsewhere_answers_to_the_new_name_only(
        two: tuple[Services, Services]) -> None:
    here, there = two
    user_id, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"
    await there.users.update(user_id, UserChanges(username="kim"))
    with pytest.raises(UnknownUser):
        await _try(here, app, oath_code(SEED, 1))
    assert await _try(here, app, oath_code(SEED, 1), name="kim") == "valid_passcode"


async def test_an_admission_sent_with_a_decision_refuses_it_and_then_comes_first(
        two: tuple[Services, Services]) -> None:
    """Another process spends the address's failure budget (4 per minute here) while this one
    still saw it full: this process's next attempt is decided and answered 429 all the same
    (the bound the docs state); from then on its admission is awaited first, so a refused
    attempt consumes nothing."""
    here, there = two
    _, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"
    for wrong in ("000000", "000001", "000002", "000003"):
        assert await _try(there, app, wrong) == "invalid_passcode"
    with pytest.raises(RateLimited):
        await _try(there, app, "000004")
    with pytest.raises(RateLimited):
        await _try(here, app, oath_code(SEED, 1))  # sent with its decision: consumed, 429
    assert await _try(there, app, oath_code(SEED, 1), ip="192.0.2.2") == "invalid_passcode"
    with pytest.raises(RateLimited):
        await _try(here, app, oath_code(SEED, 2))  # tight now: refused before any decision
    assert await _try(there, app, oath_code(SEED, 2), ip="192.0.2.2") == "valid_passcode"
