"""Groups in Redis: records, the listing, memberships, and the per-process cache decisions read.

Where group data meets a decision (the choice, and why): group records live in their own slot
(``{g:<id>}``) and are shared by many users, so the decision scripts, which run in one user's
slot, cannot read them. They are therefore read in Python and handed to the scripts as
arguments (the status the user's groups impose), and atomicity comes from a version in the
user's own record: ``groups_v``, moved by user_groups.lua on every membership change of the user
and on every change of a group of theirs that decides something (status, switches, deletion).
The status gate compares it with the version the decision read and refuses a stale decision
before it changes anything; the caller reloads and decides again. Copying each group's status
into every member's record was the alternative: the same fan-out on a group change, but two
admins changing two groups of one user at once could then leave a wrong copy behind (each writes
a value computed from what it read), where an increment cannot be lost.

Costs: decisions read the user's group ids and the groups' version in the round trip that loads
the user (no extra round trip); group records come from a per-process cache re-read only when
the version (`GROUPS_VERSION_FIELD` of the settings hash, moved by every change to a group)
moved, like the account settings. A change to a group's status or switches costs its members
one script call each (pipelined, `FANOUT_CHUNK` at a time).

Races, accepted: a decision that committed before a group change reached its user's record was
ordered before that change; once `update` or `delete` returns, no decision computed from the old
group commits. Order of writes: the record, then the version (a process seeing the new version
reads the new record), then the members' ``groups_v``. Membership: the group's member list first,
then the user's set (a crash between leaves the list naming a non-member, which readers check);
leaving: the user's set first, then the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from authsvc.model.groups import Group, GroupStatus
from authsvc.store.account import GROUPS_VERSION_FIELD
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.listing import PLACE_FIELD, Listing
from authsvc.store.scripts import ScriptName

SWITCH_FIELDS = ("push_enabled", "sms_enabled", "voice_enabled", "mobile_otp_enabled",
                 "u2f_enabled")
FANOUT_CHUNK = 1000
CACHE_MAX = 100_000


def group_to_hash(group: Group) -> dict[str, str]:
    """A group record (switches as "1"/"0")."""
    fields = {"group_id": group.group_id, "name": group.name, "desc": group.desc,
              "status": group.status.value, "created": str(group.created)}
    fields.update({switch: "1" if getattr(group, switch) else "0" for switch in SWITCH_FIELDS})
    return fields


def group_from_hash(data: Mapping[str, str]) -> Group:
    """The group stored in a hash."""
    switches = {switch: data.get(switch, "1") != "0" for switch in SWITCH_FIELDS}
    return Group(group_id=data["group_id"], name=data["name"], desc=data.get("desc", ""),
                 status=GroupStatus(data.get("status") or "active"),
                 created=int(data.get("created") or 0), **switches)


class GroupStore:
    """Create, read, change and delete groups; who is in them."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = Listing(ctx, ctx.keys.groups_listing())
        self._cache: dict[str, Group | None] = {}
        self._cache_version: str | None = None

    # --- what the hot path reads ---------------------------------------------------------------

    def version_command(self) -> tuple[str, str, str]:
        """The command reading the groups' version (pipelined with the user record)."""
        return ("HGET", self._keys.account_settings(), GROUPS_VERSION_FIELD)

    def _move_version(self) -> tuple[str, str, str, int]:
        return ("HINCRBY", self._keys.account_settings(), GROUPS_VERSION_FIELD, 1)

    def ids_command(self, user_id: str) -> tuple[str, str]:
        """The command reading the user's group ids (pipelined with the user record)."""
        return ("SMEMBERS", self._keys.user_groups(user_id))

    async def records(self, group_ids: Sequence[str], version: str | None) -> list[Group]:
        """The existing groups among `group_ids`, from the cache when it holds them at
        `version` (read with the user), else read now (one round trip) and remembered."""
        if version != self._cache_version or len(self._cache) > CACHE_MAX:
            self._cache = {}
            self._cache_version = version
        # Records read now are at least as new as `version`; they are kept only if the cache
        # still stands for it (a request that read a newer version may have replaced it while
        # this one waited, and must not get older records under its version).
        cache = self._cache
        found = {group_id: cache[group_id] for group_id in group_ids if group_id in cache}
        missing = [group_id for group_id in group_ids if group_id not in found]
        if missing:
            replies = await self._ctx.redis.pipeline(
                [("HGETALL", self._keys.group(group_id)) for group_id in missing])
            for group_id, reply in zip(missing, replies, strict=True):
                data = flat_to_dict(reply)
                found[group_id] = group_from_hash(data) if data else None
            if self._cache is cache:
                cache.update((group_id, found[group_id]) for group_id in missing)
        return [group for group_id in group_ids if (group := found.get(group_id))]

    # --- administration ------------------------------------------------------------------------

    async def create(self, group: Group, *, order_ms: int) -> None:
        """Store a new group, listed at `order_ms`."""
        fields = [item for pair in group_to_hash(group).items() for item in pair]
        await self._ctx.redis.execute("HSET", self._keys.group(group.group_id), *fields)
        place = await self._listing.append(group.group_id, order_ms)
        # Into the record only if it still exists: never a record holding a place alone.
        await self._ctx.scripts.run(ScriptName.HASH_SET_EXISTING,
                                    [self._keys.group(group.group_id)], [PLACE_FIELD, place])

    async def get(self, group_id: str) -> Group | None:
        """The group as stored now, or None."""
        data = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.group(group_id)))
        return group_from_hash(data) if data else None

    async def get_many(self, group_ids: Sequence[str]) -> list[Group]:
        """The existing groups among `group_ids`, in that order (read now)."""
        if not group_ids:
            return []
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.group(group_id)) for group_id in group_ids])
        return [group_from_hash(flat_to_dict(reply)) for reply in replies if reply]

    async def page(self, offset: int, limit: int) -> tuple[list[Group], int]:
        """One page of groups in creation order, and the total."""
        ids, total = await self._listing.page(offset, limit)
        return await self.get_many(ids), total

    async def update(self, before: Group, after: Group) -> bool:
        """Write the fields that differ from `before` (so two admins changing different
        fields both win); False if the group was deleted meanwhile. The version moves (cached
        copies, shown in user objects too, are re-read); when the change decides something for
        members, every member's record is told as well."""
        old = group_to_hash(before)
        fields = [item for name, value in group_to_hash(after).items() if old.get(name) != value
                  for item in (name, value)]
        if not fields:
            return await self.get(after.group_id) is not None
        written = await self._ctx.scripts.run(
            ScriptName.HASH_SET_EXISTING, [self._keys.group(after.group_id)], fields)
        if not written:
            return False
        await self._ctx.redis.execute(*self._move_version())
        if before.decides_differently(after):
            await self._tell_members(after.group_id, "touch")
        return True

    async def delete(self, group_id: str) -> None:
        """Delete the group: every member leaves it (their records told), then the record."""
        await self._tell_members(group_id, "leave")
        keys = self._keys
        place, *_ = await self._ctx.redis.pipeline([
            ("HGET", keys.group(group_id), PLACE_FIELD),
            ("DEL", keys.group(group_id), keys.group_members(group_id)),
            self._move_version()])
        await self._listing.remove(group_id, None if place is None else int(place))

    async def _tell_members(self, group_id: str, op: str) -> None:
        """Run user_groups.lua `op` for every listed member, a chunk at a time."""
        members = await self._ctx.redis.execute(
            "ZRANGE", self._keys.group_members(group_id), 0, -1)
        for start in range(0, len(members), FANOUT_CHUNK):
            await self._ctx.scripts.run_many(ScriptName.USER_GROUPS, [
                ([self._keys.user(user_id), self._keys.user_groups(user_id)], [op, group_id])
                for user_id in members[start:start + FANOUT_CHUNK]])

    # --- memberships ---------------------------------------------------------------------------

    async def add_member(self, group_id: str, user_id: str, *, now_ms: int) -> str:
        """Put the user in the group: "" done, else "group_id" or "user_id" (which is gone)."""
        keys = self._keys
        listed = await self._ctx.scripts.run(
            ScriptName.GROUP_MEMBER_ADD, [keys.group(group_id), keys.group_members(group_id)],
            [user_id, now_ms])
        if not listed:
            return "group_id"
        if not await self._user_op(user_id, "join", group_id):
            await self._ctx.redis.execute("ZREM", keys.group_members(group_id), user_id)
            return "user_id"
        return ""

    async def remove_member(self, group_id: str, user_id: str) -> bool:
        """Take the user out of the group; False if they were not in it."""
        left = await self._user_op(user_id, "leave", group_id)
        await self._ctx.redis.execute("ZREM", self._keys.group_members(group_id), user_id)
        return left

    async def _user_op(self, user_id: str, op: str, group_id: str) -> bool:
        reply = await self._ctx.scripts.run(
            ScriptName.USER_GROUPS, [self._keys.user(user_id), self._keys.user_groups(user_id)],
            [op, group_id])
        return bool(reply)

    async def of_user(self, user_id: str) -> list[str]:
        """The ids of the user's groups (some may name deleted groups: read their records)."""
        ids: list[str] = await self._ctx.redis.execute("SMEMBERS", self._keys.user_groups(user_id))
        return ids

    async def members_page(self, group_id: str, offset: int, limit: int
                           ) -> tuple[list[tuple[str, str]], int]:
        """One page of (user id, username) of the group's members by joining time, and the
        count; users gone, or no longer in the group, are left out."""
        keys = self._keys
        ids, total = await self._ctx.redis.pipeline([
            ("ZRANGE", keys.group_members(group_id), offset, offset + limit - 1),
            ("ZCARD", keys.group_members(group_id))])
        if not ids:
            return [], int(total)
        replies = await self._ctx.redis.pipeline([command for user_id in ids for command in (
            ("HGET", keys.user(user_id), "username"),
            ("SISMEMBER", keys.user_groups(user_id), group_id))])
        rows = [(user_id, replies[2 * i]) for i, user_id in enumerate(ids)
                if replies[2 * i] is not None and replies[2 * i + 1]]
        return rows, int(total)
