"""The Admin Panel's user search index: one sorted set whose members are
``<term> NUL <user id>`` (every score 0), so a prefix search is one ZRANGEBYLEX whatever the
number of users.

Terms of a user: the username, each alias, the email, the full name and each word of it, all
lowercased. The index is written next to the record by `UserStore` (create, update, delete), not
in the same atomic call (the index key has no user tag): a crash in between leaves a term
pointing at a user who no longer has it, or a user missing one term until the next change.
Readers therefore check every hit against the record they load (`UserSearch` in the domain),
and `rebuild` (run at start-up until `user_search_ready` is set) indexes users stored before
the index existed.
"""

from __future__ import annotations

from collections.abc import Iterable

from authsvc.model.users import User, search_terms
from authsvc.store.core import StoreContext
from authsvc.store.keys import Keys

SEPARATOR = "\x00"


def index_commands(keys: Keys, before: User | None,
                   after: User | None) -> list[tuple[str | int, ...]]:
    """The ZREM/ZADD that move a user's terms from `before` to `after` (None: absent)."""
    old = search_terms(before) if before else set()
    new = search_terms(after) if after else set()
    user = after or before
    user_id = user.user_id if user else ""
    commands: list[tuple[str | int, ...]] = []
    if old - new:
        commands.append(("ZREM", keys.user_search(),
                         *[f"{term}{SEPARATOR}{user_id}" for term in sorted(old - new)]))
    if new - old:
        commands.append(("ZADD", keys.user_search(),
                         *[item for term in sorted(new - old)
                           for item in (0, f"{term}{SEPARATOR}{user_id}")]))
    return commands


class UserSearchStore:
    """Prefix search over the index, and its rebuild."""

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx
        self._keys = ctx.keys

    async def prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` distinct user ids with a term starting with `prefix` (lowercased),
        in term order (one round trip)."""
        low = b"[" + prefix.encode()
        high = b"[" + prefix.encode() + b"\xff"  # no UTF-8 byte is 0xff
        members: list[str] = await self._ctx.redis.execute(
            "ZRANGEBYLEX", self._keys.user_search(), low, high, "LIMIT", 0, limit * 4)
        found: list[str] = []
        for member in members:
            user_id = member.rpartition(SEPARATOR)[2]
            if user_id not in found:
                found.append(user_id)
        return found[:limit]

    async def add(self, users: Iterable[User]) -> None:
        """Index these users (idempotent)."""
        commands = [command for user in users
                    for command in index_commands(self._keys, None, user)]
        if commands:
            await self._ctx.redis.pipeline(commands)

    async def statuses(self, user_ids: list[str]) -> list[str | None]:
        """Each user's status (None: gone), in one pipelined round trip."""
        if not user_ids:
            return []
        replies: list[str | None] = await self._ctx.redis.pipeline(
            [("HGET", self._keys.user(user_id), "status") for user_id in user_ids])
        return replies

    async def ready(self) -> bool:
        return bool(await self._ctx.redis.execute("EXISTS", self._keys.user_search_ready()))

    async def mark_ready(self) -> None:
        await self._ctx.redis.execute("SET", self._keys.user_search_ready(), "1")
