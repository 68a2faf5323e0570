"""Hardware tokens in Redis: one record per token, and one copy of its counters per holder.

A token may be assigned to several users (seed 003). A passcode is decided with one user's
lockout count in that user's slot, so each holder keeps its own copy of the token's counters
in its token hash (as each user of a shared phone keeps its own copy of the app's passcode
state). The token's own record (`Keys.token_records`) holds the definition (type, serial, the
sealed seed: stored once, merged into the copies by `TokenDefinitions`), the counter a new
holder starts from, and the holders (`token_holders.lua`). Records and copies written by older
versions (a whole record in each copy, the holders in a set `Keys.token_holders`) are read as
they are and replaced as they change.

Consequences, accepted: a code one holder used can still be used once by each other holder (they
hold the same device); each holder's counter moves on its own, so a holder who rarely uses the
token may need the look-ahead window or automatic resync. A new holder starts at the furthest
counter (time step) any holder has reached, and a removed holder's copy is folded into the
token's record first, so no code already accepted for anyone works for a new holder.

Order across slots: the holders are written before a copy is made and after one is removed,
so they always name every user who holds a copy (a crash in between leaves a name with no copy,
shown by the token listing and removed by the next unassign); a copy nobody lists would be a
device the administrators cannot see.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from authsvc.errors import Conflict, NotFound
from authsvc.model.tokens import Token
from authsvc.store.core import StoreContext, flat_to_dict
from authsvc.store.keys.tagged import TOKEN_COPY_PREFIX
from authsvc.store.listing import Listing
from authsvc.store.records import (
    token_copies_of,
    token_copy_to_json,
    token_from_json,
    token_holders_of,
    token_place_of,
    token_to_json,
)
from authsvc.store.scripts import ScriptName
from authsvc.store.token_definitions import TokenDefinitions


class TokenStore:
    """CRUD of tokens, their holders' copies, and counter moves."""

    def __init__(self, ctx: StoreContext, definitions: TokenDefinitions) -> None:
        self._ctx = ctx
        self._keys = ctx.keys
        self._definitions = definitions
        self._listing = Listing(ctx, ctx.keys.tokens_listing())

    async def create(self, token: Token, *, order_ms: int) -> None:
        """Store a new token (no holder), listed at `order_ms`; Conflict when the serial is
        taken."""
        redis, keys = self._ctx.redis, self._keys
        claimed = await redis.execute("HSETNX", keys.token_serial_index(), token.serial,
                                      token.token_id)
        if not claimed:
            raise Conflict(f"serial already in use: {token.serial}")
        place = await self._listing.append(token.token_id, order_ms)
        await redis.execute("HSET", keys.token_records(), token.token_id,
                            token_to_json(token, place))
        self._definitions.remember(token)

    async def get(self, token_id: str) -> Token | None:
        """The token's own record with its holders, or None."""
        found = await self.get_many([token_id])
        return found[0] if found else None

    async def get_many(self, token_ids: Iterable[str]) -> list[Token]:
        """The tokens that exist among `token_ids`, in that order, with their holders."""
        ids = list(token_ids)
        if not ids:
            return []
        raws = await self._ctx.redis.execute("HMGET", self._keys.token_records(), *ids)
        found = [(token_id, raw) for token_id, raw in zip(ids, raws, strict=True) if raw]
        holders = {token_id: token_holders_of(raw) for token_id, raw in found}
        older = [token_id for token_id, listed in holders.items() if listed is None]
        if older:  # records from before the holders were kept in them
            for token_id, members in zip(older, await self._ctx.redis.pipeline(
                    [("SMEMBERS", self._keys.token_holders(t)) for t in older]), strict=True):
                holders[token_id] = tuple(sorted(members))
        tokens = []
        for token_id, raw in found:
            token = token_from_json(raw, None, token_id)
            self._definitions.remember(token)
            tokens.append(dataclasses.replace(token, holders=holders[token_id] or ()))
        return tokens

    async def by_serial(self, serial: str) -> Token | None:
        """The token with this serial, or None."""
        token_id = await self._ctx.redis.execute("HGET", self._keys.token_serial_index(), serial)
        return await self.get(token_id) if token_id else None

    async def page(self, offset: int, limit: int) -> tuple[list[Token], int]:
        """One page of tokens in creation order, and the total count."""
        ids, total = await self._listing.page(offset, limit)
        return await self.get_many(ids), total

    async def of_user(self, user_id: str) -> list[Token]:
        """The user's copies of the tokens it holds, oldest first."""
        user, older = await self._ctx.redis.pipeline([
            ("HGETALL", self._keys.user(user_id)), ("HGETALL", self._keys.user_tokens(user_id))])
        tokens = await self._definitions.read(
            token_copies_of(flat_to_dict(user), flat_to_dict(older)), user_id)
        return sorted(tokens, key=lambda token: (token.created, token.token_id))

    async def copies(self, token: Token) -> list[Token]:
        """Each holder's copy of the token (holders listed without a copy are left out)."""
        field, keys = TOKEN_COPY_PREFIX + token.token_id, self._keys
        replies = await self._ctx.redis.pipeline([command for user_id in token.holders for command in (
            ("HGET", keys.user(user_id), field), ("HGET", keys.user_tokens(user_id), token.token_id))])
        self._definitions.remember(token)
        found = (self._definitions.copy(mine or older, token.token_id, user_id)
                 for user_id, mine, older in zip(token.holders, replies[0::2], replies[1::2],
                                                 strict=True) if mine or older)
        return [copy for copy in found if copy is not None]

    async def _holders(self, op: str, token_id: str, user_id: str) -> int:
        """token_holders.lua (an older record's holder set is handed over the first time)."""
        keys = self._keys
        older = await self._ctx.redis.execute("SMEMBERS", keys.token_holders(token_id))
        return int(await self._ctx.scripts.run(
            ScriptName.TOKEN_HOLDERS, [keys.token_records()], [op, token_id, user_id, *older]))

    async def give(self, user_id: str, copy: Token) -> bool:
        """Make `user_id` a holder with `copy`'s counters; False if it held one already.
        Raises NotFound when the user does not exist (the holders are left as they were)."""
        keys = self._keys
        added = await self._holders("add", copy.token_id, user_id) == 1
        self._definitions.remember(copy)
        reply = await self._ctx.scripts.run(
            ScriptName.TOKEN_GIVE, [keys.user(user_id), *keys.counting(user_id)],
            [copy.token_id, token_copy_to_json(copy)])
        if reply == 0:
            if added:
                await self._holders("remove", copy.token_id, user_id)
            raise NotFound("user_id")
        return bool(reply == 1)

    async def take(self, user_id: str, token_id: str) -> Token | None:
        """Remove the user's copy (its counter folded into the token's record), then the user
        from the holders; None if the user held no copy."""
        keys = self._keys
        raw = await self._ctx.scripts.run(
            ScriptName.TOKEN_TAKE, [keys.user(user_id), *keys.counting(user_id)], [token_id])
        copy = None
        if raw:
            await self._definitions.fetch([token_id])
            copy = self._definitions.copy(raw, token_id, user_id)
        if copy is not None:
            await self.fold(copy)
        await self._holders("remove", token_id, user_id)
        return copy

    async def fold(self, copy: Token) -> None:
        """Move the token's record past every code `copy` (a former holder's) accepted."""
        await self._ctx.scripts.run(
            ScriptName.HOTP_SET_COUNTER, [self._keys.token_records()],
            [copy.token_id, copy.counter, copy.last_step])

    async def delete(self, token: Token) -> None:
        """Remove the token everywhere: every holder's copy, then the record and indexes."""
        for user_id in token.holders:
            await self.take(user_id, token.token_id)
        keys = self._keys
        raw = await self._ctx.redis.execute("HGET", keys.token_records(), token.token_id)
        await self._ctx.redis.pipeline([
            ("HDEL", keys.token_records(), token.token_id),
            ("HDEL", keys.token_serial_index(), token.serial),
            ("DEL", keys.token_holders(token.token_id)),  # an older version's holder set
        ])
        await self._listing.remove(token.token_id, token_place_of(raw) if raw else None)

    async def advance_counter(self, token: Token, counter: int) -> bool:
        """Move the next counter of the token's record and of every holder's copy forward to
        `counter` (manual resync); False if none of them moved."""
        keys = self._keys
        homes = [([keys.token_records()], token.token_id), *(
            ([keys.user(user_id), keys.user_tokens(user_id)], TOKEN_COPY_PREFIX + token.token_id)
            for user_id in token.holders)]
        replies = [await self._ctx.scripts.run(ScriptName.HOTP_SET_COUNTER, home,
                                               [field, counter, ""]) for home, field in homes]
        if replies[0] == 0:
            raise NotFound("token_id")
        return any(reply == 1 for reply in replies)
