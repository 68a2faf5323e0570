"""Push transactions in Redis: created and ended by scripts in the user's slot, found by txid
and urgid through small global indexes, delivered through the phone's inbox, announced on the
events channel so that a waiter in any process wakes up."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from authsvc.model.authlog import AttemptFacts
from authsvc.model.groups import NO_GROUPS, GateArgs
from authsvc.model.pushes import (
    CreateStatus,
    Push,
    PushKind,
    PushLimits,
    PushOperation,
    PushState,
    Resolution,
    ResolveStatus,
)
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.scripts import ScriptName

INDEX_GRACE_MS = 600_000



class PushStore:
    """Create, read, index and end pushes."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def prepare(self, user_id: str, txid: str, *, code_hash: str, digits: int,
                      expires_ms: int) -> None:
        """A Verified Push transaction announced by preauth (state "prepared")."""
        keys = self._keys
        await self._ctx.redis.pipeline([
            ("HSET", keys.push(user_id, txid), "state", PushState.PREPARED.value,
             "code_hash", code_hash, "digits", digits, "prepared_until", expires_ms),
            ("PEXPIREAT", keys.push(user_id, txid), expires_ms + INDEX_GRACE_MS),
            ("SET", keys.tx_owner(txid), user_id, "PXAT", expires_ms + INDEX_GRACE_MS)])

    async def create(self, push: Push, *, now_ms: int, limits: PushLimits,
                     prepared: bool, gate: GateArgs = NO_GROUPS) -> tuple[CreateStatus, int]:
        """Run push_create.lua; returns the status and its detail (count or cooldown end).
        `gate`: what the user's groups impose, and the membership version read (STALE when
        it moved)."""
        keys, user_id, txid = self._keys, push.user_id, push.txid
        args: list[str | int] = [now_ms, push.expires_ms, limits.lockout_expire_ms,
                                 limits.max_outstanding, limits.cooldown_after, limits.cooldown_ms,
                                 txid, "1" if prepared else "0", gate.status, gate.version]
        args += [item for pair in _push_fields(push).items() for item in pair]
        reply = await self._ctx.scripts.run(
            ScriptName.PUSH_CREATE,
            [keys.user(user_id), keys.user_pushes(user_id), keys.push(user_id, txid),
             *keys.counting(user_id)], args)
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

    async def read(self, user_id: str, txid: str) -> Push:
        """The push (state UNKNOWN when there is none)."""
        reply = await self._ctx.redis.execute("HGETALL", self._keys.push(user_id, txid))
        return push_from_hash(user_id, txid, flat_to_dict(reply))

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

    async def read_many(self, refs: Sequence[tuple[str, str]]) -> list[Push]:
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.push(user_id, txid)) for user_id, txid in refs])
        return [push_from_hash(user_id, txid, flat_to_dict(reply))
                for (user_id, txid), reply in zip(refs, replies, strict=True)]

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

    async def resolve(self, user_id: str, txid: str, *, now_ms: int, operation: PushOperation,
                      phone_id: str = "", code_hash: str = "", max_tries: int = 3,
                      fraud_locks: bool = False, deny_reason: str = "") -> Resolution:
        """Run push_resolve.lua (answer or expire)."""
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.PUSH_RESOLVE,
            [keys.push(user_id, txid), keys.user(user_id), keys.user_pushes(user_id),
             *keys.counting(user_id)],
            [now_ms, operation.value, phone_id, code_hash, max_tries, "1" if fraud_locks else "0",
             keys.events(), txid, deny_reason])
        status = ResolveStatus(int(reply[0]))
        if status is ResolveStatus.WRONG_CODE:
            return Resolution(status, "pending", int(reply[1]))
        if status is ResolveStatus.ANSWERED:
            return Resolution(status, "pending")
        return Resolution(status, str(reply[1]))


def _push_fields(push: Push) -> dict[str, str]:
    """The fields push_create.lua stores besides its own (state, seq, tries, times)."""
    return {
        "kind": push.kind.value, "phone_id": push.phone_id, "urgid": push.urgid,
        "type": push.type, "display_username": push.display_username,
        "pushinfo": json.dumps(push.pushinfo), "app": push.app, "ipaddr": push.ipaddr,
        "confirmation_code": push.confirmation_code, "call_token": push.call_token,
        "facts": json.dumps(dataclasses.asdict(push.facts) if push.facts else {}),
    }


def push_from_hash(user_id: str, txid: str, data: dict[str, str]) -> Push:
    """A push as stored (HGETALL); an empty hash is a push with state UNKNOWN."""
    facts = json.loads(data.get("facts") or "{}")
    return Push(
        txid=txid, user_id=user_id, state=PushState(data.get("state", "")),
        kind=PushKind(data.get("kind") or "auth"), phone_id=data.get("phone_id", ""),
        urgid=data.get("urgid", ""), created_ms=int(data.get("created_ms") or 0),
        expires_ms=int(data.get("expires_ms") or 0), seq=data.get("seq", ""),
        polled_seq=data.get("polled_seq", ""), reason=data.get("reason", ""),
        answered=bool(data.get("answered")), type=data.get("type") or "login",
        display_username=data.get("display_username", ""),
        pushinfo=[(str(k), str(v)) for k, v in json.loads(data.get("pushinfo") or "[]")],
        app=data.get("app", ""), ipaddr=data.get("ipaddr", ""),
        confirmation_code=data.get("confirmation_code", ""),
        call_token=data.get("call_token", ""), code_hash=data.get("code_hash", ""),
        digits=int(data.get("digits") or 0), facts=AttemptFacts(**facts) if facts else None)
