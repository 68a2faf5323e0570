"""passcode_attempt.lua against a real Redis: every decision the script makes, and the guarantees
it exists for (a code is accepted at most once, a threshold of T records exactly T failures)
under real concurrency, on one shared connection and on many connections."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import pytest

from authsvc.clock import FakeClock
from authsvc.crypto import SecretBox
from authsvc.domain.bypass import BypassIssuer, BypassRequest
from authsvc.domain.tokens import NewToken, TokenRegistry
from authsvc.domain.users import UserChanges, UserDirectory
from authsvc.factors import passcode_factors
from authsvc.factors._oath import Hotp
from authsvc.factors.base import PasscodeContext
from authsvc.factors.bypass import HASH_PURPOSE
from authsvc.model.attempts import AttemptOutcome, AttemptStatus, Match
from authsvc.model.factors import CommitRule, Home, LogFactor
from authsvc.model.settings import AccountSettings
from authsvc.model.tokens import TokenType
from authsvc.model.users import UserStatus
from authsvc.store import Store
from tests.store.conftest import (
    StoreFactory,
    add_token,
    add_user,
    bypass_code,
    bypass_records,
    delete_user,
    lockout_settings,
    token_record,
    user_fields,
)

ALLOW, INVALID = AttemptStatus.ALLOW, AttemptStatus.INVALID
LOCKED_NOW, LOCKED = AttemptStatus.LOCKED_NOW, AttemptStatus.LOCKED
LENIENT = lockout_settings(threshold=9999)
RESYNC_WINDOW_S = 300


async def attempt(store: Store, user_id: str, clock: FakeClock, *,
                  settings: AccountSettings = LENIENT, bypass_hash: str = "",
                  candidates: Sequence[Match] = (),
                  now_ms: int | None = None) -> AttemptOutcome:
    """One decision at the clock's time (or at `now_ms`, for millisecond boundaries)."""
    matches = [bypass(bypass_hash)] if bypass_hash else []
    return await store.attempts.decide(
        user_id, now_ms=clock.now_ms() if now_ms is None else now_ms, settings=settings,
        matches=[*matches, *candidates])


def bypass(code_hash: str) -> Match:
    return Match(LogFactor.BYPASS_CODE, CommitRule.BYPASS_USE, Home.BYPASS, code_hash)


def hotp(token_id: str, match: int | None = None, far: int | None = None) -> Match:
    return Match(LogFactor.HARDWARE_TOKEN, CommitRule.HOTP_COUNTER, Home.TOKENS, token_id,
                 counter=match, far=far)


def totp(token_id: str, step: int | None) -> Match:
    return Match(LogFactor.HARDWARE_TOKEN, CommitRule.TOTP_STEP, Home.TOKENS, token_id,
                 counter=step)


async def fails_of(store: Store, user_id: str) -> int:
    return int((await user_fields(store, user_id)).get("fails") or 0)


# --- HOTP -------------------------------------------------------------------------------------


async def test_hotp_code_at_the_stored_counter_is_accepted_and_the_counter_moves_past_it(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=5)

    outcome = await attempt(store, "U1", clock, candidates=[hotp("T1", match=5)])

    assert outcome == AttemptOutcome(ALLOW, LogFactor.HARDWARE_TOKEN, "T1", "")
    assert (await token_record(store, "U1", "T1"))["counter"] == 6


async def test_hotp_code_ahead_of_the_counter_is_accepted_and_skips_the_counters_before_it(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=5)

    assert (await attempt(store, "U1", clock, candidates=[hotp("T1", match=9)])).status is ALLOW
    assert (await token_record(store, "U1", "T1"))["counter"] == 10
    # Counters skipped over are spent too.
    assert (await attempt(store, "U1", clock, candidates=[hotp("T1", match=7)])).status is INVALID


