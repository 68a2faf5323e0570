"""What `domain/scope.py` reads to enforce Administrative Units: who is in some of a set of
groups (a user's own group SET decides; the groups' member lists only find candidates), users
in creation order, and who holds a device.

Costs: a restricted administrator's listing reads the member lists of their groups and every
candidate's own group set, pipelined `CHUNK` at a time: O(users in scope), where an
unrestricted listing reads one page.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from authsvc.store.bypass import owner_of
from authsvc.store.core import StoreContext
from authsvc.store.listing import PLACE_FIELD, Listing

CHUNK = 1000


class ScopeStore:
    """Membership reads for the scope checks."""

    def __init__(self, ctx: StoreContext, listing: Listing) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._listing = listing

    async def members(self, groups: Collection[str]) -> set[str]:
        """Ids of the users in at least one of `groups` (each checked against its own set)."""
        if not groups:
            return set()
        lists = await self._ctx.redis.pipeline(
            [("ZRANGE", self._keys.group_members(group_id), 0, -1) for group_id in groups])
        return await self.in_groups({user_id for ids in lists for user_id in ids}, groups)

    async def in_groups(self, user_ids: Iterable[str], groups: Collection[str]) -> set[str]:
        """Those of `user_ids` who are in at least one of `groups`."""
        ids, wanted, inside = list(user_ids), set(groups), set[str]()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            replies = await self._ctx.redis.pipeline(
                [("SMEMBERS", self._keys.user_groups(user_id)) for user_id in chunk])
            inside.update(user_id for user_id, theirs in zip(chunk, replies, strict=True)
                          if not wanted.isdisjoint(theirs))
        return inside

    async def in_creation_order(self, user_ids: Iterable[str]) -> list[str]:
        """The existing users among `user_ids`, in the order of `get_users` (creation)."""
        ids = sorted(user_ids)
        places: dict[str, int | None] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            replies = await self._ctx.redis.pipeline(
                [("HMGET", self._keys.user(user_id), "username", PLACE_FIELD) for user_id in chunk])
            places.update((user_id, None if place is None else int(place))
                          for user_id, (username, place) in zip(chunk, replies, strict=True)
                          if username is not None)
        return await self._listing.order(places)

    async def bypass_owner(self, code_id: str) -> str | None:
        """The id of the user holding a bypass code (None: no such code)."""
        found = owner_of(await self._ctx.redis.execute(
            "HGET", self._keys.bypass_owner_index(), code_id))
        return None if found is None else found[0]
