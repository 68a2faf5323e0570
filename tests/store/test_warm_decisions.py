"""A process's copy of a user (domain/subjects.py: the passcode decided in one round trip from
it) against changes made by another process, in process against a real Redis: every change
takes effect at the next attempt, and the rate limiters' admission sent along with a decision
gives away no more than docs/architecture.md says."""

from __future__ import annotations

import asyncio
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
from authsvc.model.attempts import AttemptStatus, Match
from authsvc.model.factors import CommitRule, Home, LogFactor
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


async def _user_hash(svc: Services, user_id: str, *fields: str) -> list[str | None]:
    values: list[str | None] = await svc.store.redis.execute(
        "HMGET", svc.store.keys.user(user_id), *fields)
    return values


async def test_two_processes_taking_turns_accept_every_code_once(
        two: tuple[Services, Services]) -> None:
    """Each process's copy is stale in its counters at every turn (the other accepted the last
    code): the decision catches it up and accepts the next code, and a replay is refused in
    either process."""
    here, there = two
    _, app = await _user(here)
    for counter in range(8):
        taker = (here, there)[counter % 2]
        assert await _try(taker, app, oath_code(SEED, counter)) == "valid_passcode"
    for counter in range(8):
        other = (there, here)[counter % 2]
        assert await _try(other, app, oath_code(SEED, counter), ip=f"192.0.2.{10 + counter}") \
            == "invalid_passcode"


async def test_a_copy_caught_up_commits_a_success_only(
        two: tuple[Services, Services]) -> None:
    """A wrong code from a copy stale in its counters: refused as stale with nothing written,
    decided again from the counters the refusal carried: one failure, one attempt number."""
    here, there = two
    user_id, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"
    assert await _try(there, app, oath_code(SEED, 1)) == "valid_passcode"
    before = await _user_hash(here, user_id, "attempt_seq", "fails")
    assert await _try(here, app, "000000") == "invalid_passcode"
    after = await _user_hash(here, user_id, "attempt_seq", "fails")
    assert (int(after[0] or 0) - int(before[0] or 0), after[1]) == (1, "1")
    assert await _try(here, app, oath_code(SEED, 2)) == "valid_passcode"
    assert await _user_hash(here, user_id, "fails") == ["0"]


async def test_the_script_refuses_a_counter_beyond_the_current_look_ahead(
        two: tuple[Services, Services]) -> None:
    """The decision script re-checks an HOTP match against the stored counter + the window it
    was found in, whether the copy is current or caught up: a match computed from any other
    counter cannot open more than the look-ahead."""
    here, there = two
    user_id, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"
    subject = here.auth._subjects.warm(AuthRequest(app, username="pat"))
    assert subject is not None
    token_id = subject.loaded.tokens[0].token_id
    window = subject.settings.hotp_window
    far = Match(LogFactor.HARDWARE_TOKEN, CommitRule.HOTP_COUNTER, Home.TOKENS, token_id,
                counter=2 + window, window=window)
    outcome = await here.store.attempts.decide(
        user_id, now_ms=0, settings=subject.settings, matches=[far], view=subject.loaded.view)
    assert outcome.status is AttemptStatus.INVALID
    assert await _try(there, app, oath_code(SEED, 1)) == "valid_passcode"  # copy now stale
    before = await _user_hash(here, user_id, "attempt_seq", "fails")
    outcome = await here.store.attempts.decide(
        user_id, now_ms=0, settings=subject.settings, matches=[far], view=subject.loaded.view)
    assert outcome.status is AttemptStatus.STALE_VIEW and outcome.current is not None
    assert [token.counter for token in outcome.current.tokens] == [2]
    assert await _user_hash(here, user_id, "attempt_seq", "fails") == before  # nothing written


async def test_fifty_attempts_with_one_code_over_two_stale_copies_admit_one(
        two: tuple[Services, Services]) -> None:
    here, there = two
    _, app = await _user(here)
    assert await _try(here, app, oath_code(SEED, 0)) == "valid_passcode"
    assert await _try(there, app, oath_code(SEED, 1)) == "valid_passcode"
    assert await _try(here, app, oath_code(SEED, 2)) == "valid_passcode"  # both copies stale

    async def attempt(n: int) -> str:
        try:
            return await _try((here, there)[n % 2], app, oath_code(SEED, 3),
                              ip=f"198.51.100.{n}")
        except RateLimited:
            return "rate_limited"

    reasons = await asyncio.gather(*(attempt(n) for n in range(50)))
    assert reasons.count("valid_passcode") == 1
    assert set(reasons) <= {"valid_passcode", "invalid_passcode", "locked_out", "rate_limited"}
