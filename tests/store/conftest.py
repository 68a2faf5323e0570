"""Helpers for the store tests: a fake clock, users/tokens/bypass codes written through the store,
settings with a chosen lockout policy, and extra clients on their own connections."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from authsvc.clock import FakeClock
from authsvc.domain.trash import Trash
from authsvc.model.attempts import Match
from authsvc.model.bypass import BypassCode, NewBypassCode
from authsvc.model.factors import CommitRule, Home, LogFactor
from authsvc.model.settings import AccountSettings
from authsvc.model.tokens import Token, TokenType
from authsvc.model.users import User, UserStatus
from authsvc.store import Redis, Store

StoreFactory = Callable[[int], Awaitable[list[Store]]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def lockout_settings(threshold: int = 10, expire_minutes: int = 0) -> AccountSettings:
    """Settings as stored by update_settings, with this lockout policy."""
    return AccountSettings.from_stored({"lockout_threshold": str(threshold),
                                        "lockout_expire_duration": str(expire_minutes)})


async def add_user(store: Store, user_id: str, username: str | None = None, *,
                   status: UserStatus = UserStatus.ACTIVE,
                   aliases: dict[int, str] | None = None) -> User:
    """A user written through the store (names claimed by the script)."""
    user = User(user_id=user_id, username=username or user_id.lower(), created=1_800_000_000,
                status=status, aliases=aliases or {})
    await store.users.create(user, order_ms=1_800_000_000_000)
    return user


async def add_token(store: Store, token_id: str, owner: str | None, *,
                    type_: TokenType = TokenType.HOTP6, counter: int = 0,
                    last_step: int = -1) -> Token:
    """A hardware token created with no holder and then given to `owner` (when given): the
    owner's copy, as read back."""
    token = Token(token_id=token_id, type=type_, serial=f"serial-{token_id}",
                  sealed_seed="v1.not-a-real-sealed-seed", created=1_800_000_000,
                  counter=counter, last_step=last_step)
    await store.tokens.create(token, order_ms=1_800_000_000_000)
    if owner is not None:
        assert await store.tokens.give(owner, dataclasses.replace(token, owner=owner))
    return dataclasses.replace(token, owner=owner, holders=(owner,) if owner else ())


def bypass_code(code_hash: str, user_id: str, *, uses: int = 1, expires_ms: int = 0,
                code_id: str | None = None) -> NewBypassCode:
    """A bypass code to store, named by its (fake) keyed hash."""
    return NewBypassCode(code_hash=code_hash,
                         meta=BypassCode(code_id=code_id or f"DB-{code_hash}", user_id=user_id,
                                         created=1_800_000_000, uses=uses, expires_ms=expires_ms))


async def delete_user(store: Store, user: User) -> None:
    """Delete a user for good, whatever its status (the Trash's permanent deletion)."""
    assert await Trash(store, FakeClock()).purge(user, trashed_by_ms=None) is not None


async def user_fields(store: Store, user_id: str) -> dict[str, str]:
    """The user's hash as Redis holds it."""
    flat = await store.redis.execute("HGETALL", store.keys.user(user_id))
    return dict(zip(flat[0::2], flat[1::2], strict=True))


async def token_record(store: Store, user_id: str | None, token_id: str) -> dict[str, Any]:
    """A token's JSON record as Redis holds it (a holder's copy, or with None the token's own
    record)."""
    key = store.keys.user(user_id) if user_id else store.keys.token_records()
    raw = await store.redis.execute("HGET", key, f"t:{token_id}" if user_id else token_id)
    assert raw is not None, f"token {token_id} is not in {key}"
    record: dict[str, Any] = json.loads(raw)
    return record


async def bypass_records(store: Store, user_id: str) -> dict[str, dict[str, Any]]:
    """The user's bypass hash: code hash -> decoded metadata."""
    flat = await store.redis.execute("HGETALL", store.keys.user_bypass(user_id))
    return {field: json.loads(value) for field, value in zip(flat[0::2], flat[1::2], strict=True)}


@pytest.fixture
async def separate_stores(redis_url: str) -> AsyncIterator[StoreFactory]:
    """Make N more stores, each on its own Redis connection (closed after the test)."""
    made: list[Store] = []

    async def make(count: int) -> list[Store]:
        stores = [Store(Redis.from_url(redis_url)) for _ in range(count)]
        made.extend(stores)
        return stores

    yield make
    for store in made:
        await store.close()


def bypass_match(code_hash: str) -> Match:
    """What the bypass factor hands the decision script for one code."""
    return Match(LogFactor.BYPASS_CODE, CommitRule.BYPASS_USE, Home.BYPASS, code_hash)


def sms_match(code_hash: str) -> Match:
    """What the SMS passcode factor hands the decision script for one code."""
    return Match(LogFactor.SMS_PASSCODE, CommitRule.SMS_USE, Home.SMS, code_hash)


def hotp_match(token_id: str, counter: int | None = None, far: int | None = None) -> Match:
    """What the HOTP factor hands the decision script for one token."""
    return Match(LogFactor.HARDWARE_TOKEN, CommitRule.HOTP_COUNTER, Home.TOKENS, token_id,
                 counter=counter, far=far)
