"""Push transactions in Redis: created and ended by scripts in the user's slot, found by txid
and urgid through small global indexes, delivered through the phone's inbox, announced on the
events channel so that a waiter in any process wakes up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.scripts import ScriptName

INDEX_GRACE_MS = 600_000


class CreateStatus(IntEnum):
    """Reply codes of push_create.lua."""

    CREATED = 1
    LOCKED = 4
    DISABLED = 5
    BYPASS_USER = 6
    NO_USER = 7
    TOO_MANY_OUTSTANDING = 8
    COOLING_DOWN = 9
    NO_PREPARED_TX = 10


class ResolveStatus(IntEnum):
    """Reply codes of push_resolve.lua."""

    ENDED = 1
    NOT_PENDING = 2
    WRONG_CODE = 3
    ANSWERED = 4


@dataclass(frozen=True, slots=True)
class PushLimits:
    """What push_create.lua enforces."""

    lockout_expire_ms: int
    max_outstanding: int
    cooldown_after: int
    cooldown_ms: int


@dataclass(frozen=True, slots=True)
class Resolution:
    """push_resolve.lua's answer."""

    status: ResolveStatus
    state: str = ""
    tries_left: int = 0


class PushStore:
    """Create, read, index and end pushes."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def prepare(self, user_id: str, txid: str, fields: Mapping[str, str],
                      expires_ms: int) -> None:
        """A Verified Push transaction announced by preauth (state "prepared")."""
        keys = self._keys
        flat = [item for pair in fields.items() for item in pair]
        await self._ctx.redis.pipeline([
            ("HSET", keys.push(user_id, txid), "state", "prepared", *flat),
            ("PEXPIREAT", keys.push(user_id, txid), expires_ms + INDEX_GRACE_MS),
            ("SET", keys.tx_owner(txid), user_id, "PXAT", expires_ms + INDEX_GRACE_MS)])

    async def create(self, user_id: str, txid: str, *, now_ms: int, expires_ms: int,
                     limits: PushLimits, prepared: bool,
                     fields: Mapping[str, str]) -> tuple[CreateStatus, int]:
        """Run push_create.lua; returns the status and its detail (count or cooldown end)."""
        keys = self._keys
        args: list[str | int] = [now_ms, expires_ms, limits.lockout_expire_ms,
                                 limits.max_outstanding, limits.cooldown_after, limits.cooldown_ms,
                                 txid, "1" if prepared else "0"]
        args += [item for pair in fields.items() for item in pair]
        reply = await self._ctx.scripts.run(
            ScriptName.PUSH_CREATE,
            [keys.user(user_id), keys.user_pushes(user_id), keys.push(user_id, txid)], args)
        return CreateStatus(int(reply[0])), int(reply[1]) if len(reply) > 1 else 0

    async def deliver(self, user_id: str, txid: str, phone_id: str, urgid: str,
                      expires_ms: int) -> None:
        """Index the push by txid and urgid, put it in the phone's inbox, wake the phone."""
        keys, until = self._keys, expires_ms + INDEX_GRACE_MS
        await self._ctx.redis.pipeline([
            ("SET", keys.tx_owner(txid), user_id, "PXAT", until),
            ("SET", keys.urgid(urgid), f"{user_id} {txid}", "PXAT", until),
            ("ZADD", keys.phone_inbox(phone_id), expires_ms, urgid),
            ("PUBLISH", keys.events(), f"phone:{phone_id}")])

    async def index(self, user_id: str, txid: str, expires_ms: int) -> None:
        """Index a transaction by txid only (phone calls: no app inbox)."""
        await self._ctx.redis.execute("SET", self._keys.tx_owner(txid), user_id, "PXAT",
                                      expires_ms + INDEX_GRACE_MS)

    async def owner(self, txid: str) -> str | None:
        owner: str | None = await self._ctx.redis.execute("GET", self._keys.tx_owner(txid))
        return owner

    async def read(self, user_id: str, txid: str) -> dict[str, str]:
        return flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.push(user_id, txid)))

    async def mark_polled(self, user_id: str, txid: str, seq: str) -> None:
        await self._ctx.redis.execute("HSET", self._keys.push(user_id, txid), "polled_seq", seq)

    async def by_urgid(self, urgid: str) -> tuple[str, str] | None:
        value = await self._ctx.redis.execute("GET", self._keys.urgid(urgid))
        if not value:
            return None
        user_id, txid = str(value).split(" ", 1)
        return user_id, txid

    async def inbox(self, phone_id: str, now_ms: int) -> tuple[list[str], list[str]]:
        """(live urgids, expired urgids) waiting in the phone's inbox."""
        key = self._keys.phone_inbox(phone_id)
        live, expired = await self._ctx.redis.pipeline([
            ("ZRANGE", key, f"({now_ms}", "+inf", "BYSCORE"),
            ("ZRANGE", key, "-inf", now_ms, "BYSCORE")])
        return list(live), list(expired)

    async def take_from_inbox(self, phone_id: str, urgids: Sequence[str]) -> None:
        if urgids:
            await self._ctx.redis.execute("ZREM", self._keys.phone_inbox(phone_id), *urgids)

    async def read_many(self, refs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.push(user_id, txid)) for user_id, txid in refs])
        return [flat_to_dict(reply) for reply in replies]

    async def owners_by_urgid(self, urgids: Sequence[str]) -> list[tuple[str, str] | None]:
        if not urgids:
            return []
        # One GET each, pipelined: the urgid keys live in different slots (no MGET in a cluster).
        values = await self._ctx.redis.pipeline([("GET", self._keys.urgid(u)) for u in urgids])
        owners: list[tuple[str, str] | None] = []
        for value in values:
            user_id, _, txid = str(value or "").partition(" ")
            owners.append((user_id, txid) if txid else None)
        return owners

    async def expired_outstanding(self, user_id: str, now_ms: int) -> list[str]:
        """txids of the user's pushes whose time ran out but which nobody has ended yet."""
        txids: list[str] = await self._ctx.redis.execute(
            "ZRANGE", self._keys.user_pushes(user_id), "-inf", now_ms, "BYSCORE")
        return txids

    async def resolve(self, user_id: str, txid: str, *, now_ms: int, operation: str,
                      phone_id: str = "", code_hash: str = "", max_tries: int = 3,
                      fraud_locks: bool = False, deny_reason: str = "") -> Resolution:
        """Run push_resolve.lua (answer or expire)."""
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.PUSH_RESOLVE,
            [keys.push(user_id, txid), keys.user(user_id), keys.user_pushes(user_id)],
            [now_ms, operation, phone_id, code_hash, max_tries, "1" if fraud_locks else "0",
             keys.events(), txid, deny_reason])
        status = ResolveStatus(int(reply[0]))
        if status is ResolveStatus.WRONG_CODE:
            return Resolution(status, "pending", int(reply[1]))
        if status is ResolveStatus.ANSWERED:
            return Resolution(status, "pending")
        return Resolution(status, str(reply[1]))
