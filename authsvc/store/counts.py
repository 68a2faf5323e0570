"""The user counters (Users page counts, `info/summary`) in Redis: exact, and never a scan.

Design. A global counter cannot change in the same script as a user on Redis Cluster (a
script's keys must share one slot, and each user has its own tag), so the counters are sharded
by hash slot: one shard per slot that holds users, under a tag that lands in that slot
(`store/slots.py`). Every script that changes what a user counts as (created, deleted, sent to
or restored from the Trash, locked or unlocked, status set, devices added or removed, a login)
ends with ``count_user`` (``lua/lib/user_counts.lua``), which moves the user between its
shard's counters in the same atomic call. Device changes made by plain commands run in one
MULTI/EXEC with ``user_recount.lua`` (`atomically`). Reading sums the registered shards: a
constant number of commands per slot in use (at most 16,384), whatever the number of users.

Races, and why the counts stay exact:

- Two scripts changing the same user run one after the other (one slot, one thread); each
  compares the user's stored place (`counted`) with its state now, so the second one sees the
  first one's result, never a stale read, and no change is counted twice or lost.
- A shard is registered (SADD) before the first user of its slot is created, so a reader never
  misses a shard that counts someone. A reader summing shards one by one may see a user moved
  between two shards it reads at different moments only if the user changed slot, which never
  happens (the slot is the user id's).
- A read is a snapshot per shard, not across shards: a count read while users are changing is
  the exact count of some interleaving of those changes, as for any read that does not block
  writers. Once writes stop, every count equals the scan `rebuild` would make (the tests prove
  it after racing operations).
- Inside MULTI/EXEC a NOSCRIPT reply (scripts flushed) leaves the device change made but the
  user's place stale: `atomically` then runs the script again, loaded; a crash in between
  leaves that one user stale until its next counted change or `rebuild`. No counter ever
  disagrees with the places it sums, so a rebuild repairs without ever double counting.

Users stored before the counters existed are counted once by `rebuild` (run at start-up while
`counts:ready` is absent; idempotent, safe while traffic runs: `user_recount.lua` per user).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authsvc.model.users import UserCounts
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.listing import Listing
from authsvc.store.redis_client import Arg, RedisError
from authsvc.store.scripts import ScriptName

SLOT_BATCH = 1024
REBUILD_PAGE = 500
_BUCKETS = ("total", "active", "bypass", "disabled", "not_enrolled", "trash")


async def counted_transaction(ctx: StoreContext, user_id: str,
                              commands: Sequence[Sequence[Arg]]) -> list[Any]:
    """Run `commands` (keys of the user's slot only) and recount the user in one MULTI/EXEC;
    returns the commands' replies. NOSCRIPT: see the module docstring."""
    keys = [ctx.keys.user(user_id), *ctx.keys.counting(user_id)]
    recount = ctx.scripts.command(ScriptName.USER_RECOUNT, keys, [])
    replies = await ctx.redis.pipeline([("MULTI",), *commands, recount, ("EXEC",)])
    executed = replies[-1]
    if isinstance(executed, RedisError):
        raise executed  # EXECABORT: a command was refused when queued, nothing ran
    failed = [reply for reply in executed if isinstance(reply, Exception)]
    if failed and not str(failed[-1]).startswith("NOSCRIPT"):
        raise RedisError(str(failed[-1]))
    if failed:
        await ctx.scripts.load(ScriptName.USER_RECOUNT)
        await ctx.scripts.run(ScriptName.USER_RECOUNT, keys, [])
    return list(executed[:-1])


class CountStore:
    """The sharded user counters, and the per-slot sets the Trash and expiration sweeps read."""

    def __init__(self, ctx: StoreContext, listing: Listing) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = listing

    def counted_keys(self, user_id: str) -> list[str]:
        """The user hash and its counting keys: the KEYS of every counting script."""
        return [self._keys.user(user_id), *self._keys.counting(user_id)]

    async def register(self, user_id: str) -> None:
        """Make sure the user's shard is read by `totals` (before the user is created)."""
        await self._ctx.redis.execute("SETBIT", self._keys.count_slots(),
                                      self._keys.user_slot(user_id), 1)

    async def recount(self, user_id: str) -> bool:
        """Put the user in the right place in its counters; False if there is no such user."""
        reply = await self._ctx.scripts.run(ScriptName.USER_RECOUNT,
                                            self.counted_keys(user_id), [])
        return bool(reply)

    async def seen(self, user_id: str, now_ms: int) -> bool:
        """A Bypass-status user was let through: its last login (user_seen.lua)."""
        reply = await self._ctx.scripts.run(ScriptName.USER_SEEN, self.counted_keys(user_id),
                                            [now_ms])
        return bool(reply)

    async def slots(self) -> list[int]:
        """The slots whose shards hold counters, in order."""
        bits, older = await self._ctx.redis.pipeline([
            ("GET", self._keys.count_slots()), ("SMEMBERS", self._keys.count_slots_set())])
        found = {int(member) for member in older}
        data = (bits or "").encode("utf-8", "surrogateescape")  # the bytes as stored
        found.update(index * 8 + bit for index, byte in enumerate(data) if byte
                     for bit in range(8) if byte & (0x80 >> bit))
        return sorted(found)

    async def totals(self, *, inactive_by_s: int, locked_after_ms: int | None) -> UserCounts:
        """Sum every shard: `inactive_by_s` is the last activity that still counts as inactive,
        `locked_after_ms` the oldest lockout still in force (None: lockouts never expire)."""
        keys, sums = self._keys, dict.fromkeys((*_BUCKETS, "locked", "inactive"), 0)
        locked_low = "-inf" if locked_after_ms is None else f"({locked_after_ms}"
        slots = await self.slots()
        for start in range(0, len(slots), SLOT_BATCH):
            batch = slots[start:start + SLOT_BATCH]
            replies = await self._ctx.redis.pipeline([command for slot in batch for command in (
                ("HGETALL", keys.shard_counts(slot)),
                ("ZCOUNT", keys.shard_activity(slot), "-inf", inactive_by_s),
                ("ZCOUNT", keys.shard_locked(slot), locked_low, "+inf"))])
            for index in range(0, len(replies), 3):
                counts = flat_to_dict(replies[index])
                for bucket in _BUCKETS:
                    sums[bucket] += int(counts.get(bucket) or 0)
                sums["inactive"] += int(replies[index + 1])
                sums["locked"] += int(replies[index + 2])
        return UserCounts(total=sums["total"], active=sums["active"], bypass=sums["bypass"],
                          disabled=sums["disabled"], locked_out=sums["locked"],
                          not_enrolled=sums["not_enrolled"], inactive=sums["inactive"],
                          trash=sums["trash"])

    async def _by_score(self, shard: Any, low: str, high: str | int,
                        limit: int) -> list[tuple[str, int]]:
        """(member, score) of every registered shard's set (`shard`: slot -> key) in the
        score range, at most `limit` per shard."""
        found: list[tuple[str, int]] = []
        slots = await self.slots()
        for start in range(0, len(slots), SLOT_BATCH):
            replies = await self._ctx.redis.pipeline([
                ("ZRANGE", shard(slot), low, high, "BYSCORE", "LIMIT", 0, limit, "WITHSCORES")
                for slot in slots[start:start + SLOT_BATCH]])
            for reply in replies:
                found += [(reply[i], int(float(reply[i + 1]))) for i in range(0, len(reply), 2)]
        return found

    async def trashed(self) -> list[tuple[str, int]]:
        """Every user in the Trash with when it was sent there (ms), oldest first."""
        found = await self._by_score(self._keys.shard_trash, "-inf", "+inf", 2**31)
        return sorted(found, key=lambda pair: (pair[1], pair[0]))

    async def trashed_by(self, by_ms: int, limit: int) -> list[str]:
        """Users sent to the Trash at or before `by_ms` (at most `limit` per slot)."""
        return [user_id for user_id, _ in
                await self._by_score(self._keys.shard_trash, "-inf", by_ms, limit)]

    async def inactive_since(self, by_s: int, limit: int) -> list[str]:
        """Users outside the Trash last active at or before `by_s` (at most `limit` per slot)."""
        return [user_id for user_id, _ in
                await self._by_score(self._keys.shard_activity, "-inf", by_s, limit)]

    async def ready(self) -> bool:
        """True once every stored user has been counted (`rebuild` ran to the end)."""
        return bool(await self._ctx.redis.execute("EXISTS", self._keys.counts_ready()))

    async def mark_ready_if_empty(self) -> None:
        """A store without users needs no rebuild: every user will be counted as created."""
        redis = self._ctx.redis
        if not await self._listing.count():
            await redis.execute("SET", self._keys.counts_ready(), "1", "NX")

    async def rebuild(self) -> int:
        """Count every user (a scan: start-up of an older store, or a repair); returns how many
        users were looked at. Safe while other processes change users."""
        redis, seen, offset = self._ctx.redis, 0, 0
        while ids := (await self._listing.page(offset, REBUILD_PAGE))[0]:
            await redis.pipeline([("SETBIT", self._keys.count_slots(), slot, 1) for slot in {
                self._keys.user_slot(user_id) for user_id in ids}])
            for user_id in ids:
                await self.recount(user_id)
            seen, offset = seen + len(ids), offset + len(ids)
        await redis.execute("SET", self._keys.counts_ready(), "1")
        return seen
