"""Push transactions in Redis: created and ended by scripts in the user's slot, found by txid
through a small global index (only when something will ask by txid: async auth, Verified Push,
calls), delivered through the phone's inbox (push_deliver.lua, in the phone's slot, holding the
rendered transaction so a listing reads nothing else), announced on the events channel so that a
waiter in any process wakes up. A push's urgid names its owner (`model.pushes.urgid_of`), so a
phone's answer finds the push without an index."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
from authsvc.store.redis_errors import ReplicaUnacknowledged
from authsvc.store.scripts import ScriptName

INDEX_GRACE_MS = 600_000
_ANSWERS = frozenset({PushOperation.APPROVE, PushOperation.DENY, PushOperation.FRAUD})
_STATE_FIELDS = ("state", "kind", "phone_id", "expires_ms", "seq", "polled_seq", "reason",
                 "answered")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A push waiting in a phone's inbox: its urgid, expiry, owner and listing."""

    urgid: str
    expires_ms: int
    user_id: str
    txid: str
    transaction: dict[str, Any]


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
                     prepared: bool, gate: GateArgs = NO_GROUPS
                     ) -> tuple[CreateStatus, int | list[str]]:
        """Run push_create.lua; returns the status and its detail (count or cooldown end; for
        OVERDUE the txids to expire first). `gate`: what the user's groups impose, and the
        membership version read (STALE when it moved)."""
        keys, user_id, txid = self._keys, push.user_id, push.txid
        args: list[str | int] = [now_ms, push.expires_ms, limits.lockout_expire_ms,
                                 limits.max_outstanding, limits.cooldown_after, limits.cooldown_ms,
                                 txid, "1" if prepared else "0", gate.status, gate.version]
        args += [item for pair in _push_fields(push).items() for item in pair]
        reply = await self._ctx.scripts.run(
            ScriptName.PUSH_CREATE,
            [keys.user(user_id), keys.user_pushes(user_id), keys.push(user_id, txid),
             *keys.counting(user_id)], args)
        status = CreateStatus(int(reply[0]))
        if status is CreateStatus.OVERDUE:
            return status, [str(txid) for txid in reply[1:]]
        return status, int(reply[1]) if len(reply) > 1 else 0

    async def deliver(self, push: Push, transaction: Mapping[str, Any]) -> None:
        """Put the push (as the phone lists it: `transaction`) in the phone's inbox and wake
        the phone: one script call in the phone's slot."""
        entry = json.dumps({"e": push.expires_ms, "u": push.user_id, "t": push.txid,
                            "x": transaction}, separators=(",", ":"))
        await self._ctx.scripts.run(
            ScriptName.PUSH_DELIVER, [self._keys.phone_inbox(push.phone_id)],
            [push.urgid, entry, push.expires_ms + INDEX_GRACE_MS, self._keys.events(),
             push.phone_id])

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

    async def state(self, user_id: str, txid: str) -> Push:
        """The push's state only (what a verdict and a long poll need: no listing, no log
        facts to parse); state UNKNOWN when there is none."""
        values = await self._ctx.redis.execute("HMGET", self._keys.push(user_id, txid),
                                               *_STATE_FIELDS)
        return push_from_hash(user_id, txid, {name: value for name, value
                                              in zip(_STATE_FIELDS, values, strict=True)
                                              if value is not None})

    async def mark_polled(self, user_id: str, txid: str, seq: str) -> None:
        await self._ctx.redis.execute("HSET", self._keys.push(user_id, txid), "polled_seq", seq)

    async def inbox(self, phone_id: str, now_ms: int) -> tuple[list[InboxEntry], list[InboxEntry]]:
        """(live, expired) entries of the phone's inbox, oldest first: one read."""
        reply = await self._ctx.redis.execute("HGETALL", self._keys.phone_inbox(phone_id))
        live: list[InboxEntry] = []
        expired: list[InboxEntry] = []
        for urgid, text in flat_to_dict(reply).items():
            entry = _inbox_entry(urgid, text)
            if entry is None:
                continue  # not written by push_deliver.lua: ignored, and it expires with the hash
            (live if entry.expires_ms > now_ms else expired).append(entry)
        live.sort(key=lambda entry: entry.expires_ms)
        return live, expired

    @staticmethod
    def announced_entry(news: str) -> InboxEntry | None:
        """The inbox entry a phone's wake-up announced (push_deliver.lua's ``urgid\nentry``),
        or None if the news is not one."""
        urgid, _, text = news.partition("\n")
        return _inbox_entry(urgid, text)

    async def take_from_inbox(self, phone_id: str, urgids: Sequence[str]) -> None:
        if urgids:
            await self._ctx.redis.execute("HDEL", self._keys.phone_inbox(phone_id), *urgids)

    async def take_from_inbox_later(self, phone_id: str, urgid: str) -> None:
        """HDEL without waiting for the reply (an ended push: the answer is decided, and a lost
        HDEL only leaves an entry whose answer is refused, until it expires)."""
        sent = await self._ctx.redis.send("HDEL", self._keys.phone_inbox(phone_id), urgid)
        sent.add_done_callback(_report_lost)

    async def read_many(self, refs: Sequence[tuple[str, str]]) -> list[Push]:
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.push(user_id, txid)) for user_id, txid in refs])
        return [push_from_hash(user_id, txid, flat_to_dict(reply))
                for (user_id, txid), reply in zip(refs, replies, strict=True)]

    async def resolve(self, user_id: str, txid: str, *, now_ms: int, operation: PushOperation,
                      phone_id: str = "", code_hash: str = "", max_tries: int = 3,
                      fraud_locks: bool = False, deny_reason: str = "", urgid: str = "",
                      signature_digest: str = "") -> Resolution:
        """Run push_resolve.lua (answer or expire); an ENDED resolution carries the push as
        its log record needs it (state, reason, kind, phone, facts). Raises
        `ReplicaUnacknowledged` (503) when a phone's answer ended the push but no replica
        acknowledged it in time (the phone retries; a failover could otherwise bring the push
        back pending after its answer). A `signature_digest` (a phone's answer) is refused as
        REPLAYED, changing nothing, when it was seen in the last 600 s."""
        keys = self._keys
        guard = [keys.answer_signature(user_id, signature_digest)] if signature_digest else []
        reply, confirmed = await self._ctx.scripts.run_waited(
            ScriptName.PUSH_RESOLVE,
            [keys.push(user_id, txid), keys.user(user_id), keys.user_pushes(user_id),
             *keys.counting(user_id), *guard],
            [now_ms, operation.value, phone_id, code_hash, max_tries, "1" if fraud_locks else "0",
             keys.events(), txid, deny_reason, urgid])
        status = ResolveStatus(int(reply[0]))
        if not confirmed and status is ResolveStatus.ENDED and operation in _ANSWERS:
            raise ReplicaUnacknowledged("no replica acknowledged a push answer in time")
        if status is ResolveStatus.REPLAYED:
            return Resolution(status)
        if status is ResolveStatus.WRONG_CODE:
            return Resolution(status, "pending", int(reply[1]))
        if status is ResolveStatus.ANSWERED:
            return Resolution(status, "pending")
        if status is ResolveStatus.ENDED:
            state, reason, kind, phone, facts = (str(item) for item in reply[1:6])
            facts_dict = json.loads(facts or "{}")
            return Resolution(status, state, ended=Push(
                txid=txid, user_id=user_id, state=PushState(state), kind=PushKind(kind or "auth"),
                phone_id=phone, reason=reason,
                facts=AttemptFacts(**facts_dict) if facts_dict else None))
        return Resolution(status, str(reply[1]))


def _inbox_entry(urgid: str, text: str) -> InboxEntry | None:
    try:
        data = json.loads(text)
        return InboxEntry(urgid, int(data["e"]), str(data["u"]), str(data["t"]), dict(data["x"]))
    except (ValueError, KeyError, TypeError):
        return None


def _report_lost(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("an answered push stays in its phone's inbox: %s", done.exception())


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