async def test_hotp_replay_of_an_accepted_counter_is_invalid_and_counts_a_failure(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    assert (await attempt(store, "U1", clock, candidates=[hotp("T1", match=0)])).status is ALLOW

    replay = await attempt(store, "U1", clock, candidates=[hotp("T1", match=0)])

    assert replay == AttemptOutcome(INVALID, fails=1)
    assert (await token_record(store, "U1", "T1"))["counter"] == 1


async def test_hotp_counter_never_moves_backwards(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    assert (await attempt(store, "U1", clock, candidates=[hotp("T1", match=9)])).status is ALLOW

    for lower in (8, 3, 0):
        outcome = await attempt(store, "U1", clock, candidates=[hotp("T1", match=lower)])
        assert outcome.status is INVALID

    assert (await token_record(store, "U1", "T1"))["counter"] == 10


async def test_a_candidate_naming_another_users_token_is_invalid_and_leaves_that_token_alone(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    await add_token(store, "T2", "U2", counter=0)
    await add_token(store, "T-free", None, counter=0)

    for token_id in ("T2", "T-free", "T-missing"):
        outcome = await attempt(store, "U1", clock, candidates=[hotp(token_id, match=0)])
        assert outcome.status is INVALID

    assert (await token_record(store, "U2", "T2"))["counter"] == 0
    assert (await token_record(store, None, "T-free"))["counter"] == 0


async def test_the_first_matching_token_is_consumed_and_the_others_are_untouched(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    await add_token(store, "T2", "U1", counter=0)

    outcome = await attempt(store, "U1", clock,
                            candidates=[hotp("T1", match=4), hotp("T2", match=2)])

    assert (outcome.status, outcome.matched_id) == (ALLOW, "T1")
    assert (await token_record(store, "U1", "T1"))["counter"] == 5
    assert (await token_record(store, "U1", "T2"))["counter"] == 0


async def test_a_spent_candidate_falls_through_to_the_next_token(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=10)
    await add_token(store, "T2", "U1", counter=0)

    outcome = await attempt(store, "U1", clock,
                            candidates=[hotp("T1", match=4), hotp("T2", match=2)])

    assert (outcome.status, outcome.matched_id) == (ALLOW, "T2")
    assert (await token_record(store, "U1", "T1"))["counter"] == 10
    assert (await token_record(store, "U1", "T2"))["counter"] == 3


# --- TOTP -------------------------------------------------------------------------------------


async def test_totp_step_is_accepted_once(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", type_=TokenType.TOTP6)

    first = await attempt(store, "U1", clock, candidates=[totp("T1", 1000)])
    again = await attempt(store, "U1", clock, candidates=[totp("T1", 1000)])

    assert first == AttemptOutcome(ALLOW, LogFactor.HARDWARE_TOKEN, "T1", "")
    assert again.status is INVALID
    assert (await token_record(store, "U1", "T1"))["last_step"] == 1000


async def test_totp_older_step_after_a_newer_one_is_invalid(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", type_=TokenType.TOTP8)
    assert (await attempt(store, "U1", clock, candidates=[totp("T1", 1001)])).status is ALLOW

    older = await attempt(store, "U1", clock, candidates=[totp("T1", 1000)])

    assert older.status is INVALID
    assert (await token_record(store, "U1", "T1"))["last_step"] == 1001
    assert (await attempt(store, "U1", clock, candidates=[totp("T1", 1002)])).status is ALLOW


async def test_totp_candidate_without_a_matching_step_is_invalid(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", type_=TokenType.TOTP6)

    outcome = await attempt(store, "U1", clock, candidates=[totp("T1", None)])

    assert outcome == AttemptOutcome(INVALID, fails=1)
    assert "last_step" not in await token_record(store, "U1", "T1")  # no step used yet


# --- bypass codes -----------------------------------------------------------------------------


async def test_bypass_code_with_three_uses_admits_exactly_three_then_is_gone(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=3, code_id="DB1")],
                           preserve=False, now_ms=clock.now_ms(), limit=100)

    outcomes = [await attempt(store, "U1", clock, bypass_hash="h1") for _ in range(4)]

    assert outcomes[:3] == [AttemptOutcome(ALLOW, LogFactor.BYPASS_CODE, "DB1", remaining)
                            for remaining in ("2", "1", "0")]
    assert outcomes[3] == AttemptOutcome(INVALID, fails=1)
    assert await bypass_records(store, "U1") == {}


async def test_bypass_code_uses_left_are_stored_after_each_use(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=3)], preserve=False,
                           now_ms=clock.now_ms(), limit=100)

    await attempt(store, "U1", clock, bypass_hash="h1")

    assert [code.uses for code in await store.bypass.of_user("U1", clock.now_ms())] == [2]


async def test_bypass_code_with_zero_uses_is_unlimited(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=0, code_id="DB1")],
                           preserve=False, now_ms=clock.now_ms(), limit=100)

    outcomes = [await attempt(store, "U1", clock, bypass_hash="h1") for _ in range(25)]

    assert set(outcomes) == {AttemptOutcome(ALLOW, LogFactor.BYPASS_CODE, "DB1", "unlimited")}
    assert (await bypass_records(store, "U1"))["h1"]["uses"] == 0


@pytest.mark.parametrize("ms_past_expiry", [0, 1, 60_000])
async def test_expired_bypass_code_is_invalid_and_removed(
        store: Store, clock: FakeClock, ms_past_expiry: int) -> None:
    await add_user(store, "U1")
    expires_ms = clock.now_ms() + 60_000
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=0, expires_ms=expires_ms)],
                           preserve=False, now_ms=clock.now_ms(), limit=100)

    outcome = await attempt(store, "U1", clock, bypass_hash="h1",
                            now_ms=expires_ms + ms_past_expiry)

    assert outcome == AttemptOutcome(INVALID, fails=1)
    assert await bypass_records(store, "U1") == {}


