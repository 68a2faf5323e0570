"""Users in Redis: records, the name index (usernames and aliases) and the listing order.

Atomicity: names are claimed and released by one script on the name index, so two users can never
hold one name. Creating, renaming and deleting a user touch keys in several slots (index, user
record, listing) and are not one transaction; the order is chosen so that a crash part-way leaves,
at worst, a name pointing at a user that does not exist, which `resolve` treats as absent and
cleans up. The record is written, and its status changed, by scripts that count the user in the
same call (`store/counts.py`); its counter shard is registered before the record exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from authsvc.errors import Conflict
from authsvc.model.admin_factors import is_admin_subject
from authsvc.model.users import User, UserStatus
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.listing import PLACE_FIELD, Listing
from authsvc.store.records import user_from_hash, user_to_hash
from authsvc.store.scripts import ScriptName
from authsvc.store.user_search import index_commands

# Fields an admin update may write; counters owned by the scripts are never in this list.
_PROFILE_FIELDS = ("username", "realname", "email", "notes", "firstname", "lastname", "aliases")


def _stored_fields(user: User) -> dict[str, str]:
    """A new user's record without its empty fields (absent reads as empty: a user with only a
    username costs about 100 bytes less)."""
    return {name: value for name, value in user_to_hash(user).items() if value not in ("", "{}")}


class UserStore:
    """CRUD for users, name resolution for the hot path."""

    def __init__(self, ctx: StoreContext, listing: Listing) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = listing

    async def _claim_names(self, user_id: str, release: Iterable[str], claim: Iterable[str]) -> None:
        releases = list(release)
        reply = await self._ctx.scripts.run(
            ScriptName.NAMES_CLAIM, [self._keys.username_index()],
            [user_id, len(releases), *releases, *claim])
        if reply[0] != 1:
            raise Conflict(f"username or alias already in use: {reply[1]}")

    async def create(self, user: User, *, order_ms: int) -> None:
        """Store a new user, listed at `order_ms`; raises Conflict when a name is taken."""
        keys = self._keys
        await self._claim_names(user.user_id, (), sorted(user.names))
        await self._ctx.redis.execute("SETBIT", keys.count_slots(), keys.user_slot(user.user_id), 1)
        created = await self._ctx.scripts.run(
            ScriptName.USER_CREATE, [keys.user(user.user_id), *keys.counting(user.user_id)],
            _flatten(_stored_fields(user)))
        if not created:  # a random id drawn twice: give the names back to their owner
            existing = await self.get(user.user_id)
            await self._claim_names(user.user_id, sorted(user.names - (existing.names if existing
                                                                       else set())), ())
            raise Conflict(f"user_id already in use: {user.user_id}")
        await self._ctx.redis.pipeline(index_commands(keys, None, user))
        place = await self._listing.append(user.user_id, order_ms)
        await self._ctx.scripts.run(ScriptName.HASH_SET_EXISTING, [keys.user(user.user_id)],
                                    [PLACE_FIELD, place])

    async def get(self, user_id: str) -> User | None:
        """The user, or None (also for an administrator's internal subject: no administrator
        reads or changes those through the user directory)."""
        if is_admin_subject(user_id):
            return None
        data = flat_to_dict(await self._ctx.redis.execute("HGETALL", self._keys.user(user_id)))
        return user_from_hash(data, user_id) if data else None

    async def get_many(self, user_ids: Iterable[str]) -> list[User]:
        """The users that exist among `user_ids`, in that order."""
        ids = [user_id for user_id in user_ids if not is_admin_subject(user_id)]
        if not ids:
            return []
        replies = await self._ctx.redis.pipeline(
            [("HGETALL", self._keys.user(user_id)) for user_id in ids])
        return [user_from_hash(flat_to_dict(reply), user_id)
                for user_id, reply in zip(ids, replies, strict=True) if reply]

    async def resolve(self, name: str) -> str | None:
        """The id of the user whose username or alias is `name` (already lowercased)."""
        user_id: str | None = await self._ctx.redis.execute(
            "HGET", self._keys.username_index(), name)
        return user_id

    async def resolve_many(self, names: list[str]) -> list[str | None]:
        """`resolve` for each name (one round trip)."""
        if not names:
            return []
        ids: list[str | None] = await self._ctx.redis.execute(
            "HMGET", self._keys.username_index(), *names)
        return ids

    async def forget_stale_name(self, name: str, user_id: str) -> None:
        """Drop a name that points at a user who no longer exists (left by a crashed write)."""
        await self._ctx.scripts.run(
            ScriptName.NAMES_CLAIM, [self._keys.username_index()], [user_id, 1, name])

    async def page_ids(self, offset: int, limit: int) -> tuple[list[str], int]:
        """One page of user ids in creation order, and the total count."""
        return await self._listing.page(offset, limit)

    async def count(self) -> int:
        """How many users are listed."""
        return await self._listing.count()

    async def page(self, offset: int, limit: int) -> tuple[list[User], int]:
        """One page of users in creation order, and the total count."""
        ids, total = await self.page_ids(offset, limit)
        return await self.get_many(ids), total

    async def update(self, before: User, after: User) -> bool:
        """Write the profile fields that changed (and the names); False if the user is gone."""
        changed = {name: value for name, value in user_to_hash(after).items()
                   if name in _PROFILE_FIELDS and user_to_hash(before).get(name) != value}
        if before.names != after.names:
            await self._claim_names(after.user_id, before.names - after.names,
                                    sorted(after.names - before.names))
        if not changed:
            return True
        written = await self._set_existing(after.user_id, changed)
        if written and (search := index_commands(self._keys, before, after)):
            await self._ctx.redis.pipeline(search)
        return written

    async def set_status(self, user_id: str, status: UserStatus) -> bool:
        """An admin's status change, counted; leaving lockout also clears the failure count.
        False if the user is gone; raises Conflict for a user in the Trash."""
        keys = self._keys
        reply = await self._ctx.scripts.run(
            ScriptName.USER_STATUS, [keys.user(user_id), *keys.counting(user_id)], [status.value])
        if reply == 2:
            raise Conflict("status (the user is in the Trash: restore it first)")
        return bool(reply)

    async def _set_existing(self, user_id: str, fields: Mapping[str, str]) -> bool:
        reply = await self._ctx.scripts.run(
            ScriptName.HASH_SET_EXISTING, [self._keys.user(user_id)], _flatten(fields))
        return bool(reply)

def _flatten(fields: Mapping[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]