async def test_bypass_code_is_usable_until_the_millisecond_it_expires(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    expires_ms = clock.now_ms() + 1000
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=0, expires_ms=expires_ms)],
                           preserve=False, now_ms=clock.now_ms(), limit=100)

    last_moment = await attempt(store, "U1", clock, bypass_hash="h1", now_ms=expires_ms - 1)
    expired = await attempt(store, "U1", clock, bypass_hash="h1", now_ms=expires_ms)

    assert (last_moment.status, expired.status) == (ALLOW, INVALID)


async def test_bypass_codes_belong_to_one_user(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_user(store, "U2")
    await store.bypass.add("U2", [bypass_code("h2", "U2")], preserve=False,
                           now_ms=clock.now_ms(), limit=100)

    assert (await attempt(store, "U1", clock, bypass_hash="h2")).status is INVALID
    assert set(await bypass_records(store, "U2")) == {"h2"}


async def test_a_code_that_is_both_a_bypass_code_and_a_token_code_consumes_only_the_bypass_code(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=2, code_id="DB1")],
                           preserve=False, now_ms=clock.now_ms(), limit=100)

    outcome = await attempt(store, "U1", clock, bypass_hash="h1",
                            candidates=[hotp("T1", match=0)])

    assert outcome == AttemptOutcome(ALLOW, LogFactor.BYPASS_CODE, "DB1", "1")
    assert (await token_record(store, "U1", "T1"))["counter"] == 0


async def test_real_bypass_codes_issued_by_the_domain_are_found_by_the_factor_hash(
        store: Store, clock: FakeClock, box: SecretBox) -> None:
    user = await UserDirectory(store, clock).add(UserChanges(username="Erin"))
    codes = await BypassIssuer(store, box, clock).issue(
        user.user_id, BypassRequest(codes=["12345678", "87654321"], reuse_count=1))
    settings = await store.account.get()

    async def submit(passcode: str) -> AttemptOutcome:
        context = PasscodeContext(user.user_id, [], [], settings, clock.now(), box)
        matches = [m for f in passcode_factors() for m in f.matches(context, passcode)
                   if m.rule is CommitRule.BYPASS_USE]
        return await attempt(store, user.user_id, clock, candidates=matches)

    assert (await submit(codes[0])).status is ALLOW
    assert (await submit(codes[0])).status is INVALID
    assert (await submit("11112222")).status is INVALID
    assert (await submit(codes[1])).status is ALLOW
    assert box.code_hash(HASH_PURPOSE, user.user_id, codes[1]) not in await bypass_records(
        store, user.user_id)


# --- lockout ----------------------------------------------------------------------------------


async def test_the_threshold_failure_locks_the_user_and_later_attempts_are_not_counted(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    settings = lockout_settings(threshold=3)

    outcomes = [await attempt(store, "U1", clock, settings=settings) for _ in range(6)]

    assert outcomes == [AttemptOutcome(INVALID, fails=1), AttemptOutcome(INVALID, fails=2),
                        AttemptOutcome(LOCKED_NOW, fails=3), AttemptOutcome(LOCKED),
                        AttemptOutcome(LOCKED), AttemptOutcome(LOCKED)]
    fields = await user_fields(store, "U1")
    assert fields["fails"] == "3"
    assert fields["status"] == UserStatus.LOCKED_OUT.value
    assert fields["lockout_reason"] == "Failed Attempts"
    assert int(fields["locked_at"]) == clock.now_ms()
    user = await store.users.get("U1")
    assert user is not None
    assert (user.status, user.fails) == (UserStatus.LOCKED_OUT, 3)


async def test_a_locked_user_cannot_spend_a_valid_code(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=2)], preserve=False,
                           now_ms=clock.now_ms(), limit=100)
    settings = lockout_settings(threshold=1)
    assert (await attempt(store, "U1", clock, settings=settings)).status is LOCKED_NOW

    outcome = await attempt(store, "U1", clock, settings=settings, bypass_hash="h1",
                            candidates=[hotp("T1", match=0)])

    assert outcome == AttemptOutcome(LOCKED)
    assert (await token_record(store, "U1", "T1"))["counter"] == 0
    assert (await bypass_records(store, "U1"))["h1"]["uses"] == 2


async def test_success_resets_the_failure_count(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    settings = lockout_settings(threshold=3)
    for _ in range(2):
        assert (await attempt(store, "U1", clock, settings=settings)).status is INVALID

    assert (await attempt(store, "U1", clock, settings=settings,
                          candidates=[hotp("T1", match=0)])).status is ALLOW

    assert await fails_of(store, "U1") == 0
    again = [await attempt(store, "U1", clock, settings=settings) for _ in range(2)]
    assert again == [AttemptOutcome(INVALID, fails=1), AttemptOutcome(INVALID, fails=2)]


async def test_success_records_the_last_login_in_seconds(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1")
    clock.advance(12.75)

    await attempt(store, "U1", clock, candidates=[hotp("T1", match=0)])

    user = await store.users.get("U1")
    assert user is not None
    assert user.last_login == int(clock.now())


async def test_lockout_expires_after_the_configured_time_and_the_next_attempt_proceeds(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    settings = lockout_settings(threshold=2, expire_minutes=1)
    for _ in range(2):
        await attempt(store, "U1", clock, settings=settings)
    unlock_ms = clock.now_ms() + 60_000
    assert (await attempt(store, "U1", clock, settings=settings, now_ms=unlock_ms - 1,
                          candidates=[hotp("T1", match=0)])).status is LOCKED

    outcome = await attempt(store, "U1", clock, settings=settings, now_ms=unlock_ms,
                            candidates=[hotp("T1", match=0)])

    assert outcome.status is ALLOW
    fields = await user_fields(store, "U1")
    assert (fields["status"], fields["fails"], fields["lockout_reason"], fields["locked_at"]) == (
        "active", "0", "", "0")


async def test_after_lockout_expiry_failures_count_again_from_one(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    settings = lockout_settings(threshold=2, expire_minutes=5)
    for _ in range(2):
        await attempt(store, "U1", clock, settings=settings)
    clock.advance(5 * 60)

    outcomes = [await attempt(store, "U1", clock, settings=settings) for _ in range(3)]

    assert outcomes == [AttemptOutcome(INVALID, fails=1), AttemptOutcome(LOCKED_NOW, fails=2),
                        AttemptOutcome(LOCKED)]


async def test_lockout_without_expiry_lasts_until_an_admin_unlocks(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    settings = lockout_settings(threshold=1, expire_minutes=0)
    assert (await attempt(store, "U1", clock, settings=settings)).status is LOCKED_NOW
    clock.advance(365 * 86400)
    assert (await attempt(store, "U1", clock, settings=settings)).status is LOCKED

    assert await store.users.set_status("U1", UserStatus.ACTIVE)

    assert await fails_of(store, "U1") == 0
    assert (await attempt(store, "U1", clock, settings=lockout_settings(threshold=2))
            ) == AttemptOutcome(INVALID, fails=1)


# --- user status ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [(UserStatus.DISABLED, AttemptStatus.DISABLED),
                                                  (UserStatus.BYPASS, AttemptStatus.BYPASS_USER)])
async def test_disabled_and_bypass_users_are_decided_by_status_without_spending_or_counting(
        store: Store, clock: FakeClock, status: UserStatus, expected: AttemptStatus) -> None:
    await add_user(store, "U1", status=status)
    await add_token(store, "T1", "U1", counter=0)
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=1)], preserve=False,
                           now_ms=clock.now_ms(), limit=100)

    outcomes = [await attempt(store, "U1", clock, settings=lockout_settings(threshold=1),
                              bypass_hash=bypass_hash, candidates=candidates)
                for bypass_hash, candidates in (("h1", [hotp("T1", match=0)]), ("", []))]

    assert outcomes == [AttemptOutcome(expected)] * 2
    assert (await token_record(store, "U1", "T1"))["counter"] == 0
    assert set(await bypass_records(store, "U1")) == {"h1"}
    assert await fails_of(store, "U1") == 0


async def test_missing_user_is_no_user_and_no_record_is_created(
        store: Store, clock: FakeClock) -> None:
    outcome = await attempt(store, "U-nobody", clock, bypass_hash="h1",
                            candidates=[hotp("T1", match=0)])

    assert outcome == AttemptOutcome(AttemptStatus.NO_USER)
    assert await store.redis.execute("EXISTS", store.keys.user("U-nobody")) == 0


async def test_a_deleted_user_is_no_user(store: Store, clock: FakeClock) -> None:
    user = await add_user(store, "U1")
    await delete_user(store, user)

    assert (await attempt(store, "U1", clock)).status is AttemptStatus.NO_USER


# --- automatic resync -------------------------------------------------------------------------


async def test_three_successive_far_codes_resync_the_token_and_the_third_is_accepted(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    far = 500

    first = await attempt(store, "U1", clock, candidates=[hotp("T1", far=far)])
    clock.advance(30)
    second = await attempt(store, "U1", clock, candidates=[hotp("T1", far=far + 1)])
    assert (await token_record(store, "U1", "T1"))["counter"] == 0
    clock.advance(30)
    third = await attempt(store, "U1", clock, candidates=[hotp("T1", far=far + 2)])

    assert (first.status, second.status) == (INVALID, INVALID)
    assert third == AttemptOutcome(ALLOW, LogFactor.HARDWARE_TOKEN, "T1", "resynced")
    record = await token_record(store, "U1", "T1")
    assert (record["counter"], record["rs_n"]) == (far + 3, 0)
    assert await fails_of(store, "U1") == 0


async def test_resync_progress_is_visible_to_the_factor_through_the_token_record(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)

    await attempt(store, "U1", clock, candidates=[hotp("T1", far=40)])
    await attempt(store, "U1", clock, candidates=[hotp("T1", far=41)])

    [token] = await store.tokens.of_user("U1")
    assert (token.counter, token.resync_count, token.resync_next) == (0, 2, 42)


async def test_another_attempt_between_far_codes_restarts_the_resync_count(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    far = 500

    await attempt(store, "U1", clock, candidates=[hotp("T1", far=far)])
    await attempt(store, "U1", clock, bypass_hash="not-a-code")  # the gap
    gapped = [await attempt(store, "U1", clock, candidates=[hotp("T1", far=far + n)])
              for n in (1, 2)]
    assert [o.status for o in gapped] == [INVALID, INVALID]
    assert (await token_record(store, "U1", "T1"))["counter"] == 0

    # far+1 started a new count, far+2 continued it: far+3 completes three in a row.
    third = await attempt(store, "U1", clock, candidates=[hotp("T1", far=far + 3)])
    assert third.detail == "resynced"
    assert (await token_record(store, "U1", "T1"))["counter"] == far + 4


async def test_resync_needs_the_three_codes_within_five_minutes_of_the_first(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    await add_token(store, "T2", "U1", counter=0)

    first_ms = clock.now_ms()
    await attempt(store, "U1", clock, candidates=[hotp("T1", far=100), hotp("T2", far=200)])
    await attempt(store, "U1", clock, candidates=[hotp("T1", far=101), hotp("T2", far=201)])
    late_ms = first_ms + RESYNC_WINDOW_S * 1000 + 1

    late = await attempt(store, "U1", clock, now_ms=late_ms,
                         candidates=[hotp("T1", far=102), hotp("T2", far=202)])

    assert late.status is INVALID
    assert (await token_record(store, "U1", "T1"))["counter"] == 0
    assert (await token_record(store, "U1", "T2"))["counter"] == 0


async def test_resync_accepts_the_third_code_exactly_five_minutes_after_the_first(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)

    await attempt(store, "U1", clock, candidates=[hotp("T1", far=100)])
    clock.advance(RESYNC_WINDOW_S - 1)
    await attempt(store, "U1", clock, candidates=[hotp("T1", far=101)])
    clock.advance(1)
    third = await attempt(store, "U1", clock, candidates=[hotp("T1", far=102)])

    assert third.detail == "resynced"
    assert (await token_record(store, "U1", "T1"))["counter"] == 103


async def test_far_codes_that_are_not_consecutive_restart_the_resync_count(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)

    statuses = [(await attempt(store, "U1", clock, candidates=[hotp("T1", far=far)])).status
                for far in (100, 101, 105)]

    assert statuses == [INVALID] * 3
    assert (await token_record(store, "U1", "T1"))["counter"] == 0


async def test_a_normal_success_discards_resync_progress(store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)

    await attempt(store, "U1", clock, candidates=[hotp("T1", far=100)])
    await attempt(store, "U1", clock, candidates=[hotp("T1", far=101)])
    assert (await attempt(store, "U1", clock, candidates=[hotp("T1", match=0)])).status is ALLOW
    [token] = await store.tokens.of_user("U1")
    assert token.resync_count == 0
    after = await attempt(store, "U1", clock, candidates=[hotp("T1", far=102)])

    assert after.status is INVALID
    assert (await token_record(store, "U1", "T1"))["counter"] == 1


async def test_a_far_counter_behind_the_stored_counter_never_counts_towards_resync(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=50)

    statuses = [(await attempt(store, "U1", clock, candidates=[hotp("T1", far=far)])).status
                for far in (10, 11, 12)]

    assert statuses == [INVALID] * 3
    record = await token_record(store, "U1", "T1")
    assert (record["counter"], record.get("rs_n", 0)) == (50, 0)


async def test_resync_through_real_hotp_codes_and_the_factor(
        store: Store, clock: FakeClock, box: SecretBox) -> None:
    seed = bytes(range(20))
    user = await UserDirectory(store, clock).add(UserChanges(username="dana"))
    registry = TokenRegistry(store, box, clock)
    token = await registry.add(NewToken(type="h6", serial="dana-1", secret=seed.hex()))
    await registry.assign(user.user_id, token.token_id)
    generator = Hotp(seed, 6)

    async def submit(passcode: str) -> AttemptOutcome:
        loaded = await store.attempts.load(user.user_id)
        assert loaded is not None
        settings = await store.account.get()
        context = PasscodeContext(user.user_id, loaded.tokens, loaded.mobile_otp, settings,
                                  clock.now(), box)
        candidates = [m for f in passcode_factors() for m in f.matches(context, passcode)]
        return await attempt(store, user.user_id, clock, candidates=candidates)

    # 200 presses ahead: outside the look-ahead window (20), inside the resync range (1000).
    outcomes = [await submit(generator.at(counter)) for counter in (200, 201, 202)]

    assert [o.status for o in outcomes] == [INVALID, INVALID, ALLOW]
    assert outcomes[2].detail == "resynced"
    assert (await submit(generator.at(202))).status is INVALID
    assert (await submit(generator.at(203))).detail == ""


# --- scripts forgotten by Redis ----------------------------------------------------------------


async def test_a_call_after_script_flush_reloads_the_script_and_works(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    await store.redis.execute("SCRIPT", "FLUSH")

    outcome = await attempt(store, "U1", clock, candidates=[hotp("T1", match=0)])

    assert outcome.status is ALLOW
    assert (await token_record(store, "U1", "T1"))["counter"] == 1


async def test_concurrent_calls_after_script_flush_all_reload_and_still_accept_once(
        store: Store, clock: FakeClock) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    await store.redis.execute("SCRIPT", "FLUSH")

    outcomes = await asyncio.gather(*(attempt(store, "U1", clock,
                                              candidates=[hotp("T1", match=0)])
                                      for _ in range(20)))

    assert Counter(o.status for o in outcomes) == {ALLOW: 1, INVALID: 19}


# --- races ------------------------------------------------------------------------------------

Connections = Literal["one connection", "separate connections"]


async def racers(store: Store, separate_stores: StoreFactory, count: int,
                 connections: Connections) -> list[Store]:
    """`count` stores to race from: the test's own (shared connection) or one each."""
    if connections == "one connection":
        return [store] * count
    return await separate_stores(count)


RACE_MODES = pytest.mark.parametrize("connections", ["one connection", "separate connections"])


@RACE_MODES
async def test_race_same_hotp_code_is_accepted_exactly_once(
        store: Store, clock: FakeClock, separate_stores: StoreFactory,
        connections: Connections) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=3)
    stores = await racers(store, separate_stores, 50, connections)

    outcomes = await asyncio.gather(*(attempt(s, "U1", clock, candidates=[hotp("T1", match=7)])
                                      for s in stores))

    assert Counter(o.status for o in outcomes) == {ALLOW: 1, INVALID: 49}
    assert sorted(o.fails for o in outcomes if o.status is INVALID) == list(range(1, 50))
    assert (await token_record(store, "U1", "T1"))["counter"] == 8


@RACE_MODES
async def test_race_same_totp_step_is_accepted_exactly_once(
        store: Store, clock: FakeClock, separate_stores: StoreFactory,
        connections: Connections) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", type_=TokenType.TOTP6)
    stores = await racers(store, separate_stores, 50, connections)

    outcomes = await asyncio.gather(*(attempt(s, "U1", clock, candidates=[totp("T1", 77)])
                                      for s in stores))

    assert Counter(o.status for o in outcomes) == {ALLOW: 1, INVALID: 49}
    assert (await token_record(store, "U1", "T1"))["last_step"] == 77


@RACE_MODES
async def test_race_bypass_code_with_three_uses_admits_exactly_three(
        store: Store, clock: FakeClock, separate_stores: StoreFactory,
        connections: Connections) -> None:
    await add_user(store, "U1")
    await store.bypass.add("U1", [bypass_code("h1", "U1", uses=3)], preserve=False,
                           now_ms=clock.now_ms(), limit=100)
    stores = await racers(store, separate_stores, 30, connections)

    outcomes = await asyncio.gather(*(attempt(s, "U1", clock, bypass_hash="h1") for s in stores))

    allowed = [o for o in outcomes if o.status is ALLOW]
    assert sorted(o.detail for o in allowed) == ["0", "1", "2"]
    assert Counter(o.status for o in outcomes) == {ALLOW: 3, INVALID: 27}
    assert await bypass_records(store, "U1") == {}


@RACE_MODES
async def test_race_wrong_codes_record_exactly_threshold_failures(
        store: Store, clock: FakeClock, separate_stores: StoreFactory,
        connections: Connections) -> None:
    threshold = 5
    await add_user(store, "U1")
    stores = await racers(store, separate_stores, 30, connections)

    outcomes = await asyncio.gather(*(attempt(s, "U1", clock,
                                              settings=lockout_settings(threshold=threshold))
                                      for s in stores))

    assert Counter(o.status for o in outcomes) == {INVALID: threshold - 1, LOCKED_NOW: 1,
                                                   LOCKED: 30 - threshold}
    assert sorted(o.fails for o in outcomes if o.status is INVALID) == list(range(1, threshold))
    assert [o.fails for o in outcomes if o.status is LOCKED_NOW] == [threshold]
    fields = await user_fields(store, "U1")
    assert (fields["fails"], fields["status"]) == (str(threshold), "locked out")


@RACE_MODES
async def test_race_valid_and_wrong_codes_never_let_a_code_through_after_lockout(
        store: Store, clock: FakeClock, separate_stores: StoreFactory,
        connections: Connections) -> None:
    await add_user(store, "U1")
    await add_token(store, "T1", "U1", counter=0)
    stores = await racers(store, separate_stores, 40, connections)
    settings = lockout_settings(threshold=3)

    outcomes = await asyncio.gather(*(
        attempt(s, "U1", clock, settings=settings,
                candidates=[hotp("T1", match=0)] if i % 2 else [])
        for i, s in enumerate(stores)))

    # The valid code is accepted at most once, and only while the user is not locked out.
    statuses = [o.status for o in outcomes]
    assert statuses.count(ALLOW) <= 1
    assert statuses.count(LOCKED_NOW) == 1
    first_lock = statuses.index(LOCKED_NOW) if connections == "one connection" else None
    if first_lock is not None:
        # One connection: replies come back in the order Redis ran the calls.
        assert set(statuses[first_lock + 1:]) == {LOCKED}
    fields = await user_fields(store, "U1")
    assert (fields["fails"], fields["status"]) == ("3", "locked out")
    expected_counter = 1 if ALLOW in statuses else 0
    assert (await token_record(store, "U1", "T1"))["counter"] == expected_counter
